"""The local Firehose delivers to S3 as AWS does (emulator/, clickstream_emulator.firehose).

Against the running stack, no mocks: streams made for these tests (own bucket, own names) show
buffering by interval and by size, GZIP bodies, AWS's key names and prefix expressions, the
validation AWS applies at create time, retries then the error output prefix when the bucket is
gone, the internal flush/buffers endpoints and `make status`. The deployed stream is checked for
the AWS settings (``envs/dev.tfvars``). The shutdown flush (``make down``) is in
``test_firehose_shutdown.py`` (slow: it restarts the stack).
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import re
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .support import ENDPOINT, REPO, empty_bucket, run_cli, wait_for

ROLE_ARN = "arn:aws:iam::000000000000:role/clickstream-firehose-e2e"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def internal(path: str, method: str = "GET") -> dict[str, Any]:
    """Call one of the local Firehose's internal endpoints."""
    request = urllib.request.Request(f"{ENDPOINT}{path}", method=method)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def stream_stats(name: str) -> dict[str, Any]:
    rows = [r for r in internal("/_clickstream/firehose/buffers")["streams"] if r["stream"] == name]
    return rows[0] if rows else {}


def tfvar(name: str, env: str = "dev") -> str:
    text = (REPO / "infra" / "envs" / f"{env}.tfvars").read_text()
    match = re.search(rf"^{name}\s*=\s*\"?([^\"\n]+?)\"?\s*$", text, re.M)
    assert match, f"{name} not in envs/{env}.tfvars"
    return match.group(1)


def utc_day(fmt: str = "%Y/%m/%d") -> str:
    return datetime.now(UTC).strftime(fmt)


@pytest.fixture(scope="module")
def bucket(s3: Any, run_id: str) -> Iterator[str]:
    name = f"clickstream-fh-e2e-{run_id}"
    s3.create_bucket(Bucket=name)
    yield name
    try:
        empty_bucket(s3, name)
        s3.delete_bucket(Bucket=name)
    except ClientError:
        pass


@pytest.fixture
def make_stream(firehose: Any, bucket: str, run_id: str) -> Iterator[Any]:
    """Create streams for one test (ExtendedS3 to ``bucket``); deleted afterwards."""
    made: list[str] = []

    def make(target: str | None = None, **s3_config: Any) -> str:
        name = f"fh-e2e-{run_id}-{uuid.uuid4().hex[:6]}"
        config = {
            "BucketARN": f"arn:aws:s3:::{target or bucket}",
            "RoleARN": ROLE_ARN,
            "CompressionFormat": "GZIP",
            **s3_config,
        }
        firehose.create_delivery_stream(
            DeliveryStreamName=name,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration=config,
        )
        made.append(name)
        return name

    yield make
    for name in made:
        with contextlib.suppress(ClientError):
            firehose.delete_delivery_stream(DeliveryStreamName=name)


