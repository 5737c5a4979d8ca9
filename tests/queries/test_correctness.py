"""Correctness: events with a known ground truth go through the REAL transformer, then all five
query files run through the runner, and every result must equal the truth computed here in plain
Python - compared the way the SQL defines its answer (tie-aware, order-aware)."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from athena_local import sql
from athena_local.catalog import ArrowSource, LocalDirSource, Source
from athena_local.compare import mismatches, order_spec
from athena_local.runner import Runner
from clickstream_common.schema import EVENT_TYPES

DB = "clickstream_pipeline_local_db"
SESSIONS_DAY = dt.date(2024, 12, 25)
PAGES = [f"/products/{i}" for i in range(25)] + ["/", "/cart", "/checkout", "/search"]
COUNTRIES = ["US", "DE", "FR", "GB", "BR", "IN", None]
DEVICES = {"desktop": ["Chrome", "Firefox", "Safari", "Edge"], "mobile": ["Chrome", "Safari"]}


def make_events(n: int, seed: int) -> list[dict[str, object]]:
    """Raw events as the SDK sends them (dropped fields included), over 2024-12-23..27 UTC.

    Some land exactly on the midnight boundaries around the sessions day, so partitioning by
    UTC event time (not by arrival, not by local time) is what makes user_sessions right.
    """
    rng = random.Random(seed)
    start = dt.datetime(2024, 12, 23, tzinfo=dt.UTC)
    boundaries = [
        dt.datetime(2024, 12, 24, 23, 59, 59, 999000, tzinfo=dt.UTC),
        dt.datetime(2024, 12, 25, 0, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2024, 12, 25, 23, 59, 59, 999000, tzinfo=dt.UTC),
        dt.datetime(2024, 12, 26, 0, 0, 0, tzinfo=dt.UTC),
    ]
    users = [f"user-{i:03d}" for i in range(40)]
    events = []
    for i in range(n):
        if i < 40:
            ts = boundaries[i % len(boundaries)]
        else:
            ts = start + dt.timedelta(milliseconds=rng.randrange(5 * 86_400_000))
        user = rng.choice(users)
        device = rng.choice([*DEVICES, None])
        browser = rng.choice(DEVICES[device]) if device else None
        event_type = rng.choices(EVENT_TYPES, weights=[40, 10, 20, 10, 3, 4, 3])[0]
        events.append(
            {
                "event_id": f"evt-{seed}-{i:06d}",
                "event_type": event_type,
                "event_timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{ts.microsecond // 1000:03d}Z",
                "user_id": user,
                "session_id": f"{user}-s{rng.randrange(3)}",
                "page_url": rng.choice(PAGES),
                "referrer": rng.choice([None, "https://www.google.com/"]),
                "device_type": device,
                "browser": browser,
                "os": "Linux",
                "country": rng.choice(COUNTRIES),
                "city": "Somewhere",
                "product_id": None,
                "price": None,
                "quantity": None,
                "search_query": "socks" if event_type == "search" else None,
                "user_agent": "Mozilla/5.0",
                "ip_address": "192.0.2.1",
                "headers": {"accept": "*/*"},
                "sdk_version": "1.2.3",
                "debug": None,
            }
        )
    return events


def truth(events: list[dict[str, object]]) -> dict[str, list[dict[str, object]]]:
    """Every query's full, unordered answer, computed independently of SQL and Parquet."""

    def utc_date(e: dict[str, object]) -> dt.date:
        return dt.datetime.fromisoformat(str(e["event_timestamp"]).replace("Z", "+00:00")).date()

    by_type = Counter(e["event_type"] for e in events)
    pages = Counter(e["page_url"] for e in events if e["event_type"] == "page_view")
    countries = Counter(e["country"] for e in events)
    sessions = Counter(
        (e["user_id"], e["session_id"]) for e in events if utc_date(e) == SESSIONS_DAY
    )
    devices = Counter((e["device_type"], e["browser"]) for e in events)
    return {
        "count_by_event_type": [{"event_type": k, "cnt": v} for k, v in by_type.items()],
        "top_pages": [{"page_url": k, "views": v} for k, v in pages.items()],
        "events_per_country": [{"country": k, "events": v} for k, v in countries.items()],
        "user_sessions": [
            {"user_id": u, "session_id": s, "actions": v} for (u, s), v in sessions.items()
        ],
        "device_breakdown": [
            {"device_type": d, "browser": b, "cnt": v} for (d, b), v in devices.items()
        ],
    }


