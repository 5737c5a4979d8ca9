"""Where the local stack is and whether it answers: one definition for tests, benches and tools.

Which stack that is comes from :mod:`clickstream_common.target` (``AWS_ENDPOINT_URL``, else the
endpoint the Terraform outputs name); nothing here is used by the pipeline code itself, which
only sees boto3's normal config chain.
The health check (``health``/``not_ready``) is the only one in the project: scripts/stack.py
imports it (standard library only at import time, so it runs before any virtualenv exists) and
scripts/tf.sh runs ``python -m clickstream_common.localstack URL``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_boto3_firehose import FirehoseClient
    from types_boto3_firehose.literals import CompressionFormatType
    from types_boto3_s3 import S3Client

DEFAULT_ENDPOINT = "http://localhost:4566"
#: Service states in the health report that mean "ready to serve".
READY_STATES = ("running", "available")


def endpoint() -> str:
    """The LocalStack gateway URL: ``AWS_ENDPOINT_URL``, else the stack the Terraform outputs
    name (:mod:`clickstream_common.target`), else the default port."""
    from clickstream_common import (
        target,
    )  # here, not on top: scripts/stack.py loads this file alone

    try:
        return target.load().endpoint or DEFAULT_ENDPOINT
    except target.TargetError:  # unreadable outputs: the tool that needs them says so
        return os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT


def health(url: str | None = None, timeout: float = 3.0) -> dict[str, Any] | None:
    """LocalStack's ``/_localstack/health`` report, or None when nothing answers there."""
    try:
        with urllib.request.urlopen(
            f"{url or endpoint()}/_localstack/health", timeout=timeout
        ) as r:
            report = json.load(r)
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def not_ready(report: dict[str, Any] | None, services: Iterable[str]) -> list[str]:
    """The named services that are not up yet (all of them when there is no report)."""
    wanted = list(services)
    if report is None:
        return wanted
    states = report.get("services", {})
    return [name for name in wanted if states.get(name) not in READY_STATES]


def healthy(url: str | None = None, services: Iterable[str] = (), timeout: float = 3.0) -> bool:
    """True when ``/_localstack/health`` answers and every named service is up."""
    report = health(url, timeout)
    return report is not None and not not_ready(report, services)


def main(argv: list[str] | None = None) -> int:
    """``python -m clickstream_common.localstack [URL [SERVICE...]]``: exit 0 when healthy."""
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else endpoint()
    report = health(url)
    if report is None:
        print(f"LocalStack does not answer at {url}: start it first (make up)", file=sys.stderr)
        return 1
    missing = not_ready(report, args[1:])
    if missing:
        print(f"LocalStack at {url}: not ready: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


def client(service: str, url: str | None = None, **config: Any) -> Any:
    """A boto3 client for the local stack: dummy credentials unless set, path-style S3.

    Returns ``Any`` because ``service`` is any name: callers annotate the client they asked for
    (``s3: S3Client = client("s3")``) and the boto3 stubs check every call on it.
    """
    import boto3
    from botocore.config import Config

    make_client: Any = boto3.client  # typed per service name literal, and ours is a str

    cfg = Config(
        s3={"addressing_style": "path"},
        retries={"mode": "standard", "max_attempts": 3},
        **config,
    )
    return make_client(
        service,
        endpoint_url=url or endpoint(),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=cfg,
    )


@contextmanager
def scratch_delivery_stream(
    name_prefix: str,
    url: str | None = None,
    *,
    size_mb: int = 64,
    interval_seconds: int = 1,
    compression: CompressionFormatType = "GZIP",
) -> Iterator[str]:
    """A throwaway bucket + DirectPut Firehose stream (same name) writing to ``raw/``.

    For generator tests and benches that must not touch the deployed pipeline. The defaults are
    the deployed stream's local settings (infra/envs/local.tfvars): the local Firehose buffers
    and compresses like AWS, so read what it wrote with :func:`flush_firehose` and
    :func:`object_bytes`. Cleanup tolerates a test that already deleted the stream or the bucket.
    """
    name = f"{name_prefix}-{uuid.uuid4().hex[:10]}"
    s3: S3Client = client("s3", url)
    fh: FirehoseClient = client("firehose", url)
    s3.create_bucket(Bucket=name)
    fh.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::000000000000:role/{name_prefix}",
            "BucketARN": f"arn:aws:s3:::{name}",
            "Prefix": "raw/",
            "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval_seconds},
            "CompressionFormat": compression,
        },
    )
    deadline = time.monotonic() + 30
    while (
        fh.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"][
            "DeliveryStreamStatus"
        ]
        != "ACTIVE"
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"delivery stream {name} never became ACTIVE")
        time.sleep(0.2)
    try:
        yield name
    finally:
        with contextlib.suppress(fh.exceptions.ResourceNotFoundException):
            fh.delete_delivery_stream(DeliveryStreamName=name)
        with contextlib.suppress(s3.exceptions.NoSuchBucket):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for obj in page.get("Contents", []):
                    s3.delete_object(Bucket=name, Key=obj["Key"])
            s3.delete_bucket(Bucket=name)


def flush_firehose(url: str | None = None, timeout: float = 120) -> dict[str, Any]:
    """Deliver everything the local Firehose buffers, now (its internal flush endpoint).

    Local only: on AWS, Firehose delivers on its own schedule. Returns the endpoint's summary
    (per stream what was flushed and delivered; ``undelivered_records`` overall)."""
    request = urllib.request.Request(
        f"{url or endpoint()}/_clickstream/firehose/flush", method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        summary: dict[str, Any] = json.load(response)
    return summary


def object_bytes(s3: Any, bucket: str, key: str) -> bytes:
    """An object's content, gunzipped when it is GZIP (by magic bytes, as the transformer does)."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


if __name__ == "__main__":
    sys.exit(main())