def keys_of(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def objects_of(s3: Any, bucket: str, stream: str) -> dict[str, bytes]:
    """Every object the stream wrote, by key (gunzipped)."""
    out = {}
    for key in keys_of(s3, bucket):
        if f"/{stream}-" in key:
            out[key] = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return out


def put(firehose: Any, stream: str, records: list[bytes], per_call: int = 500) -> None:
    for i in range(0, len(records), per_call):
        resp = firehose.put_record_batch(
            DeliveryStreamName=stream, Records=[{"Data": r} for r in records[i : i + per_call]]
        )
        assert resp["FailedPutCount"] == 0


# ------------------------------------------------------------------ the deployed stream
def test_deployed_stream_has_the_aws_buffer_size_gzip_and_sse(
    firehose: Any, outputs: dict[str, Any]
) -> None:
    desc = firehose.describe_delivery_stream(DeliveryStreamName=str(outputs["firehose_name"]))[
        "DeliveryStreamDescription"
    ]
    s3_desc = desc["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert s3_desc["CompressionFormat"] == tfvar("firehose_compression") == "GZIP"
    assert s3_desc["BufferingHints"]["SizeInMBs"] == int(tfvar("firehose_buffering_size_mb"))
    assert desc["DeliveryStreamEncryptionConfiguration"]["Status"] == "ENABLED"


# ------------------------------------------------------------------ buffering
def test_small_batches_within_one_interval_become_one_gzip_object(
    firehose: Any, s3: Any, bucket: str, make_stream: Any
) -> None:
    stream = make_stream(Prefix="merge/", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 6})
    batches = [[b'{"batch":%d,"n":%d}\n' % (b, n) for n in range(20)] for b in range(5)]
    started = time.monotonic()
    for batch in batches:
        put(firehose, stream, batch)
    assert time.monotonic() - started < 5, "puts too slow for the test's interval"
    found = wait_for(
        lambda: objects_of(s3, bucket, stream), bool, timeout=30, what="the merged object"
    )
    time.sleep(1)
    found = objects_of(s3, bucket, stream)
    assert len(found) == 1, sorted(found)
    ((key, body),) = found.items()
    assert body == b"".join(b"".join(batch) for batch in batches)
    assert re.fullmatch(
        rf"merge/\d{{4}}/\d\d/\d\d/\d\d/{stream}-1-\d{{4}}(-\d\d){{5}}-{UUID}\.gz", key
    ), key


def test_crossing_the_size_yields_several_objects_none_above_it(
    firehose: Any, s3: Any, bucket: str, make_stream: Any
) -> None:
    stream = make_stream(Prefix="size/", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 900})
    records = [b"%04d" % i + b"x" * (100_000 - 5) + b"\n" for i in range(26)]  # 2.6 MB
    put(firehose, stream, records, per_call=10)
    # two objects of ten records are cut by size alone; the rest waits for the 900 s interval
    found = wait_for(
        lambda: objects_of(s3, bucket, stream),
        lambda f: len(f) >= 2,
        timeout=30,
        what="two objects cut by size",
        show=sorted,
    )
    assert stream_stats(stream)["buffered_records"] == 6
    summary = internal("/_clickstream/firehose/flush", "POST")
    row = next(r for r in summary["streams"] if r["stream"] == stream)
    assert row["flushed"] == {"records": 6, "delivered": 6, "failed": 0}
    found = objects_of(s3, bucket, stream)
    assert sorted(len(b) for b in found.values()) == [600_000, 1_000_000, 1_000_000]
    assert all(len(b) <= 1024 * 1024 for b in found.values())
    assert sorted(b"".join(found.values()).splitlines(keepends=True)) == records


def test_idle_buffer_is_flushed_after_the_interval(
    firehose: Any, s3: Any, bucket: str, make_stream: Any
) -> None:
    stream = make_stream(Prefix="idle/", BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 4})
    put(firehose, stream, [b'{"idle":1}\n'])
    sent = time.monotonic()
    stats = stream_stats(stream)
    assert (stats["buffered_records"], stats["buffered_bytes"]) == (1, 11)
    assert objects_of(s3, bucket, stream) == {}
    found = wait_for(
        lambda: objects_of(s3, bucket, stream), bool, timeout=30, what="the idle flush"
    )
    assert time.monotonic() - sent >= 3.0, "delivered before the interval"
    assert list(found.values()) == [b'{"idle":1}\n']
    assert stream_stats(stream)["buffered_records"] == 0


