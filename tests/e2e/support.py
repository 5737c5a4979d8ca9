"""Helpers of the end-to-end suite (the fixtures are in conftest.py): clients, waits with
deadlines and clear messages, isolation, and running the project's CLIs as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from clickstream_common import localstack
from clickstream_common.inventory import Inventory, inventory_from_outputs

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

# Subprocesses (generator, replay, status) inherit these: the stack of the outputs, as every tool
# resolves it (clickstream_common.target), unless the environment (the Makefile) says otherwise.
os.environ.setdefault("AWS_ENDPOINT_URL", localstack.endpoint())
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]

#: LocalStack's async retry base delay (s): attempts come 1x and 2x this apart. The Makefile should
#: start the e2e stack with a small value; waits below are sized for the default (60) otherwise.
RETRY_BASE_DELAY = float(os.environ.get("LAMBDA_RETRY_BASE_DELAY") or 60)


def client(service: str) -> Any:
    """A boto3 client for the local stack (generous read timeout for big objects)."""
    return localstack.client(service, ENDPOINT, read_timeout=120)


def empty_bucket(s3: Any, bucket: str) -> None:
    """Delete every object version and delete marker (the buckets are versioned)."""
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[i : i + 1000]})


def inventory(s3: Any, outputs: dict[str, Any]) -> Inventory:
    return inventory_from_outputs(s3, outputs)


def wait_for[T](
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.5,
    show: Callable[[T], object] = lambda v: v,
) -> T:
    """Poll ``probe`` until ``done(value)``; fail with the last value seen on timeout."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not done(value):
        if time.monotonic() > deadline:
            pytest.fail(
                f"timed out after {timeout:.0f}s waiting for {what}; last seen: {show(value)}"
                " (see `make status` and `make logs`)",
                pytrace=False,
            )
        time.sleep(interval)
        value = probe()
    return value


def wait_reconciled(
    s3: Any,
    outputs: dict[str, Any],
    *,
    rows: int,
    quarantined: int,
    timeout: float = 120,
    what: str = "the pipeline",
) -> Inventory:
    """Wait until every raw object is processed and Parquet/quarantine hold exactly the expected
    counts. Fails fast (with the counts) if more arrived than expected."""

    def done(inv: Inventory) -> bool:
        if inv.parquet_rows > rows or inv.quarantine_records > quarantined:
            pytest.fail(
                f"{what}: more output than sent (expected {rows} rows, {quarantined} "
                f"quarantined): {inv.summary()}",
                pytrace=False,
            )
        return inv.reconciled and inv.parquet_rows == rows and inv.quarantine_records == quarantined

    return wait_for(
        lambda: inventory(s3, outputs),
        done,
        timeout=timeout,
        what=f"{what} to reconcile ({rows} rows + {quarantined} quarantined)",
        show=lambda inv: inv.summary(),
    )


def settle(
    s3: Any,
    outputs: dict[str, Any],
    *,
    quiet: float = 3.0,
    stuck: float = 20.0,
    timeout: float = 120,
) -> Inventory:
    """Wait until nothing changes for ``quiet`` s and every raw object has been processed (a raw
    object that failed for good never will: after ``stuck`` s without change it is let go)."""
    last = inventory(s3, outputs)
    stable_since = time.monotonic()
    deadline = stable_since + timeout
    while True:
        stable = time.monotonic() - stable_since
        if stable >= quiet and (not last.unprocessed_keys or stable >= stuck):
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"pipeline did not settle within {timeout:.0f}s: {last.summary()}")
        time.sleep(0.5)
        now = inventory(s3, outputs)
        if _progress(now) != _progress(last):
            stable_since = time.monotonic()
        last = now


def _progress(inv: Inventory) -> tuple[int, ...]:
    return (inv.raw_objects, inv.processed_objects, inv.records_in, inv.records_out)


def clean_pipeline(s3: Any, outputs: dict[str, Any], *, settle_timeout: float = 60) -> None:
    """Isolate a test: let earlier work finish, then empty the raw and transformed buckets."""
    settle(s3, outputs, timeout=settle_timeout)
    for bucket in (outputs["raw_bucket"], outputs["transformed_bucket"]):
        empty_bucket(s3, bucket)
    after = inventory(s3, outputs)
    assert after.raw_objects == after.records_out == after.records_in == 0, after.summary()


def arrival_prefix(outputs: dict[str, Any]) -> str:
    """``raw/YYYY/MM/DD/HH/`` for now (UTC): where Firehose would put an object right now."""
    return str(outputs.get("raw_prefix") or "raw/") + time.strftime("%Y/%m/%d/%H/", time.gmtime())


def run_cli(args: Sequence[str], *, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run one of the project's console scripts from this venv, the way a user would."""
    cmd = [str(VENV_BIN / args[0]), *args[1:]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\n"
            f"stderr:\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    return proc
