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
from datetime import date
from typing import TYPE_CHECKING, Any

from clickstream_common import compaction, schema

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import ObjectTypeDef


@dataclass
class DayFiles:
    """One event day's Parquet: compacted files, files not compacted yet, compaction counts."""

    compacted_files: int = 0
    uncompacted_files: int = 0
    rows: int = 0
    duplicates_removed: int = 0
    conflicts: int = 0
    awaiting_delete: int = 0
    republished_sources: int = 0
    compacted: bool = False


@dataclass
class Inventory:
    """Counts at each stage; ``quarantine_by_reason`` maps reason -> records."""

    events_prefix: str = schema.EVENTS_PREFIX
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
    #: Rows the compactor removed as duplicates (later arrivals of an event_id), per its manifests.
    duplicates_removed: int = 0
    #: Rows queries still see but that are on their way out: inputs of a committed compaction
    #: not deleted yet (the window), and the folded rows of a source published again.
    stale_rows: int = 0
    #: Day -> files, compacted or not, and the compaction's counts.
    days: dict[str, DayFiles] = field(default_factory=dict)

    @property
    def records_out(self) -> int:
        """Every record that left the transformer: in Parquet (once), quarantined, or removed by
        the compactor as a duplicate."""
        return (
            self.parquet_rows - self.stale_rows + self.quarantine_records + self.duplicates_removed
        )

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
            f"in {self.parquet_files} files, quarantined={self.quarantine_records} {reasons}, "
            f"duplicates_removed={self.duplicates_removed}, stale_rows={self.stale_rows}"
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
    compaction_prefix: str = compaction.COMPACTION_PREFIX,
) -> Inventory:
    """Count raw objects, processed sources, Parquet rows (by day, compacted or not), quarantined
    records (by reason) and the duplicates the compactor removed."""
    inv = Inventory(events_prefix=events_prefix)
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
    file_rows: dict[str, int] = {}
    for obj in iter_objects(s3, transformed_bucket, events_prefix):
        if not obj["Key"].endswith(".parquet"):
            continue
        rows = parquet_num_rows(s3, transformed_bucket, obj["Key"], obj["Size"])
        file_rows[obj["Key"]] = rows
        inv.parquet_files += 1
        inv.parquet_rows += rows
        day = day_of_key(obj["Key"])
        if day:
            inv.rows_by_day[day] += rows
            files = inv.days.setdefault(day, DayFiles())
            files.rows += rows
            if compaction.is_compacted(obj["Key"]):
                files.compacted_files += 1
            else:
                files.uncompacted_files += 1
    _count_compaction(s3, transformed_bucket, compaction_prefix, file_rows, inv)
    for obj in iter_objects(s3, transformed_bucket, quarantine_prefix):
        inv.quarantine_files += 1
        for entry in _jsonl(
            s3.get_object(Bucket=transformed_bucket, Key=obj["Key"])["Body"].read()
        ):
            inv.quarantine_records += 1
            inv.quarantine_by_reason[str(entry.get("reason", "?"))] += 1
    return inv


def _count_compaction(
    s3: S3Client, bucket: str, prefix: str, file_rows: dict[str, int], inv: Inventory
) -> None:
    """Fold the compactor's day manifests into the counts (``clickstream_common.compaction``)."""
    for obj in iter_objects(s3, bucket, prefix):
        if not obj["Key"].endswith("/manifest.json"):
            continue
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        manifest = compaction.parse_manifest(body)
        if manifest is None:
            continue
        files = inv.days.setdefault(manifest.day, DayFiles())
        files.compacted = bool(manifest.files)
        duplicates = manifest.duplicate_rows
        # The window: inputs of the committed run, still listed until they are deleted.
        waiting = {v.key for v in manifest.pending_deletes}
        stale = sum(file_rows.get(k, 0) for k in waiting)
        files.awaiting_delete = sum(1 for k in waiting if k in file_rows)
        # A folded source with a new delta: its folded rows give way at the next run.
        day_prefix = compaction.day_prefix(date.fromisoformat(manifest.day), inv.events_prefix)
        for key in file_rows:
            if not key.startswith(day_prefix) or key in waiting:
                continue
            source = compaction.delta_source(key)
            folded = manifest.sources.get(source) if source else None
            if folded is not None:
                files.republished_sources += 1
                stale += folded.kept
                duplicates -= folded.rows - folded.kept
        files.duplicates_removed = duplicates
        files.conflicts = manifest.conflicts
        inv.stale_rows += stale
        inv.duplicates_removed += duplicates


def inventory_from_outputs(s3: S3Client, outputs: Mapping[str, Any]) -> Inventory:
    """:func:`take_inventory` with bucket names and prefixes from the Terraform outputs."""
    return take_inventory(
        s3,
        raw_bucket=str(outputs["raw_bucket"]),
        transformed_bucket=str(outputs["transformed_bucket"]),
        raw_prefix=str(outputs.get("raw_prefix") or schema.RAW_PREFIX),
        events_prefix=str(outputs.get("events_prefix") or schema.EVENTS_PREFIX),
        quarantine_prefix=str(outputs.get("quarantine_prefix") or schema.QUARANTINE_PREFIX),
        compaction_prefix=str(outputs.get("compaction_prefix") or compaction.COMPACTION_PREFIX),
    )
