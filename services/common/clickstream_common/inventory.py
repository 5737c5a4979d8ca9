"""Count what sits at each stage of the pipeline in S3: the basis of reconciliation.

Used by `make status`, `make demo`'s wait step, the end-to-end tests and the freshness bench, so
"how many rows made it" is computed one way everywhere. Parquet row counts come from file footers
(a ranged read of the tail), never from scanning data.

Three independent views are counted, so a disagreement shows where data is stuck:

* raw objects (what Firehose delivered);
* the transformer's per-source manifests (``manifests/<digest>.json``: which raw key was
  processed, which version of it (ETag), with how many records in) - a raw key without a
  manifest is pending or failed, and so is one whose manifest names another ETag than the raw
  object's current one (*stale*: the key was overwritten and the new version is not, or not
  yet, what the outputs hold);
* the outputs themselves: Parquet rows (by event day) and quarantine JSONL lines (by reason).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clickstream_common import schema

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import ObjectTypeDef


@dataclass
class Inventory:
    """Counts at each stage; ``quarantine_by_reason`` maps reason -> records."""

    raw_objects: int = 0
    raw_bytes: int = 0
    raw_keys: set[str] = field(default_factory=set, repr=False)
    #: Raw key -> ETag of its current version (unquoted).
    raw_etags: dict[str, str | None] = field(default_factory=dict, repr=False)
    #: Raw keys the transformer finished (it wrote a manifest for them), whatever the version.
    processed_keys: set[str] = field(default_factory=set, repr=False)
    #: Raw key -> ETag of the version its manifest describes (unquoted).
    manifest_etags: dict[str, str | None] = field(default_factory=dict, repr=False)
    #: Records the transformer read, summed over its manifests.
    records_in: int = 0
    parquet_files: int = 0
    parquet_rows: int = 0
    quarantine_files: int = 0
    quarantine_records: int = 0
    quarantine_by_reason: Counter[str] = field(default_factory=Counter)
    rows_by_day: Counter[str] = field(default_factory=Counter)

    @property
    def records_out(self) -> int:
        """Every record that left the transformer, good or quarantined."""
        return self.parquet_rows + self.quarantine_records

    @property
    def stale_keys(self) -> list[str]:
        """Raw objects whose manifest describes another version than the current one."""
        return sorted(
            k
            for k in self.raw_keys & self.processed_keys
            if self.manifest_etags.get(k) != self.raw_etags.get(k)
        )

    @property
    def processed_objects(self) -> int:
        """Raw objects whose current version the outputs describe."""
        return len(self.raw_keys) - len(self.unprocessed_keys)

    @property
    def unprocessed_keys(self) -> list[str]:
        """Raw objects with no manifest for their current version (none at all, or a stale one):
        still in flight, or failed."""
        return sorted((self.raw_keys - self.processed_keys) | set(self.stale_keys))

    @property
    def reconciled(self) -> bool:
        """Every raw object's current version processed and ``records in == Parquet rows +
        quarantined``."""
        return not self.unprocessed_keys and self.records_in == self.records_out

    def summary(self) -> str:
        """One line for logs and timeout messages."""
        reasons = dict(sorted(self.quarantine_by_reason.items()))
        return (
            f"raw={self.raw_objects} objects ({self.processed_objects} processed, "
            f"{len(self.stale_keys)} stale), "
            f"records_in={self.records_in}, parquet_rows={self.parquet_rows} "
            f"in {self.parquet_files} files, quarantined={self.quarantine_records} {reasons}"
        )


def bare_etag(etag: str | None) -> str | None:
    """An ETag without quotes (S3 events carry it bare, listings and GetObject quoted)."""
    if not etag:
        return None
    return etag.strip().strip('"') or None


def iter_objects(s3: S3Client, bucket: str, prefix: str) -> Iterator[ObjectTypeDef]:
    """All objects under a prefix (paginated)."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def parquet_num_rows(s3: S3Client, bucket: str, key: str, size: int) -> int:
    """Row count of one Parquet object from its footer (reads the last 64 KiB, more if needed)."""
    import pyarrow.parquet as pq

    tail = min(size, 64 * 1024)
    body = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=-{tail}")["Body"].read()
    footer_len = int.from_bytes(body[-8:-4], "little")
    if footer_len + 8 > len(body):  # footer larger than the tail we read: fetch the whole object
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return int(pq.ParquetFile(io.BytesIO(body)).metadata.num_rows)
    # A Parquet file is "PAR1" + data + footer + len + "PAR1"; parse the footer alone.
    padded = b"PAR1" + body[-(footer_len + 8) :]
    return int(pq.ParquetFile(io.BytesIO(padded)).metadata.num_rows)


