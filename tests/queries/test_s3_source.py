"""The S3 read route on LocalStack: pyarrow's S3 filesystem -> Arrow dataset -> DuckDB view.

DuckDB's httpfs extension cannot be installed offline, so this is the route `make query` uses
against the local stack. Marked e2e: needs LocalStack (``localstack.endpoint()``:
this checkout's stack); fails with a message when it is not running.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from athena_local import cli
from athena_local.catalog import ArrowSource
from athena_local.compare import mismatches, order_spec
from athena_local.runner import Runner
from clickstream_common import localstack

from .conftest import event, write_hive_parquet

pytestmark = pytest.mark.e2e

DB = "clickstream_pipeline_local_db"
ENDPOINT = localstack.endpoint()


@pytest.fixture
def s3_bucket(
    localstack_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """A fresh bucket on LocalStack holding a small events/ table (plus a stray quarantine file)."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", ENDPOINT)
    for var, default in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(var, os.environ.get(var, default))
    s3 = boto3.client("s3", endpoint_url=ENDPOINT)
    bucket = f"athena-local-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    rows = [
        event(
            f"2024-12-{day}T{hour:02d}:00:00Z",
            user_id=f"u{hour % 3}",
            session_id=f"s{hour % 3}",
            country=country,
            event_id=f"{day}-{hour}-{country}",
        )
        for day in ("24", "25", "26")
        for hour in range(6)
        for country in ("US", "DE")
    ]
    local = write_hive_parquet(tmp_path / "events", rows, files_per_day=2)
    for path in local.rglob("*.parquet"):
        s3.upload_file(str(path), bucket, f"events/{path.relative_to(local).as_posix()}")
    s3.put_object(Bucket=bucket, Key="quarantine/2024/12/25/bad.jsonl", Body=b'{"reason":"x"}\n')
    yield bucket, local
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
    s3.delete_bucket(Bucket=bucket)


def test_queries_over_s3_equal_the_truth_and_prune_partitions(s3_bucket) -> None:
    bucket, _ = s3_bucket
    with Runner.open(ArrowSource.s3(bucket, "events/", record=True), DB) as runner:
        assert len(runner.files) == 6 and all(
            f.path.startswith(f"{bucket}/events/") for f in runner.files
        )
        sessions = runner.run("user_sessions")
        countries = runner.run("events_per_country")
        evidence = runner.scan_evidence("user_sessions")
    truth_sessions = [{"user_id": f"u{i}", "session_id": f"s{i}", "actions": 4} for i in range(3)]
    spec = order_spec(sessions.translation.athena_sql)
    assert mismatches(sessions.table.to_pylist(), truth_sessions, spec) == []
    truth_countries = [{"country": "US", "events": 18}, {"country": "DE", "events": 18}]
    assert (
        mismatches(
            countries.table.to_pylist(),
            truth_countries,
            order_spec(countries.translation.athena_sql),
        )
        == []
    )
    assert evidence.files_read_count == 2
    assert all("/day=25/" in key for key in evidence.files_read)
    assert sessions.cost is not None and sessions.cost.files_read == 2


def test_cli_reads_s3_url(s3_bucket, capsys: pytest.CaptureFixture[str]) -> None:
    bucket, _ = s3_bucket
    code = cli.main(
        [
            "count_by_event_type",
            "--source",
            f"s3://{bucket}/events/",
            "--format",
            "json",
            "--database",
            DB,
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out) == [{"event_type": "page_view", "cnt": 36}]
    assert "Athena estimate" in out.err
