"""LocalStack's own shutdown delivers what the local Firehose still buffers.

`make down` first asks the Firehose to flush through its endpoint (so the snapshot of the buckets
holds the records; tests/e2e/test_data_survives_down.py). This test stops the stack without that
step (`make down KEEP_DATA=0`: no flush call, no snapshot), so the extension's shutdown hook is
what must deliver. Slow (it stops and redeploys the stack, like test_restart.py). LocalStack keeps
no state across a stop, so the proof is LocalStack's own log: the shutdown flush reports, per
stream, the records it wrote to S3 (a failed write would be logged as undelivered instead).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any

import pytest

from .support import REPO, client, wait_for
from .test_firehose_delivery import ROLE_ARN, put, stream_stats

LOG_FILE = REPO / ".local" / "localstack" / "localstack.log"


def sh(args: list[str], timeout: float) -> str:
    proc = subprocess.run(
        args, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


def localstack_log() -> str:
    """The log of the LocalStack `make down` stopped (docker mode saves the container's there)."""
    return LOG_FILE.read_text(errors="replace")


@pytest.mark.slow
def test_shutdown_delivers_buffered_records_first(outputs: dict[str, Any]) -> None:
    s3, firehose = client("s3"), client("firehose")
    bucket, stream = (
        f"clickstream-fh-down-{uuid.uuid4().hex[:8]}",
        f"fh-down-{uuid.uuid4().hex[:6]}",
    )
    s3.create_bucket(Bucket=bucket)
    firehose.create_delivery_stream(
        DeliveryStreamName=stream,
        ExtendedS3DestinationConfiguration={
            "BucketARN": f"arn:aws:s3:::{bucket}",
            "RoleARN": ROLE_ARN,
            "CompressionFormat": "GZIP",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 900},
        },
    )
    put(firehose, stream, [b'{"down":%d}\n' % i for i in range(25)])
    assert stream_stats(stream)["buffered_records"] == 25
    try:
        sh(["make", "down", "KEEP_DATA=0"], timeout=180)
        log = localstack_log()
        assert f"firehose {stream}: shutdown flush delivered 25 records, 0 undelivered" in log
    finally:
        sh(["make", "up"], timeout=600)
    wait_for(
        lambda: client("s3").list_buckets()["Buckets"],
        lambda b: b is not None,
        timeout=30,
        what="the stack back up",
    )
