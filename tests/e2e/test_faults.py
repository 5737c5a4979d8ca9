"""Faults: a failed object is retried, recorded by the on-failure destination, and replayed with
nothing lost and nothing doubled.

The fault is infrastructure, not content: the transformed bucket disappears (LocalStack
community does not enforce bucket policies, so a deny policy would not fail anything; deleting
the bucket does, on AWS and locally alike). The handler must raise, LocalStack's async
invocation retries it (1 + MaximumRetryAttempts attempts, LAMBDA_RETRY_BASE_DELAY apart), then
hands the event to the SQS on-failure queue. The bucket comes back with its Terraform-managed
configuration, and ``clickstream-replay`` for the run's prefix recovers the object.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from generator.pipeline import GenConfig, generate_records

from .support import (
    RETRY_BASE_DELAY,
    arrival_prefix,
    clean_pipeline,
    inventory,
    run_cli,
    settle,
    wait_for,
    wait_reconciled,
)

START_MS = 1_735_084_800_000  # 2024-12-25T00:00:00Z

#: (getter, response field, putter, request field) for what Terraform configures on a bucket.
BUCKET_SETTINGS = [
    ("get_bucket_versioning", None, "put_bucket_versioning", "VersioningConfiguration"),
    (
        "get_bucket_encryption",
        "ServerSideEncryptionConfiguration",
        "put_bucket_encryption",
        "ServerSideEncryptionConfiguration",
    ),
    (
        "get_public_access_block",
        "PublicAccessBlockConfiguration",
        "put_public_access_block",
        "PublicAccessBlockConfiguration",
    ),
    (
        "get_bucket_ownership_controls",
        "OwnershipControls",
        "put_bucket_ownership_controls",
        "OwnershipControls",
    ),
    ("get_bucket_policy", "Policy", "put_bucket_policy", "Policy"),
    (
        "get_bucket_lifecycle_configuration",
        "Rules",
        "put_bucket_lifecycle_configuration",
        "LifecycleConfiguration",
    ),
    ("get_bucket_tagging", "TagSet", "put_bucket_tagging", "Tagging"),
]


def bucket_settings(s3: Any, bucket: str) -> dict[str, Any]:
    """The bucket's configuration, as the put_* calls take it (absent settings left out)."""
    found: dict[str, Any] = {}
    for getter, field, putter, arg in BUCKET_SETTINGS:
        try:
            resp = getattr(s3, getter)(Bucket=bucket)
        except ClientError:
            continue
        if field is None:  # versioning: the response is the configuration
            value = {k: v for k, v in resp.items() if k in ("Status", "MFADelete")}
            if not value:
                continue
        elif arg == "LifecycleConfiguration":
            value = {"Rules": resp[field]}
        elif arg == "Tagging":
            value = {"TagSet": resp[field]}
        else:
            value = resp[field]
        found[putter] = {arg: value}
    return found


@pytest.fixture
def missing_transformed_bucket(s3: Any, outputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Delete the (emptied) transformed bucket; recreate it with the same configuration after the
    test even if the test fails, so the deployment is left as Terraform made it."""
    bucket = str(outputs["transformed_bucket"])
    settings = bucket_settings(s3, bucket)
    assert "put_bucket_versioning" in settings and "put_bucket_encryption" in settings
    state = {"bucket": bucket, "settings": settings, "restored": False}

    def restore() -> None:
        if state["restored"]:
            return
        s3.create_bucket(Bucket=bucket)
        for putter, kwargs in settings.items():
            getattr(s3, putter)(Bucket=bucket, **kwargs)
        state["restored"] = True

    state["restore"] = restore
    s3.delete_bucket(Bucket=bucket)
    try:
        yield state
    finally:
        restore()


def ndjson(n: int, seed: int) -> bytes:
    cfg = GenConfig(seed=seed, start_ms=START_MS, end_ms=START_MS + 86_400_000, count=n)
    return b"".join(r.data for r in generate_records(cfg))


def failure_messages(sqs: Any, queue_url: str, key: str) -> list[dict[str, Any]]:
    """On-failure records for ``key`` (deleted from the queue once read); others are left."""
    found = []
    resp = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for msg in resp.get("Messages", []):
        body = json.loads(msg["Body"])
        records = (body.get("requestPayload") or {}).get("Records") or []
        keys = {unquote_plus(r["s3"]["object"]["key"]) for r in records if "s3" in r}
        if key in keys:
            found.append(body)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"])
        else:  # not ours: make it visible again for `make status`
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"], VisibilityTimeout=0
            )
    return found


def failed_attempts(logs: Any, group: str, key: str, since_ms: int) -> int:
    """The handler's structured ERROR lines for ``key`` in CloudWatch Logs (one per attempt)."""
    n = 0
    for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=since_ms
    ):
        for event in page["events"]:
            msg = event["message"]
            if '"level": "ERROR"' in msg and key in msg and "object failed" in msg:
                n += 1
    return n


