"""Wait until everything a generator run sent is in Parquet or the quarantine, then print counts.

`make demo` runs it between sending events and querying them. "Done" means: every raw object
has been processed by the transformer (it wrote a manifest naming the object's current ETag;
a stale manifest does not count), what it read equals Parquet rows plus quarantined records,
and those hold at least what the generator's manifest says it sent (exactly, when the buckets
held nothing else). Exit 1 with the counts on timeout.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from clickstream_common import target
from clickstream_common.inventory import Inventory, inventory_from_outputs
from clickstream_common.outputs import OutputsNotFoundError, load_outputs


def done(inv: Inventory, want_good: int, want_bad: int) -> bool:
    """All raw objects processed, counts reconciled, and the run's records all arrived."""
    return inv.reconciled and inv.parquet_rows >= want_good and inv.quarantine_records >= want_bad


def read_manifest(path: Path) -> tuple[int, int]:
    """(good, bad) record counts a generator run wrote to its ``--manifest`` file."""
    manifest = json.loads(path.read_text())
    return int(manifest["good"]), int(manifest["bad"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, required=True, help="generator --manifest file")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before giving up")
    args = ap.parse_args(argv)
    try:
        want_good, want_bad = read_manifest(args.manifest)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(
            f"wait_for_pipeline: error: {args.manifest} is not a generator manifest "
            f"(clickstream-generate --manifest): {exc!r}",
            file=sys.stderr,
        )
        return 2
    try:
        return wait(args.manifest, want_good, want_bad, args.timeout)
    except (OutputsNotFoundError, target.TargetError) as exc:
        print(f"wait_for_pipeline: error: {exc}", file=sys.stderr)
    except KeyError as exc:
        print(f"wait_for_pipeline: error: Terraform output {exc} is missing", file=sys.stderr)
    except (BotoCoreError, ClientError) as exc:
        print(
            f"wait_for_pipeline: error: {' '.join(str(exc).split())} (is the stack up? `make up`)",
            file=sys.stderr,
        )
    return 1


def wait(manifest_path: Path, want_good: int, want_bad: int, timeout: float) -> int:
    out = load_outputs()
    target.configure("wait_for_pipeline")  # the stack of those outputs; one line when down
    s3 = boto3.client("s3")
    deadline = time.monotonic() + timeout
    while not done(inv := inventory_from_outputs(s3, out), want_good, want_bad):
        if time.monotonic() > deadline:
            print(
                f"timed out after {timeout:.0f}s: {inv.parquet_rows}/{want_good} rows in "
                f"Parquet, {inv.quarantine_records}/{want_bad} quarantined, "
                f"{len(inv.unprocessed_keys)} raw objects not processed "
                f"({len(inv.stale_keys)} with a stale manifest); see `make status`",
                file=sys.stderr,
            )
            return 1
        time.sleep(1)
    print(
        f"pipeline done: {inv.raw_objects} raw objects -> {inv.parquet_rows} rows in "
        f"{inv.parquet_files} Parquet files, {inv.quarantine_records} quarantined "
        f"{dict(sorted(inv.quarantine_by_reason.items()))}"
    )
    if inv.parquet_rows != want_good or inv.quarantine_records != want_bad:
        print(
            f"note: the buckets hold more than this run sent ({inv.parquet_rows} rows vs "
            f"{want_good}, {inv.quarantine_records} quarantined vs {want_bad}): earlier runs' "
            "data is still there (`make down KEEP_DATA=0 up` starts clean)",
            file=sys.stderr,
        )
    else:
        print(f"reconciled exactly with {manifest_path}: {want_good} good, {want_bad} bad")
    return 0


if __name__ == "__main__":
    sys.exit(main())
