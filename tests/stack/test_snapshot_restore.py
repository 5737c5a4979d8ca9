"""scripts/snapshot.py against real LocalStack S3 and SQS, on scratch buckets (not the deployed
pipeline): a save then a restore puts every object back, and the raw bucket's notifications fire
only for the raw objects that had not been processed before the save (so a restore never makes
the transformer process anything twice); the notification configuration comes back unchanged.
"""

from __future__ import annotations

import importlib.util
import io
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clickstream_common import localstack

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def _load_snapshot_module(tmp_path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("snapshot", REPO / "scripts" / "snapshot.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.SNAPSHOT = tmp_path / "snapshot"
    return module


@pytest.fixture
def stack(localstack_endpoint: str) -> Iterator[dict[str, Any]]:
    s3 = localstack.client("s3", localstack_endpoint)
    sqs = localstack.client("sqs", localstack_endpoint)
    suffix = uuid.uuid4().hex[:10]
    raw, transformed = f"snap-raw-{suffix}", f"snap-out-{suffix}"
    for bucket in (raw, transformed):
        s3.create_bucket(Bucket=bucket)
    queue = sqs.create_queue(QueueName=f"snap-{suffix}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    config = {
        "QueueConfigurations": [
            {
                "Id": "raw-objects",
                "QueueArn": arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "raw/"}]}},
            }
        ]
    }
    s3.put_bucket_notification_configuration(Bucket=raw, NotificationConfiguration=config)
    yield {"s3": s3, "sqs": sqs, "queue": queue, "raw": raw, "transformed": transformed}
    for bucket in (raw, transformed):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)
    sqs.delete_queue(QueueUrl=queue)


def _drain(sqs: Any, queue: str, wait: float = 2.0) -> list[str]:
    """Object keys of the ObjectCreated notifications in the queue (test events ignored)."""
    keys: list[str] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        for m in messages:
            body = json.loads(m["Body"])
            keys += [r["s3"]["object"]["key"] for r in body.get("Records", [])]
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return keys


def test_restore_puts_everything_back_and_notifies_only_unprocessed_raw_objects(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    snapshot = _load_snapshot_module(tmp_path)
    s3, raw, out = stack["s3"], stack["raw"], stack["transformed"]
    done = s3.put_object(Bucket=raw, Key="raw/2024/12/25/10/done", Body=b'{"a":1}\n')["ETag"]
    s3.put_object(Bucket=raw, Key="raw/2024/12/25/10/pending", Body=b'{"b":2}\n')
    manifest = {"source_bucket": raw, "source_key": "raw/2024/12/25/10/done", "etag": done}
    s3.put_object(Bucket=out, Key="manifests/abc.json", Body=json.dumps(manifest).encode())
    parquet = io.BytesIO()
    pq.write_table(pa.table({"a": [1]}), parquet)
    key = "events/year=2024/month=12/day=25/abc-done.parquet"
    s3.put_object(Bucket=out, Key=key, Body=parquet.getvalue())
    outputs = {"raw_bucket": raw, "transformed_bucket": out, "raw_prefix": "raw/"}
    assert snapshot.wait_idle(s3, outputs, quiet=0.5, stuck=1.0, timeout=30)
    _drain(stack["sqs"], stack["queue"])
    config_before = s3.get_bucket_notification_configuration(Bucket=raw)

    snapshot.save(s3, outputs, localstack.endpoint())
    before = {
        b: {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])}
        for b in (raw, out)
    }
    for bucket in (raw, out):  # what a LocalStack restart does
        for key in before[bucket]:
            s3.delete_object(Bucket=bucket, Key=key)

    snapshot.restore(s3, outputs)
    after = {
        b: {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])}
        for b in (raw, out)
    }
    assert after == before
    assert _drain(stack["sqs"], stack["queue"]) == ["raw/2024/12/25/10/pending"]
    config_after = s3.get_bucket_notification_configuration(Bucket=raw)
    config_before.pop("ResponseMetadata")
    config_after.pop("ResponseMetadata")
    assert config_after == config_before
    assert not snapshot.SNAPSHOT.exists()