def test_failed_object_goes_to_the_failure_queue_and_replay_recovers_it(
    s3: Any,
    sqs: Any,
    logs_client: Any,
    lambda_client: Any,
    outputs: dict[str, Any],
    failure_queue_url: str,
    run_id: str,
    request: pytest.FixtureRequest,
) -> None:
    clean_pipeline(s3, outputs)
    fault = request.getfixturevalue("missing_transformed_bucket")
    retries = lambda_client.get_function_event_invoke_config(FunctionName=outputs["lambda_name"])[
        "MaximumRetryAttempts"
    ]
    prefix = f"{arrival_prefix(outputs)}e2e-{run_id}-fault-"
    key_a, body_a, rows_a = f"{prefix}a.json", ndjson(800, seed=21), 800
    since_ms = int(time.time() * 1000) - 1000

    # 1. The object arrives while the transformed bucket is missing: every attempt fails.
    s3.put_object(Bucket=outputs["raw_bucket"], Key=key_a, Body=body_a)
    records = wait_for(
        lambda: failure_messages(sqs, failure_queue_url, key_a),
        bool,
        # attempts come 1x, 2x ... the base delay apart; the default base is 60 s
        timeout=RETRY_BASE_DELAY * retries * (retries + 1) / 2 + 60,
        what=f"the on-failure destination to record {key_a}",
        interval=0,
    )
    context = records[0]["requestContext"]
    assert context["condition"] == "RetriesExhausted", records[0]
    assert context["approximateInvokeCount"] == 1 + retries, records[0]
    assert records[0]["responseContext"].get("functionError"), records[0]
    # The operator finds every failed attempt in CloudWatch Logs too, one ERROR line each.
    wait_for(
        lambda: failed_attempts(logs_client, str(outputs["lambda_log_group"]), key_a, since_ms),
        lambda n: n == 1 + retries,
        timeout=30,
        what=f"an ERROR log line naming {key_a}",
    )

    # 2. The fault is removed; replaying the run's prefix recovers the object.
    fault["restore"]()
    assert bucket_settings(s3, fault["bucket"]) == fault["settings"]
    assert inventory(s3, outputs).unprocessed_keys == [key_a]
    replay = run_cli(["clickstream-replay", "--prefix", prefix])
    assert f"records written:     {rows_a}" in replay.stdout, replay.stdout
    inv = wait_reconciled(s3, outputs, rows=rows_a, quarantined=0, timeout=30, what="the replay")
    assert inv.processed_objects == 1

    # 3. New data flows normally again; replaying everything once more doubles nothing.
    key_b, rows_b = f"{prefix}b.json", 500
    s3.put_object(Bucket=outputs["raw_bucket"], Key=key_b, Body=ndjson(rows_b, seed=22))
    wait_reconciled(s3, outputs, rows=rows_a + rows_b, quarantined=0, what="the next object")
    replay = run_cli(["clickstream-replay", "--prefix", prefix])
    assert "objects processed:   2 (failed: 0)" in replay.stdout, replay.stdout
    inv = settle(s3, outputs)
    assert (inv.parquet_rows, inv.quarantine_records, inv.records_in) == (
        rows_a + rows_b,
        0,
        rows_a + rows_b,
    )
    assert inv.reconciled and inv.unprocessed_keys == []
