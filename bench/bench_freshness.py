"""Freshness: time from `put_record_batch` until the rows are visible to DuckDB (the local Athena).

Needs the local stack (`make up`). Each round sends one batch of freshly generated events, their
user ids tagged with a round tag, to the deployed Firehose, then polls until a *fresh* DuckDB
view over the transformed bucket (the route `clickstream-query` uses: list the Parquet files,
register an Arrow dataset, query) returns every tagged row. Each round is split into stages, so
a slow stage shows itself:

* put_record_batch -> raw object in S3 (Firehose: its buffering interval, printed with the table),
* -> Parquet object in S3 (S3 notification + Lambda),
* -> rows in DuckDB (listing + query).

Baseline in the same run: a plain S3 put+get round trip to the same LocalStack, the floor every
stage sits on. What the bench sent (raw objects, their Parquet/quarantine outputs and manifests)
is deleted afterwards unless ``--keep``, so `make demo` and the queries never see bench rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

import boto3

from bench.common import render_table
from clickstream_common import schema
from clickstream_common.outputs import load_outputs
from generator.pipeline import GenConfig, generate_records

if TYPE_CHECKING:
    from types_boto3_firehose.type_defs import RecordTypeDef

TARGET_P50_S = 3.0


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 1])."""
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def visible_rows(bucket: str, prefix: str, database: str, tag: str) -> int:
    """Rows of this round (by user_id tag) that a fresh DuckDB view over S3 returns."""
    from athena_local.catalog import ArrowSource, NoEventsError, attach_events, connect

    con = connect()
    try:
        attach_events(con, ArrowSource.s3(bucket, prefix), database)
        row = con.execute(
            f"SELECT count(*) FROM {database}.events WHERE starts_with(user_id, ?)", [tag]
        ).fetchone()
    except NoEventsError:
        return 0
    finally:
        con.close()
    return int(row[0]) if row else 0


def keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    found: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.update(o["Key"] for o in page.get("Contents", []))
    return found


def batch(round_no: int, size: int, tag: str) -> list[RecordTypeDef]:
    """``size`` valid events of the last hour, user ids prefixed with ``tag``."""
    now_ms = int(time.time() * 1000)
    cfg = GenConfig(seed=round_no, start_ms=now_ms - 3_600_000, end_ms=now_ms, count=size)
    marker = b'"user_id":"'
    return [
        {"Data": rec.data.replace(marker, marker + tag.encode(), 1)}
        for rec in generate_records(cfg)
    ]


def s3_floor(s3: Any, bucket: str, rounds: int) -> list[float]:
    """Same-run baseline: one small S3 put + get round trip."""
    times = []
    for _ in range(rounds):
        key = f"bench/freshness-floor/{uuid.uuid4().hex}"
        t0 = time.perf_counter()
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        times.append(time.perf_counter() - t0)
        purge(s3, bucket, [key])
    return times


def purge(s3: Any, bucket: str, doomed: list[str]) -> None:
    """Delete every version of ``doomed`` keys (the buckets are versioned)."""
    for key in doomed:
        versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
        objs = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])
            if v["Key"] == key
        ]
        if objs:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objs})


def clean_up(s3: Any, out: dict[str, Any], raw_keys: set[str]) -> int:
    """Remove the bench's raw objects and everything the transformer made from them."""
    raw, dest = str(out["raw_bucket"]), str(out["transformed_bucket"])
    doomed: list[str] = []
    for key in keys(s3, dest, schema.MANIFESTS_PREFIX):
        doc = json.loads(s3.get_object(Bucket=dest, Key=key)["Body"].read())
        if doc.get("source_bucket") == raw and doc.get("source_key") in raw_keys:
            doomed += [*doc.get("keys", []), key]
    purge(s3, dest, doomed)
    purge(s3, raw, sorted(raw_keys))
    return len(raw_keys)


