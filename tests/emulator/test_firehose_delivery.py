"""The local Firehose's buffer, compression, configuration and delivery engine, with an in-memory
S3 (the engine takes the write as a function; the e2e tests run it against LocalStack's S3)."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clickstream_emulator.firehose import compression
from clickstream_emulator.firehose.buffer import StreamBuffer
from clickstream_emulator.firehose.config import (
    MIB,
    ConfigError,
    DeliveryConfig,
    from_description,
    validate_destination,
)
from clickstream_emulator.firehose.delivery import DeliveryError, backoff
from clickstream_emulator.firehose.engine import DeliveryEngine

STREAM = ("000000000000", "us-east-1", "events")


def config(**overrides: Any) -> DeliveryConfig:
    base: dict[str, Any] = {
        "stream": "events",
        "version": "1",
        "bucket": "raw",
        "prefix": "raw/",
        "error_prefix": "errors/",
        "size_bytes": MIB,
        "interval_seconds": 0.3,
        "compression": "GZIP",
        "extension": ".gz",
    }
    return DeliveryConfig(**{**base, **overrides})


class FakeS3:
    """Objects by key; ``fail`` decides per key whether a put raises."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.attempts = 0
        self.fail = lambda key: False
        self.lock = threading.Lock()

    def write(self, cfg: DeliveryConfig, key: str, body: bytes) -> None:
        with self.lock:
            self.attempts += 1
            if self.fail(key):
                raise DeliveryError("S3.NoSuchBucket", "The specified bucket does not exist")
            self.objects[key] = body


@pytest.fixture
def s3() -> FakeS3:
    return FakeS3()


@pytest.fixture
def engine(s3: FakeS3, tmp_path: Path) -> Iterator[DeliveryEngine]:
    eng = DeliveryEngine(s3.write, retry_seconds=0.5, spill_dir=tmp_path / "spill")
    yield eng
    eng.shutdown()


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


# ------------------------------------------------------------------ buffer
def test_buffer_cuts_before_a_record_would_pass_the_size() -> None:
    buf = StreamBuffer()
    assert buf.add([b"x" * 40] * 2, now=0.0, size_bytes=100) == []
    full = buf.add([b"y" * 40] * 3, now=1.0, size_bytes=100)
    assert [b.nbytes for b in full] == [80, 80]  # 80 + 40 > 100: cut first, twice
    assert (buf.nbytes, buf.records) == (40, 1)
    assert buf.add([b"z" * 60], now=2.0, size_bytes=100)[0].nbytes == 100  # exactly full: cut


def test_buffer_is_due_when_the_oldest_record_waited_the_interval() -> None:
    buf = StreamBuffer()
    assert not buf.due(100.0, 5)
    buf.add([b"a"], now=100.0, size_bytes=10)
    buf.add([b"b"], now=103.0, size_bytes=10)
    assert not buf.due(104.9, 5)
    assert buf.due(105.0, 5)
    batch = buf.take()
    assert batch is not None and batch.records == [b"a", b"b"] and batch.oldest == 100.0
    assert buf.take() is None


# ------------------------------------------------------------------ compression / config
def test_gzip_body_is_one_gzip_stream_of_the_concatenated_records() -> None:
    body = compression.encode([b'{"a":1}\n', b'{"a":2}'], "GZIP")
    assert body[:2] == b"\x1f\x8b"
    assert gzip.decompress(body) == b'{"a":1}\n{"a":2}'
    assert compression.encode([b"a", b"b"], "UNCOMPRESSED") == b"ab"


@pytest.mark.parametrize("fmt", ["ZIP", "Snappy", "HADOOP_SNAPPY"])
def test_formats_not_emulated_are_rejected_at_create(fmt: str) -> None:
    with pytest.raises(ConfigError, match=f"CompressionFormat {fmt} is not emulated"):
        validate_destination({"BucketARN": "arn:aws:s3:::b", "CompressionFormat": fmt})


@pytest.mark.parametrize(
    ("hints", "message"),
    [
        ({"SizeInMBs": 0, "IntervalInSeconds": 60}, "SizeInMBs must be between 1 and 128"),
        ({"SizeInMBs": 129, "IntervalInSeconds": 60}, "SizeInMBs must be between 1 and 128"),
        ({"SizeInMBs": 5, "IntervalInSeconds": 901}, "between 0 and 900"),
        ({"SizeInMBs": 5}, "specify both"),
    ],
)
def test_buffering_hints_out_of_range_are_rejected(hints: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_destination({"BucketARN": "arn:aws:s3:::b", "BufferingHints": hints})


def test_config_defaults_are_aws_defaults_and_file_extension_wins() -> None:
    cfg = from_description("s", "2", {"BucketARN": "arn:aws:s3:::bucket"})
    assert (cfg.bucket, cfg.size_bytes, cfg.interval_seconds) == ("bucket", 5 * MIB, 300.0)
    assert (cfg.compression, cfg.extension, cfg.prefix) == ("UNCOMPRESSED", "", "")
    gz = from_description(
        "s",
        "2",
        {
            "BucketARN": "arn:aws:s3:::bucket",
            "CompressionFormat": "GZIP",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 0},
            "FileExtension": ".json.gz",
        },
    )
    assert (gz.size_bytes, gz.interval_seconds, gz.extension) == (64 * MIB, 0.0, ".json.gz")


def test_backoff_grows_to_five_seconds() -> None:
    assert [backoff(n) for n in range(1, 7)] == [1, 2, 4, 5, 5, 5]


