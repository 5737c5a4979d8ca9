"""At-least-once delivery: the same object processed again never changes the table.

S3 notifications and Lambda async invocations are at-least-once, and Firehose may write the same
object again. The transformer's outputs are named after the source key, so a repeat overwrites
instead of adding. Three ways of repeating, all through the deployed function:

1. invoke it synchronously with the same S3 event for an already processed key;
2. re-send the same notification asynchronously (twice), as S3 would on a duplicate delivery;
3. put the same raw object again (a new version under the same key -> a new notification).

After each, the Parquet row count, the quarantine and the set of output objects are unchanged,
and the outputs were demonstrably rewritten (so the repeat really ran).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import pytest

from clickstream_common import schema
from clickstream_common.inventory import Inventory, iter_objects
from generator.pipeline import GenConfig, generate_records

from .support import (
    arrival_prefix,
    clean_pipeline,
    inventory,
    settle,
    wait_for,
    wait_reconciled,
)

GOOD = 3000
START_MS = 1_734_998_400_000  # 2024-12-24T00:00:00Z


def raw_object() -> bytes:
    """3,000 valid events over three days plus two records that must be quarantined."""
    cfg = GenConfig(seed=3, start_ms=START_MS, end_ms=START_MS + 3 * 86_400_000, count=GOOD)
    lines = [r.data for r in generate_records(cfg)]
    unknown = lines[0].replace(b'"event_type":"', b'"event_type":"x_', 1)
    return b"".join(lines) + unknown + b'{"event_id": "half a record\n'


def s3_event(bucket: str, key: str, size: int, etag: str) -> dict[str, Any]:
    """The notification S3 sends for an ObjectCreated:Put (key URL-encoded, as S3 does)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key), "size": size, "eTag": etag},
                },
            }
        ]
    }


def outputs_state(s3: Any, outputs: dict[str, Any]) -> dict[str, datetime]:
    """Every object the transformer wrote (events, quarantine, manifests) -> last modified."""
    bucket = str(outputs["transformed_bucket"])
    return {o["Key"]: o["LastModified"] for o in iter_objects(s3, bucket, "")}


def counts(inv: Inventory) -> tuple[int, int, int, dict[str, int]]:
    return (inv.records_in, inv.parquet_rows, inv.parquet_files, dict(inv.quarantine_by_reason))


@pytest.fixture(scope="module")
def first(s3: Any, outputs: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The object processed once: the baseline every repeat is compared with."""
    clean_pipeline(s3, outputs)
    body = raw_object()
    key = f"{arrival_prefix(outputs)}e2e-{run_id}-repeat name+%.json"  # needs URL-encoding
    put = s3.put_object(Bucket=outputs["raw_bucket"], Key=key, Body=body)
    inv = wait_reconciled(s3, outputs, rows=GOOD, quarantined=2, what="the first delivery")
    assert inv.quarantine_by_reason == {
        schema.REASON_UNKNOWN_EVENT_TYPE: 1,
        schema.REASON_MALFORMED_JSON: 1,
    }
    return {
        "key": key,
        "body": body,
        "etag": put["ETag"],
        "counts": counts(inv),
        "state": outputs_state(s3, outputs),
    }


def rewritten_since(s3: Any, outputs: dict[str, Any], before: dict[str, datetime]) -> bool:
    """Every output object was written again after ``before`` was taken."""
    now = outputs_state(s3, outputs)
    return set(now) == set(before) and all(now[k] > before[k] for k in before)


def assert_unchanged(s3: Any, outputs: dict[str, Any], first: dict[str, Any]) -> None:
    inv = settle(s3, outputs)
    assert counts(inv) == first["counts"], inv.summary()
    assert set(outputs_state(s3, outputs)) == set(first["state"])
    assert inv.reconciled, inv.summary()


def test_sync_invoke_with_the_same_event_changes_nothing(
    first: dict[str, Any], s3: Any, outputs: dict[str, Any], lambda_client: Any
) -> None:
    before = outputs_state(s3, outputs)
    time.sleep(1.1)  # S3 timestamps have 1 s resolution: make "rewritten" observable
    event = s3_event(outputs["raw_bucket"], first["key"], len(first["body"]), first["etag"])
    resp = lambda_client.invoke(
        FunctionName=outputs["lambda_name"], Payload=json.dumps(event).encode()
    )
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    assert payload["results"][0]["records_written"] == GOOD, payload
    assert rewritten_since(s3, outputs, before)
    assert_unchanged(s3, outputs, first)


def test_the_same_notification_delivered_again_async_changes_nothing(
    first: dict[str, Any], s3: Any, outputs: dict[str, Any], lambda_client: Any
) -> None:
    before = outputs_state(s3, outputs)
    time.sleep(1.1)
    event = s3_event(outputs["raw_bucket"], first["key"], len(first["body"]), first["etag"])
    for _ in range(2):
        resp = lambda_client.invoke(
            FunctionName=outputs["lambda_name"],
            InvocationType="Event",
            Payload=json.dumps(event).encode(),
        )
        assert resp["StatusCode"] == 202
    wait_for(
        lambda: rewritten_since(s3, outputs, before),
        bool,
        timeout=60,
        what="the re-sent notifications to be processed",
    )
    assert_unchanged(s3, outputs, first)


def test_putting_the_same_raw_object_again_changes_nothing(
    first: dict[str, Any], s3: Any, outputs: dict[str, Any]
) -> None:
    before = outputs_state(s3, outputs)
    time.sleep(1.1)
    s3.put_object(Bucket=outputs["raw_bucket"], Key=first["key"], Body=first["body"])
    wait_for(
        lambda: rewritten_since(s3, outputs, before),
        bool,
        timeout=60,
        what="the re-put object to be processed",
    )
    assert_unchanged(s3, outputs, first)
    assert inventory(s3, outputs).raw_objects == 1  # one key (versioned: two versions)