def run(rounds: int, size: int, timeout: float, keep: bool) -> int:
    out = load_outputs()
    s3, fh = boto3.client("s3"), boto3.client("firehose")
    raw, raw_prefix = str(out["raw_bucket"]), str(out.get("raw_prefix") or schema.RAW_PREFIX)
    dest, prefix = str(out["transformed_bucket"]), str(out["events_prefix"])
    database, stream = str(out["glue_database"]), str(out["firehose_name"])

    floor = s3_floor(s3, dest, rounds)
    stages: dict[str, list[float]] = {"raw": [], "parquet": [], "duckdb": []}
    raw_before = keys(s3, raw, raw_prefix)
    failed = None
    try:
        for i in range(rounds):
            tag = f"fresh{uuid.uuid4().hex[:8]}-"
            records = batch(i, size, tag)
            raw_seen = keys(s3, raw, raw_prefix)
            parquet_seen = keys(s3, dest, prefix)
            t0 = time.perf_counter()
            resp = fh.put_record_batch(DeliveryStreamName=stream, Records=records)
            if resp["FailedPutCount"]:
                failed = f"round {i}: {resp['FailedPutCount']} records failed"
                break
            marks: dict[str, float] = {}
            while "duckdb" not in marks:
                elapsed = time.perf_counter() - t0
                if elapsed > timeout:
                    failed = f"round {i}: not visible after {timeout:.0f}s (see make status)"
                    break
                if "raw" not in marks and keys(s3, raw, raw_prefix) - raw_seen:
                    marks["raw"] = elapsed
                if (
                    "raw" in marks
                    and "parquet" not in marks
                    and keys(s3, dest, prefix) - parquet_seen
                ):
                    marks["parquet"] = time.perf_counter() - t0
                if "parquet" in marks and visible_rows(dest, prefix, database, tag) >= len(records):
                    marks["duckdb"] = time.perf_counter() - t0
                else:
                    time.sleep(0.02)
            if failed:
                break
            for stage, value in marks.items():
                stages[stage].append(value)
    finally:
        if not keep:
            cleaned = clean_up(s3, out, keys(s3, raw, raw_prefix) - raw_before)
            print(f"cleaned up {cleaned} raw objects sent by the bench and their outputs")
    if failed:
        print(failed, file=sys.stderr)
        return 1

    names = {
        "raw": "put_record_batch -> raw object in S3",
        "parquet": "put_record_batch -> Parquet in S3",
        "duckdb": "put_record_batch -> rows in DuckDB",
    }
    table = [["S3 put+get round trip (baseline)", rounds, *summary(floor)]]
    table += [[names[k], len(v), *summary(v)] for k, v in stages.items()]
    hints = fh.describe_delivery_stream(DeliveryStreamName=stream)["DeliveryStreamDescription"][
        "Destinations"
    ][0]["ExtendedS3DestinationDescription"]["BufferingHints"]
    print(
        f"\nFreshness, {rounds} batches of {size} events (seconds), Firehose buffering "
        f"{hints['SizeInMBs']} MiB / {hints['IntervalInSeconds']} s (the interval is most of "
        "the raw stage):"
    )
    print(render_table(["stage", "n", "p50 s", "p95 s", "max s"], table))
    p50 = statistics.median(stages["duckdb"])
    verdict = "meets" if p50 <= TARGET_P50_S else "MISSES"
    print(
        f"p50 to DuckDB: {p50:.2f} s = {p50 / statistics.median(floor):.0f}x the S3 round trip; "
        f"{verdict} the target of <= {TARGET_P50_S:.0f} s"
    )
    return 0


def summary(values: list[float]) -> list[float]:
    return [statistics.median(values), percentile(values, 0.95), max(values)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--size", type=int, default=200, help="events per batch")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per round")
    ap.add_argument("--quick", action="store_true", help="5 rounds")
    ap.add_argument("--keep", action="store_true", help="leave the bench's data in the buckets")
    args = ap.parse_args(argv)
    return run(5 if args.quick else args.rounds, args.size, args.timeout, args.keep)


if __name__ == "__main__":
    sys.exit(main())