# ------------------------------------------------------------------ engine
def test_puts_within_one_interval_become_one_object(engine: DeliveryEngine, s3: FakeS3) -> None:
    cfg = config(interval_seconds=0.5)
    for i in range(5):
        engine.put(STREAM, cfg, [b'{"n":%d}\n' % i] * 3)
    assert s3.objects == {}
    wait_until(lambda: len(s3.objects) == 1)
    ((key, body),) = s3.objects.items()
    assert key.startswith("raw/") and key.endswith(".gz") and "/events-1-" in key
    assert gzip.decompress(body) == b"".join(b'{"n":%d}\n' % i * 3 for i in range(5))
    time.sleep(0.7)
    assert len(s3.objects) == 1  # nothing else was buffered


def test_crossing_the_size_gives_several_objects_none_above_it(
    engine: DeliveryEngine, s3: FakeS3
) -> None:
    cfg = config(size_bytes=1000, interval_seconds=60, compression="UNCOMPRESSED", extension="")
    records = [b"%05d" % i + b"x" * 95 for i in range(25)]  # 2500 bytes
    engine.put(STREAM, cfg, records)
    wait_until(lambda: len(s3.objects) == 2)  # two full ones at once, the rest waits
    assert all(len(b) == 1000 for b in s3.objects.values())
    summary = engine.flush()
    assert summary["undelivered_records"] == 0
    assert summary["streams"][0]["flushed"] == {"records": 5, "delivered": 5, "failed": 0}
    assert sorted(len(b) for b in s3.objects.values()) == [500, 1000, 1000]
    assert b"".join(sorted(s3.objects.values(), key=lambda b: b[:5])) == b"".join(records)


def test_stats_show_what_is_buffered(engine: DeliveryEngine) -> None:
    engine.put(STREAM, config(interval_seconds=60), [b"abc", b"de"])
    (row,) = engine.stats()["streams"]
    assert (row["stream"], row["buffered_records"], row["buffered_bytes"]) == ("events", 2, 5)
    assert row["delivered_records"] == 0 and row["oldest_buffered_age_seconds"] >= 0


def test_failed_delivery_is_retried_then_written_to_the_error_output(
    engine: DeliveryEngine, s3: FakeS3
) -> None:
    s3.fail = lambda key: key.startswith("raw/")
    records = [b'{"a":1}\n', b'{"a":2}\n']
    engine.put(STREAM, config(interval_seconds=0), records)
    wait_until(lambda: len(s3.objects) == 1, timeout=15)
    ((key, body),) = s3.objects.items()
    assert key.startswith("errors/s3-failed/") and key.endswith(".gz")
    lines = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    assert [base64.b64decode(r["rawData"]) for r in lines] == records
    assert {r["errorCode"] for r in lines} == {"S3.NoSuchBucket"}
    assert all(r["attemptsMade"] >= 1 for r in lines)
    (row,) = engine.stats()["streams"]
    assert row["error_output_records"] == 2 and row["failed_attempts"] >= 1
    assert row["last_error"].startswith("S3.NoSuchBucket")


def test_recovered_destination_gets_the_records_at_the_normal_prefix(
    s3: FakeS3, tmp_path: Path
) -> None:
    engine = DeliveryEngine(s3.write, retry_seconds=60, spill_dir=tmp_path)
    try:
        failing = {"on": True}
        s3.fail = lambda key: failing["on"]
        engine.put(STREAM, config(interval_seconds=0), [b"r1", b"r2"])
        wait_until(lambda: engine.stats()["streams"][0]["retrying_records"] == 2)
        failing["on"] = False
        summary = engine.flush()  # retries queued failures at once
        assert summary["undelivered_records"] == 0
        assert [k[:4] for k in s3.objects] == ["raw/"]
    finally:
        engine.shutdown()


def test_undeliverable_records_are_kept_on_disk_at_shutdown(s3: FakeS3, tmp_path: Path) -> None:
    engine = DeliveryEngine(s3.write, retry_seconds=0, spill_dir=tmp_path / "spill")
    s3.fail = lambda key: True
    engine.put(STREAM, config(interval_seconds=60), [b"keep-me-1", b"keep-me-2"])
    summary = engine.shutdown()
    assert summary["undelivered_records"] == 2
    (spilled,) = (tmp_path / "spill").iterdir()
    kept = [json.loads(line) for line in spilled.read_text().splitlines()]
    assert [base64.b64decode(r["rawData"]) for r in kept] == [b"keep-me-1", b"keep-me-2"]
    assert s3.objects == {}


def test_deleting_a_stream_delivers_its_buffer_and_a_racing_put_is_not_lost(
    engine: DeliveryEngine, s3: FakeS3
) -> None:
    cfg = config(interval_seconds=0.3, compression="UNCOMPRESSED", extension="")
    engine.put(STREAM, cfg, [b"a"])
    engine.forget_stream(STREAM)
    assert list(s3.objects.values()) == [b"a"]  # delivered before forget_stream returned
    engine.put(STREAM, cfg, [b"b"])  # accepted just before LocalStack dropped the stream
    wait_until(lambda: len(s3.objects) == 2)
    assert sorted(s3.objects.values()) == [b"a", b"b"]


def test_a_deleted_stream_leaves_the_stats_once_its_records_are_out(s3: FakeS3) -> None:
    live = {"yes": True}
    engine = DeliveryEngine(s3.write, retry_seconds=60, exists=lambda _k: live["yes"])
    try:
        cfg = config(interval_seconds=0.2, compression="UNCOMPRESSED", extension="")
        engine.put(STREAM, cfg, [b"x"])
        live["yes"] = False  # LocalStack deleted it after the put was accepted
        wait_until(lambda: not engine.stats()["streams"])
        assert list(s3.objects.values()) == [b"x"]
    finally:
        engine.shutdown()