# ------------------------------------------------------------------ keys and validation
def test_prefix_expressions_write_under_todays_utc_date(
    firehose: Any, s3: Any, bucket: str, make_stream: Any
) -> None:
    stream = make_stream(
        Prefix="x/!{timestamp:yyyy/MM/dd}/",
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
    )
    before = utc_day()
    put(firehose, stream, [b'{"k":1}\n'])
    found = wait_for(lambda: objects_of(s3, bucket, stream), bool, timeout=30, what="the object")
    ((key, _),) = found.items()
    assert any(key.startswith(f"x/{day}/{stream}-1-") for day in {before, utc_day()}), key


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Prefix": "x/!{timestamp:yyyy/MM/dd}/"}, "ErrorOutputPrefix cannot be null or empty"),
        (
            {"Prefix": "x/", "ErrorOutputPrefix": "e/!{timestamp:yyyy}/"},
            "must contain !{firehose:error-output-type}",
        ),
        (
            {"Prefix": "x/!{firehose:error-output-type}/", "ErrorOutputPrefix": "e/"},
            "Prefix cannot contain",
        ),
        ({"Prefix": "x/!{nope:v}/", "ErrorOutputPrefix": "e/"}, "Unsupported namespace"),
        ({"CompressionFormat": "Snappy"}, "CompressionFormat Snappy is not emulated"),
        ({"BufferingHints": {"SizeInMBs": 129, "IntervalInSeconds": 60}}, "between 1 and 128"),
    ],
)
def test_invalid_destinations_are_rejected_at_create_time_as_aws_does(
    firehose: Any, make_stream: Any, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        make_stream(**config)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidArgumentException"
    assert message in error["Message"]


def test_update_destination_merges_bumps_the_version_and_checks_it(
    firehose: Any, s3: Any, bucket: str, make_stream: Any
) -> None:
    stream = make_stream(Prefix="upd/", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 900})
    put(firehose, stream, [b"before\n"])
    desc = firehose.describe_delivery_stream(DeliveryStreamName=stream)["DeliveryStreamDescription"]
    firehose.update_destination(
        DeliveryStreamName=stream,
        CurrentDeliveryStreamVersionId=desc["VersionId"],
        DestinationId=desc["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"BufferingHints": {"IntervalInSeconds": 0}},
    )
    after = firehose.describe_delivery_stream(DeliveryStreamName=stream)[
        "DeliveryStreamDescription"
    ]
    dest = after["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert after["VersionId"] == "2"
    assert dest["BufferingHints"] == {"SizeInMBs": 1, "IntervalInSeconds": 0}
    assert dest["Prefix"] == "upd/" and dest["CompressionFormat"] == "GZIP"
    put(firehose, stream, [b"after\n"])
    found = wait_for(
        lambda: objects_of(s3, bucket, stream), lambda f: len(f) == 2, timeout=30, what="2 objects"
    )
    by_version = {re.search(rf"{stream}-(\d+)-", k).group(1): b for k, b in found.items()}  # type: ignore[union-attr]
    assert by_version == {"1": b"before\n", "2": b"after\n"}
    with pytest.raises(ClientError, match="ConcurrentModificationException"):
        firehose.update_destination(
            DeliveryStreamName=stream,
            CurrentDeliveryStreamVersionId="1",
            DestinationId=desc["Destinations"][0]["DestinationId"],
            ExtendedS3DestinationUpdate={"Prefix": "other/"},
        )


def test_server_side_encryption_is_accepted_and_described(firehose: Any, make_stream: Any) -> None:
    stream = make_stream()
    describe = lambda: firehose.describe_delivery_stream(DeliveryStreamName=stream)[  # noqa: E731
        "DeliveryStreamDescription"
    ]["DeliveryStreamEncryptionConfiguration"]
    assert describe()["Status"] == "DISABLED"
    firehose.start_delivery_stream_encryption(
        DeliveryStreamName=stream,
        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"},
    )
    assert describe() == {"KeyType": "AWS_OWNED_CMK", "Status": "ENABLED"}
    with pytest.raises(ClientError, match="KeyARN is required"):
        firehose.start_delivery_stream_encryption(
            DeliveryStreamName=stream,
            DeliveryStreamEncryptionConfigurationInput={"KeyType": "CUSTOMER_MANAGED_CMK"},
        )
    firehose.stop_delivery_stream_encryption(DeliveryStreamName=stream)
    assert describe()["Status"] == "DISABLED"


# ------------------------------------------------------------------ failures
def test_deleted_bucket_is_retried_then_records_go_to_the_error_output(
    firehose: Any, s3: Any, make_stream: Any, run_id: str
) -> None:
    retry_seconds = internal("/_clickstream/firehose/buffers")["retry_seconds"]
    assert retry_seconds <= 60, (
        f"LocalStack runs with FIREHOSE_RETRY_SECONDS={retry_seconds}: start it with `make up`"
    )
    doomed = f"clickstream-fh-gone-{run_id}"
    s3.create_bucket(Bucket=doomed)
    stream = make_stream(
        target=doomed,
        Prefix="x/!{timestamp:yyyy/MM/dd}/",
        ErrorOutputPrefix="errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
        BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
    )
    s3.delete_bucket(Bucket=doomed)
    records = [b'{"lost":%d}\n' % i for i in range(30)]
    before = utc_day()
    put(firehose, stream, records)
    # retried for FIREHOSE_RETRY_SECONDS, then the error output (same bucket: failing too)
    stats = wait_for(
        lambda: stream_stats(stream),
        lambda s: s.get("retrying_to_error_output_records") == len(records),
        timeout=retry_seconds + 30,
        what="the retries to run out",
    )
    assert stats["failed_attempts"] >= 2
    assert stats["last_error"].startswith("S3.NoSuchBucket")
    assert stats["delivered_records"] == 0
    status = run_cli(["python", str(REPO / "scripts" / "status.py")]).stdout
    assert re.search(rf"{stream}: .*30 records retrying", status), status
    # the bucket comes back: the next retry writes the error output, nothing was dropped
    s3.create_bucket(Bucket=doomed)
    try:
        keys = wait_for(
            lambda: keys_of(s3, doomed), bool, timeout=30, what="the error output object"
        )
        assert len(keys) == 1
        assert any(
            keys[0].startswith(f"errors/s3-failed/{day}/{stream}-1-") for day in {before, utc_day()}
        ), keys
        body = gzip.decompress(s3.get_object(Bucket=doomed, Key=keys[0])["Body"].read())
        lines = [json.loads(line) for line in body.splitlines()]
        assert [base64.b64decode(r["rawData"]) for r in lines] == records
        assert {r["errorCode"] for r in lines} == {"S3.NoSuchBucket"}
        assert min(r["attemptsMade"] for r in lines) >= 2
        assert stream_stats(stream)["error_output_records"] == len(records)
    finally:
        empty_bucket(s3, doomed)
        s3.delete_bucket(Bucket=doomed)


# ------------------------------------------------------------------ endpoints and make status
def test_flush_endpoint_delivers_every_buffer_now_and_status_shows_buffers(
    firehose: Any, s3: Any, bucket: str, make_stream: Any
) -> None:
    stream = make_stream(
        Prefix="flush/", BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 900}
    )
    records = [b'{"f":%d}\n' % i for i in range(40)]
    put(firehose, stream, records)
    status = run_cli(["python", str(REPO / "scripts" / "status.py")]).stdout
    assert re.search(rf"{stream}: 40 records, {sum(map(len, records)):,} bytes buffered", status), (
        status
    )
    summary = internal("/_clickstream/firehose/flush", "POST")
    row = next(r for r in summary["streams"] if r["stream"] == stream)
    assert row["flushed"] == {"records": 40, "delivered": 40, "failed": 0}
    assert row["buffered_records"] == 0
    assert list(objects_of(s3, bucket, stream).values()) == [b"".join(records)]


# ------------------------------------------------------------------ the pipeline
def test_deployed_stream_writes_gzip_objects_the_pipeline_turns_into_parquet(
    firehose: Any, s3: Any, outputs: dict[str, Any]
) -> None:
    from generator.pipeline import GenConfig, generate_records

    from .support import clean_pipeline, wait_reconciled

    clean_pipeline(s3, outputs)
    cfg = GenConfig(seed=12, start_ms=1_735_084_800_000, end_ms=1_735_171_200_000, count=400)
    put(firehose, str(outputs["firehose_name"]), [r.data for r in generate_records(cfg)], 200)
    wait_reconciled(s3, outputs, rows=400, quarantined=0, timeout=90, what="the GZIP objects")
    raw = keys_of(s3, str(outputs["raw_bucket"]), str(outputs["raw_prefix"]))
    assert 1 <= len(raw) <= 2, raw  # two calls, normally inside one 1 s interval
    for key in raw:
        assert re.search(rf"/{outputs['firehose_name']}-\d+-[-0-9]{{19}}-{UUID}\.gz$", key), key
        head = s3.get_object(Bucket=str(outputs["raw_bucket"]), Key=key, Range="bytes=0-1")
        assert head["Body"].read() == b"\x1f\x8b"
