"""The handler glue against a real S3 API (this checkout's LocalStack), no mocks.

Skipped unless LocalStack answers; the deployed-Lambda integration test lives in tests/e2e.
"""

from __future__ import annotations

import gzip
import io
import json
import uuid

import pytest

from clickstream_common import localstack
from transformer.handler import HandlerSettings, handle

from .helpers import make_event, ndjson

ENDPOINT = localstack.endpoint()


pytestmark = pytest.mark.e2e


@pytest.fixture
def s3(localstack_endpoint: str):
    client = localstack.client("s3", localstack_endpoint)
    suffix = uuid.uuid4().hex[:10]
    raw, out = f"tx-test-raw-{suffix}", f"tx-test-out-{suffix}"
    for bucket in (raw, out):
        client.create_bucket(Bucket=bucket)
    yield client, raw, out
    for bucket in (raw, out):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=obj["Key"])
        client.delete_bucket(Bucket=bucket)


def event_for(bucket: str, *keys: str) -> dict:
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(k, safe="/")}},
            }
            for k in keys
        ]
    }


def keys(client, bucket: str) -> list[str]:
    resp = client.list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def test_handler_transforms_every_object_of_the_event_and_is_idempotent(s3, capsys):
    client, raw, out = s3
    k1 = "raw/2024/12/25/10/batch one+two.json"
    k2 = "raw/2024/12/25/11/batch-2.gz"
    client.put_object(
        Bucket=raw, Key=k1, Body=ndjson([make_event(i) for i in range(10)]) + b"bad\n"
    )
    client.put_object(
        Bucket=raw, Key=k2, Body=gzip.compress(ndjson([make_event(i) for i in range(10, 30)]))
    )
    settings = HandlerSettings.from_env({"TRANSFORMED_BUCKET": out})
    result = handle(event_for(raw, k1, k2), settings, client, "transformer-test")
    assert result["objects"] == 2
    assert [r["records_written"] for r in result["results"]] == [10, 20]
    logs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(d["source_key"], d["records_in"], d["reconciled"]) for d in logs] == [
        (k1, 11, True),
        (k2, 20, True),
    ]
    assert all("_aws" in d for d in logs)
    first = keys(client, out)
    assert sum(k.startswith("events/year=2024/month=12/day=25/") for k in first) == 2
    assert sum(k.startswith("quarantine/2024/12/25/10/") for k in first) == 1

    handle(event_for(raw, k1, k2), settings, client, "transformer-test")  # retried event
    assert keys(client, out) == first
    import pyarrow.parquet as pq

    rows = 0
    for k in first:
        if k.endswith(".parquet"):
            body = client.get_object(Bucket=out, Key=k)["Body"].read()
            rows += pq.read_table(io.BytesIO(body)).num_rows
    assert rows == 30


def test_object_with_duplicates_from_s3(s3, capsys):
    client, raw, out = s3
    key = "raw/2024/12/25/12/dups.json"
    events = [make_event(i) for i in range(20)]
    client.put_object(Bucket=raw, Key=key, Body=ndjson(events + events[:3]))
    settings = HandlerSettings.from_env({"TRANSFORMED_BUCKET": out})
    handle(event_for(raw, key), settings, client, "transformer-test")
    [log] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert (log["records_written"], log["duplicates"], log["reconciled"]) == (20, 3, True)


def test_missing_object_raises_so_lambda_retries(s3, capsys):
    client, raw, out = s3
    settings = HandlerSettings.from_env({"TRANSFORMED_BUCKET": out})
    with pytest.raises(client.exceptions.NoSuchKey):
        handle(event_for(raw, "raw/does/not/exist"), settings, client, "t")
    [log] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert log["level"] == "ERROR"
    assert log["source_key"] == "raw/does/not/exist"
    assert keys(client, out) == []


def test_missing_output_bucket_raises(s3):
    client, raw, _ = s3
    client.put_object(Bucket=raw, Key="raw/a", Body=ndjson([make_event(1)]))
    settings = HandlerSettings.from_env(
        {"TRANSFORMED_BUCKET": f"no-such-bucket-{uuid.uuid4().hex[:8]}"}
    )
    with pytest.raises(Exception) as info:
        handle(event_for(raw, "raw/a"), settings, client, "t")
    assert "NoSuchBucket" in repr(info.value) or "NoSuchBucket" in str(info.value)


def test_replay_cli_reprocesses_a_prefix_idempotently(s3, monkeypatch, capsys):
    from transformer.replay import main

    client, raw, out = s3
    for var, value in {
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(var, value)
    client.put_object(Bucket=raw, Key="raw/2024/12/25/10/a", Body=ndjson([make_event(1)]))
    client.put_object(Bucket=raw, Key="raw/2024/12/26/10/b", Body=ndjson([make_event(2)]) + b"x\n")
    args = ["--bucket", raw, "--dest-bucket", out, "--since", "2024-12-25", "--until", "2024-12-26"]
    assert main(args) == 0
    first = keys(client, out)
    assert main(args) == 0
    assert keys(client, out) == first
    text = capsys.readouterr().out
    assert "records in:          3" in text and "(OK)" in text
    assert main([*args[:4], "--prefix", "raw/2024/12/25/", "--dry-run"]) == 0
    assert keys(client, out) == first


def test_lambda_handler_entry_point_reads_its_settings_from_the_environment(s3, monkeypatch):
    import transformer.handler as handler_module

    client, raw, out = s3
    for var, value in {
        "AWS_ENDPOINT_URL": ENDPOINT,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TRANSFORMED_BUCKET": out,
        "EVENTS_PREFIX": "events/",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(handler_module, "_client", None)
    client.put_object(Bucket=raw, Key="raw/2024/12/25/10/z", Body=ndjson([make_event(5)]))
    result = handler_module.lambda_handler(event_for(raw, "raw/2024/12/25/10/z"), None)
    assert result["results"][0]["records_written"] == 1
    assert any(k.startswith("events/year=2024/month=12/day=25/") for k in keys(client, out))
