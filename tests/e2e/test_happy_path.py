"""Happy path: generator -> Firehose -> raw -> Lambda -> Parquet -> the five queries, exactly.

The generator's manifest is the ground truth (it counts the records Firehose confirmed). The
test waits until the transformed table reconciles with it row for row, then runs every query
file through the local Athena (DuckDB over the S3 source, the route `clickstream-query` uses)
and compares each result with the manifest the way the SQL defines its answer: tie-aware for
``ORDER BY cnt DESC`` and ``LIMIT``, order-free for the query without ``ORDER BY``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from athena_local import sql
from athena_local.catalog import ArrowSource
from athena_local.compare import mismatches, order_spec
from athena_local.runner import Runner

from .support import REPO, clean_pipeline, inventory, run_cli, wait_reconciled

EVENTS = 12_000
#: Several days around the seed's sessions query day (2024-12-25); end is exclusive.
START, END = "2024-12-23", "2024-12-27"
SESSIONS_DAY = "2024-12-25"
SEED = 20241225


@pytest.fixture(scope="module")
def delivered(
    s3: Any, outputs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Send the events through the real Firehose and wait until they are all in Parquet."""
    clean_pipeline(s3, outputs)
    manifest_path = tmp_path_factory.mktemp("happy") / "manifest.json"
    run_cli(
        [
            "clickstream-generate",
            *("--count", str(EVENTS), "--start", START, "--end", END, "--seed", str(SEED)),
            # 40 Firehose records of 25 events per call; Firehose merges the calls of each
            # buffering interval into one GZIP object
            *("--batch-size", "40", "--manifest", str(manifest_path), "--quiet"),
        ]
    )
    manifest = json.loads(manifest_path.read_text())
    assert manifest["good"] == EVENTS and manifest["bad"] == 0, manifest["delivery"]
    assert SESSIONS_DAY in manifest["sessions_by_day"], "the sessions query would have no data"
    inv = wait_reconciled(s3, outputs, rows=EVENTS, quarantined=0, what="generated events")
    return {"manifest": manifest, "inventory": inv, "manifest_path": manifest_path}


def test_every_sent_event_is_one_parquet_row_in_its_event_day(delivered: dict[str, Any]) -> None:
    manifest, inv = delivered["manifest"], delivered["inventory"]
    assert inv.records_in == inv.parquet_rows == manifest["good"]
    assert inv.quarantine_records == 0
    assert dict(inv.rows_by_day) == manifest["by_day"]
    assert inv.raw_objects >= 1  # as many as the sending took buffering intervals (1 s locally)


def truth(manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every query's full, unordered answer from the manifest."""
    return {
        "count_by_event_type": [
            {"event_type": k, "cnt": v} for k, v in manifest["by_event_type"].items()
        ],
        "top_pages": [
            {"page_url": k, "views": v} for k, v in manifest["page_views_by_page"].items()
        ],
        "events_per_country": [
            {"country": k, "events": v} for k, v in manifest["by_country"].items()
        ],
        "user_sessions": [
            {"user_id": s["user_id"], "session_id": s["session_id"], "actions": s["count"]}
            for s in manifest["sessions_by_day"][SESSIONS_DAY]
        ],
        "device_breakdown": [
            {"device_type": d["device_type"], "browser": d["browser"], "cnt": d["count"]}
            for d in manifest["by_device_browser"]
        ],
    }


@pytest.fixture(scope="module")
def runner(delivered: dict[str, Any], outputs: dict[str, Any]) -> Any:
    source = ArrowSource.s3(str(outputs["transformed_bucket"]), str(outputs["events_prefix"]))
    with Runner.open(source, str(outputs["glue_database"])) as r:
        yield r


def test_the_query_files_are_the_five_seed_queries() -> None:
    assert sorted(q.name for q in sql.list_queries()) == sorted(truth(_EMPTY))


_EMPTY: dict[str, Any] = {
    "by_event_type": {},
    "page_views_by_page": {},
    "by_country": {},
    "sessions_by_day": {SESSIONS_DAY: []},
    "by_device_browser": [],
}


@pytest.mark.parametrize(
    "query",
    ["count_by_event_type", "top_pages", "events_per_country", "user_sessions", "device_breakdown"],
)
def test_query_result_equals_the_manifest(
    query: str, runner: Any, delivered: dict[str, Any]
) -> None:
    expected = truth(delivered["manifest"])[query]
    result = runner.run(query)
    spec = order_spec(result.translation.athena_sql)
    actual = result.table.to_pylist()
    assert mismatches(actual, expected, spec) == [], f"{query}: {actual[:25]}"
    assert actual, f"{query} returned no rows: the comparison would prove nothing"


def test_make_status_shows_the_counts(delivered: dict[str, Any], outputs: dict[str, Any]) -> None:
    inv = delivered["inventory"]
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "status.py")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"raw: {inv.raw_objects} objects" in out, out
    assert f"parquet: {EVENTS:,} rows" in out, out
    assert "quarantine: 0 records" in out, out
    assert f"{SESSIONS_DAY}: {delivered['manifest']['by_day'][SESSIONS_DAY]:,}" in out, out


def test_wait_for_pipeline_script_reconciles_with_the_manifest(
    delivered: dict[str, Any], s3: Any, outputs: dict[str, Any]
) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "wait_for_pipeline.py"),
            *("--manifest", str(delivered["manifest_path"]), "--timeout", "30"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{EVENTS} rows" in proc.stdout, proc.stdout
    assert inventory(s3, outputs).parquet_rows == EVENTS
