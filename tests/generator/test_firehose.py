"""Against a REAL Firehose (LocalStack): every record arrives in S3, faults are accounted for.

Each test creates its own bucket and delivery stream (unique names) on the endpoint of
``localstack.endpoint()`` (the `make up` stack of this checkout), so these run beside
the main deployment without touching it. What is covered where:

- here, real LocalStack: the PutRecordBatch call, batching/aggregation on the wire, every event
  landing in S3 exactly once (bytes compared with an offline run of the same seed), a missing
  destination bucket (accepted, as AWS does; Firehose retries the delivery until it is back),
  a stream deleted mid-run (non-retryable) reported with exact sent/unsent counts that match S3.
  The local Firehose buffers and compresses like AWS: the tests flush it before reading S3.
- test_retry.py: retrying ONLY the failed entries of a partial failure. LocalStack's
  PutRecordBatch always answers FailedPutCount=0 (it has no per-entry failure mode), so that
  path is tested on the pure algorithm with a put callable that fails chosen entries.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clickstream_common import localstack
from generator import cli
from generator.pipeline import GenConfig, generate_records, run
from generator.retry import RetryPolicy
from generator.sink import FirehoseSink, make_firehose_client

pytestmark = pytest.mark.e2e

ENDPOINT = localstack.endpoint()
WINDOW = ["--start", "2024-12-24", "--end", "2024-12-26"]


@pytest.fixture(scope="module", autouse=True)
def aws_env(localstack_endpoint: str) -> Iterator[None]:
    """Point boto3's normal config chain at the local endpoint (the CLI reads nothing else)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", ENDPOINT)
        for k, v in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                     ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
            mp.setenv(k, os.environ.get(k, v))
        yield


def client(service: str) -> Any:
    return localstack.client(service, ENDPOINT)


@pytest.fixture
def s3() -> Any:
    return client("s3")


@pytest.fixture
def stream(s3: Any) -> Iterator[str]:
    """A fresh bucket + DirectPut delivery stream writing to ``raw/`` (like the real stack)."""
    with localstack.scratch_delivery_stream("gen-test", ENDPOINT) as name:
        yield name


def s3_lines(s3: Any, bucket: str) -> list[bytes]:
    """Every line Firehose wrote under raw/ (objects are the concatenated records), after the
    local Firehose delivered what it still buffered."""
    flushed = localstack.flush_firehose(ENDPOINT)["streams"]
    mine = [r for r in flushed if r["stream"] == bucket]  # scratch stream = bucket name
    pending = [r["buffered_records"] + r["retrying_records"] + r["in_flight_records"] for r in mine]
    assert not any(pending), mine
    lines: list[bytes] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/"):
        for obj in page.get("Contents", []):
            body = localstack.object_bytes(s3, bucket, obj["Key"])
            assert body.endswith(b"\n"), "a record was not newline-terminated"
            lines.extend(body.splitlines(keepends=True))
    return lines


@pytest.mark.parametrize("events_per_record", ["1", "25"])
def test_every_event_arrives_in_s3_exactly_once(
    s3: Any, stream: str, tmp_path: Path, events_per_record: str
) -> None:
    args = ["--count", "5000", "--seed", "21", "--bad-ratio", "0.02", "--quiet", *WINDOW,
            "--events-per-record", events_per_record]  # fmt: skip
    manifest = tmp_path / "manifest.json"
    assert cli.main(["--stream-name", stream, "--manifest", str(manifest), *args]) == 0
    offline = tmp_path / "offline.ndjson"
    assert cli.main(["--output", str(offline), *args]) == 0

    got = s3_lines(s3, stream)
    expected = offline.read_bytes().splitlines(keepends=True)
    assert len(got) == 5000
    assert Counter(got) == Counter(expected)  # same bytes, no loss, no duplicates
    m = json.loads(manifest.read_text())
    d = m["delivery"]
    assert d["sent"] == m["good"] + m["bad"] == 5000
    assert d["failed"] == d["unsent"] == d["retried"] == 0
    epr = int(events_per_record)
    assert d["firehose_records_sent"] == -(-5000 // epr)
    assert d["calls"] >= -(-d["firehose_records_sent"] // 500)
    # the raw objects follow Firehose's YYYY/MM/DD/HH/ layout under raw/
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=stream, Prefix="raw/")["Contents"]]
    assert all(len(k.split("/")) == 6 for k in keys)


def test_missing_bucket_is_accepted_and_delivered_once_it_is_back(s3: Any, stream: str) -> None:
    """Destination bucket missing -> PutRecordBatch still succeeds (as on AWS: delivery is
    asynchronous); Firehose retries the S3 write, and once the bucket is back every record
    arrives exactly once. (The generator's retry of whole-call failures is tested on the pure
    algorithm in test_generator_retry.py: LocalStack cannot fail a call the way AWS throttles.)"""
    s3.delete_bucket(Bucket=stream)
    sink = FirehoseSink(make_firehose_client(), stream, policy=RetryPolicy(), concurrency=1)
    cfg = GenConfig(seed=3, start_ms=1_735_000_000_000, end_ms=1_735_100_000_000, count=1200)
    res = run(generate_records(cfg), sink, events_per_record=1)
    assert res.ok, res.delivery()
    assert (res.stats.sent, res.stats.retried) == (1200, 0)
    s3.create_bucket(Bucket=stream)
    expected = [r.data for r in generate_records(cfg)]
    assert Counter(s3_lines(s3, stream)) == Counter(expected)


def test_stream_deleted_mid_run_is_reported_and_s3_matches_the_accounting(
    s3: Any, stream: str
) -> None:
    fh = client("firehose")
    cfg = GenConfig(seed=8, start_ms=1_735_000_000_000, end_ms=1_735_100_000_000, count=5000)

    def records_then_delete() -> Iterator[Any]:
        for i, rec in enumerate(generate_records(cfg)):
            if i == 2000:
                fh.delete_delivery_stream(DeliveryStreamName=stream)
            yield rec

    sink = FirehoseSink(make_firehose_client(), stream, concurrency=1)
    res = run(records_then_delete(), sink, events_per_record=1)
    assert not res.ok
    assert res.error and res.error.startswith("ResourceNotFoundException")
    got = s3_lines(s3, stream)
    # nothing is double counted or lost from the books: S3 holds exactly what was reported sent
    assert len(got) == res.stats.sent == res.manifest.good + res.manifest.bad
    assert 0 < res.stats.sent <= 2500
    # generation stops at the fatal error; what was generated but not delivered is "unsent"
    assert 2000 < res.generated < 5000
    assert res.unsent == res.generated - res.stats.sent - res.stats.failed > 0


def test_cli_exits_non_zero_and_writes_the_books_when_the_stream_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.json"
    code = cli.main(["--stream-name", f"missing-{uuid.uuid4().hex[:8]}", "--count", "300",
                     "--manifest", str(manifest), *WINDOW])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "ResourceNotFoundException" in err and "unsent 300" in err
    d = json.loads(manifest.read_text())["delivery"]
    assert (d["sent"], d["unsent"]) == (0, 300)
