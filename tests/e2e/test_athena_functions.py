"""Trino functions through the Athena API on the running stack (boto3 -> LocalStack -> DuckDB).

Events go through the real pipeline (raw object -> Lambda -> Parquet -> Glue ``events`` table);
the answers are computed here from the generated records. The functions' semantics are unit
tested example by example (tests/queries/test_trino_functions.py); this checks that the Athena
API runs the expansions over a Glue table and reports a missing function as Athena does.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from generator.pipeline import GenConfig, generate_records

from .support import arrival_prefix, clean_pipeline, client, wait_reconciled
from .test_athena_api import results, start, wait

pytestmark = pytest.mark.e2e

START_MS = 1_734_912_000_000  # 2024-12-23T00:00:00Z
ROWS = 400


@pytest.fixture(scope="module")
def athena(outputs: dict[str, Any]) -> Any:
    return client("athena")


@pytest.fixture(scope="module")
def events(s3: Any, outputs: dict[str, Any]) -> list[dict[str, Any]]:
    """ROWS events delivered through the pipeline; the records as dicts."""
    clean_pipeline(s3, outputs)
    cfg = GenConfig(seed=11, start_ms=START_MS, end_ms=START_MS + 2 * 86_400_000, count=ROWS)
    records = list(generate_records(cfg))
    s3.put_object(
        Bucket=outputs["raw_bucket"],
        Key=f"{arrival_prefix(outputs)}trino-functions",
        Body=b"".join(r.data for r in records),
    )
    wait_reconciled(s3, outputs, rows=ROWS, quarantined=0, what="the Trino functions fixture")
    return [json.loads(r.data) for r in records]


def run(athena: Any, outputs: dict[str, Any], sql: str) -> dict[str, Any]:
    return wait(athena, start(athena, sql, outputs["athena_workgroup"], outputs["glue_database"]))


def rows(athena: Any, outputs: dict[str, Any], sql: str) -> list[dict[str, Any]]:
    execution = run(athena, outputs, sql)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    return results(athena, execution["QueryExecutionId"], page_size=100)


def test_map_agg_over_events_succeeds(
    athena: Any, outputs: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    """The issue's example, then its map read back per key."""
    counts = Counter(e["event_type"] for e in events)
    execution = run(athena, outputs, "SELECT map_agg(event_type, 1) FROM events")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    (row,) = results(athena, execution["QueryExecutionId"], page_size=10)
    assert all(event_type in row["_col0"] for event_type in counts), row
    per_type = rows(
        athena,
        outputs,
        "SELECT cardinality(m) AS types, "
        + ", ".join(f"element_at(m, '{t}') AS {t}" for t in sorted(counts))
        + " FROM (SELECT map_agg(event_type, n) AS m "
        "FROM (SELECT event_type, count(*) AS n FROM events GROUP BY event_type))",
    )
    assert per_type == [{"types": len(counts)} | {t: counts[t] for t in sorted(counts)}]


def test_expansions_over_the_glue_table(
    athena: Any, outputs: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    hosts = Counter(urlsplit(e["referrer"]).hostname for e in events if e["referrer"])
    days = Counter(e["event_timestamp"][:10] for e in events)
    by_host = rows(
        athena,
        outputs,
        "SELECT url_extract_host(referrer) AS host, count_if(regexp_like(page_url, '^/')) AS n "
        "FROM events WHERE referrer IS NOT NULL GROUP BY 1",
    )
    assert {r["host"]: r["n"] for r in by_host} == dict(hosts)
    by_day = rows(
        athena,
        outputs,
        "SELECT date_format(event_timestamp, '%Y-%m-%d') AS day, count(*) AS n, "
        "approx_distinct(user_id) AS users FROM events GROUP BY 1",
    )
    assert {r["day"]: r["n"] for r in by_day} == dict(days)


def test_an_unknown_function_fails_with_function_not_found(
    athena: Any, outputs: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    status = run(athena, outputs, "SELECT no_such_function(event_type) FROM events")["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"] == (
        "FUNCTION_NOT_FOUND: line 1:8: Function 'no_such_function' not registered"
    )
    assert status["AthenaError"]["ErrorCategory"] == 2  # USER
    # a Trino function the local engine does not emulate: Athena's words, and why
    missing = run(athena, outputs, "SELECT st_area(event_type) FROM events")["Status"]
    assert missing["State"] == "FAILED"
    assert missing["StateChangeReason"].startswith(
        "FUNCTION_NOT_FOUND: line 1:8: Function 'st_area' not registered ("
    )