def day_of_key(key: str) -> str | None:
    """``events/year=2024/month=12/day=25/x.parquet`` -> ``2024-12-25``."""
    parts = dict(p.split("=", 1) for p in key.split("/") if "=" in p)
    if all(k in parts for k in schema.PARTITION_KEYS):
        return "-".join(parts[k] for k in schema.PARTITION_KEYS)
    return None


def _jsonl(body: bytes) -> Iterator[dict[str, Any]]:
    for line in body.splitlines():
        if line.strip():
            yield json.loads(line)


def quarantine_entries(s3: S3Client, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """Every quarantine entry (one JSON object per line, as the transformer writes them:
    ``source_bucket, source_key, line, offset, reason, [error], [event_id], raw, [raw_base64]``)."""
    for obj in iter_objects(s3, bucket, prefix):
        yield from _jsonl(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())


def take_inventory(
    s3: S3Client,
    *,
    raw_bucket: str,
    transformed_bucket: str,
    raw_prefix: str = schema.RAW_PREFIX,
    events_prefix: str = schema.EVENTS_PREFIX,
    quarantine_prefix: str = schema.QUARANTINE_PREFIX,
    manifests_prefix: str = schema.MANIFESTS_PREFIX,
) -> Inventory:
    """Count raw objects, processed sources, Parquet rows and quarantined records (by reason)."""
    inv = Inventory()
    for obj in iter_objects(s3, raw_bucket, raw_prefix):
        if obj["Key"].endswith("/"):
            continue
        inv.raw_objects += 1
        inv.raw_bytes += obj["Size"]
        inv.raw_keys.add(obj["Key"])
        inv.raw_etags[obj["Key"]] = bare_etag(obj.get("ETag"))
    for obj in iter_objects(s3, transformed_bucket, manifests_prefix):
        body = s3.get_object(Bucket=transformed_bucket, Key=obj["Key"])["Body"].read()
        try:
            doc = json.loads(body)
        except ValueError:
            continue
        if doc.get("source_bucket") == raw_bucket and "source_key" in doc:
            inv.processed_keys.add(doc["source_key"])
            inv.manifest_etags[doc["source_key"]] = bare_etag(doc.get("etag"))
            inv.records_in += int(doc.get("records_in", 0))
    for obj in iter_objects(s3, transformed_bucket, events_prefix):
        if not obj["Key"].endswith(".parquet"):
            continue
        rows = parquet_num_rows(s3, transformed_bucket, obj["Key"], obj["Size"])
        inv.parquet_files += 1
        inv.parquet_rows += rows
        day = day_of_key(obj["Key"])
        if day:
            inv.rows_by_day[day] += rows
    for obj in iter_objects(s3, transformed_bucket, quarantine_prefix):
        inv.quarantine_files += 1
        for entry in _jsonl(
            s3.get_object(Bucket=transformed_bucket, Key=obj["Key"])["Body"].read()
        ):
            inv.quarantine_records += 1
            inv.quarantine_by_reason[str(entry.get("reason", "?"))] += 1
    return inv


def inventory_from_outputs(s3: S3Client, outputs: Mapping[str, Any]) -> Inventory:
    """:func:`take_inventory` with bucket names and prefixes from the Terraform outputs."""
    return take_inventory(
        s3,
        raw_bucket=str(outputs["raw_bucket"]),
        transformed_bucket=str(outputs["transformed_bucket"]),
        raw_prefix=str(outputs.get("raw_prefix") or schema.RAW_PREFIX),
        events_prefix=str(outputs.get("events_prefix") or schema.EVENTS_PREFIX),
        quarantine_prefix=str(outputs.get("quarantine_prefix") or schema.QUARANTINE_PREFIX),
    )