def _process_file() -> Callable[[Path, Path], object]:
    try:
        from transformer.local import process_file
    except ImportError as err:  # the transformer is written in parallel (issue 3)
        pytest.fail(f"the real transformer is needed: transformer.local.process_file ({err})")
    return process_file


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    """Raw NDJSON objects (like Firehose's, each spanning days) -> real transformer -> Parquet."""
    process_file = _process_file()
    work = tmp_path_factory.mktemp("pipeline")
    events = make_events(3000, seed=7)
    dest = work / "transformed"
    dest.mkdir()
    for n in range(3):
        raw = work / "raw" / f"clickstream-{n}.json"
        raw.parent.mkdir(exist_ok=True)
        raw.write_text("".join(json.dumps(e) + "\n" for e in events[n::3]))
        process_file(raw, dest)
    return dest, events


def _sources(dest: Path) -> dict[str, Source]:
    return {
        "duckdb-native": LocalDirSource(dest),
        "arrow-dataset": ArrowSource.local(dest, record=True),
    }


@pytest.mark.parametrize("route", ["duckdb-native", "arrow-dataset"])
def test_every_query_equals_the_ground_truth(pipeline, route: str) -> None:
    dest, events = pipeline
    expected = truth(events)
    source = _sources(_events_dir(dest))[route]
    with Runner.open(source, DB) as runner:
        total = runner.con.execute(f"SELECT COUNT(*) FROM {DB}.events").fetchall()
        assert total == [(len(events),)], "the transformer lost or duplicated valid events"
        results = {r.name: r for r in runner.run_all()}
    assert sorted(results) == sorted(expected)
    for name, result in results.items():
        spec = order_spec(result.translation.athena_sql)
        problems = mismatches(result.table.to_pylist(), expected[name], spec)
        assert problems == [], f"{name}: {problems}"


def _events_dir(dest: Path) -> Path:
    nested = dest / "events"
    return nested if nested.is_dir() else dest


@pytest.mark.parametrize("route", ["duckdb-native", "arrow-dataset"])
def test_sessions_query_reads_only_the_requested_days_files(pipeline, route: str) -> None:
    dest, _ = pipeline
    source = _sources(_events_dir(dest))[route]
    with Runner.open(source, DB) as runner:
        day_files = {f.path for f in runner.files if f.partition["day"] == "25"}
        other_files = {f.path for f in runner.files} - day_files
        assert day_files and other_files, (
            "the data must span several days for this to prove anything"
        )
        evidence = runner.scan_evidence("user_sessions")
        assert evidence.files_read_count == len(day_files)
        assert {_norm(p) for p in evidence.files_read} == {_norm(p) for p in day_files}
        # and the same probe sees every file read by an unfiltered query
        everything = runner.scan_evidence("count_by_event_type")
        assert everything.files_read_count == len(runner.files) == evidence.files_total


def _norm(path: str) -> str:
    return str(Path(path).resolve())


def test_cost_estimate_counts_only_the_sessions_day_and_the_referenced_columns(pipeline) -> None:
    dest, _ = pipeline
    with Runner.open(LocalDirSource(_events_dir(dest)), DB) as runner:
        sessions = runner.run("user_sessions").cost
        countries = runner.run("events_per_country").cost
    assert sessions is not None and countries is not None
    assert sessions.columns == ("user_id", "session_id")
    assert 0 < sessions.files_read < sessions.files_total
    assert countries.files_read == countries.files_total
    assert sessions.billed_bytes == 10 * 1024**2  # tiny data: the 10 MB minimum applies


def test_all_queries_are_listed() -> None:
    assert len(sql.list_queries()) == 5
