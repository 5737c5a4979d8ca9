"""Dialect guard: every query file is valid Athena (Trino) SQL that DuckDB runs with the same
meaning, and the known traps between the two engines are demonstrated - each test shows the trap
on real DuckDB (the naive route gets it wrong) and that the project's route gets it right."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from athena_local import catalog, dialect, sql
from athena_local.compare import mismatches, order_spec
from athena_local.runner import Runner

from .conftest import event

DB = "clickstream_pipeline_local_db"


# ------------------------------------------------------------------ every file parses and transpiles
@pytest.mark.parametrize("query", sql.list_queries(), ids=lambda q: q.name)
def test_query_file_parses_as_athena_and_transpiles_to_duckdb(query: sql.QueryFile) -> None:
    translation = dialect.to_duckdb(query.render(DB), DB, origin=query.name)
    assert translation.warnings == ()
    assert f"FROM {DB}.events" in translation.duckdb_sql
    # DuckDB's own parser accepts the text (binding needs the table: see test_correctness).
    assert len(duckdb.connect().extract_statements(translation.duckdb_sql)) == 1


def test_a_parse_error_names_the_file_and_position() -> None:
    with pytest.raises(dialect.DialectError, match=r"broken\.sql: not valid .*Line 1"):
        dialect.to_duckdb("SELECT FROM FROM x WHERE", DB, origin="broken.sql")


def test_an_unknown_column_fails_like_athena_column_not_found() -> None:
    with pytest.raises(dialect.DialectError, match="pageurl"):
        dialect.to_duckdb(f"SELECT pageurl FROM {DB}.events", DB)


def test_athena_dialect_is_used() -> None:
    assert dialect.READ_DIALECT == "athena"


# ------------------------------------------------------------------ trap 1: integer division
def _one(sql_text: str) -> tuple:
    rows = duckdb.connect().execute(sql_text).fetchall()
    assert len(rows) == 1
    return rows[0]


def test_integer_division_truncates_like_trino() -> None:
    athena = "SELECT 7 / 2 AS q, -7 / 2 AS n, 7.0 / 2 AS d, COUNT(*) / 2 AS c FROM (VALUES (1), (2), (3)) t(x)"
    # Trino: 3, -3 (truncation toward zero), 3.5 (decimal), 1 (bigint / integer)
    assert _one(dialect.to_duckdb(athena, DB).duckdb_sql) == (3, -3, 3.5, 1)
    # The trap: a text-only transpile runs DuckDB's true division.
    assert _one(dialect.naive_transpile(athena)) == (3.5, -3.5, 3.5, 1.5)


def test_integer_division_on_table_columns_is_typed_from_the_schema() -> None:
    translation = dialect.to_duckdb(f"SELECT quantity / 2 AS half FROM {DB}.events", DB)
    assert "TRUNC" in translation.duckdb_sql  # quantity is int32 in schema.py


# ------------------------------------------------------------------ trap 2: date_diff units
@pytest.mark.parametrize(
    ("unit", "start", "end", "trino"),
    [
        ("day", "2024-12-24 23:00:00", "2024-12-25 01:00:00", 0),  # 2 h: no complete day
        ("hour", "2024-12-25 10:59:00", "2024-12-25 11:01:00", 0),  # 2 min: no complete hour
        ("day", "2024-12-24 01:00:00", "2024-12-25 01:00:00", 1),
        ("month", "2024-12-31 00:00:00", "2025-01-01 00:00:00", 0),
    ],
)
def test_date_diff_counts_complete_units_like_trino(
    unit: str, start: str, end: str, trino: int
) -> None:
    athena = f"SELECT date_diff('{unit}', TIMESTAMP '{start}', TIMESTAMP '{end}') AS d"
    assert _one(dialect.to_duckdb(athena, DB).duckdb_sql) == (trino,)
    naive = _one(dialect.naive_transpile(athena))
    boundaries_crossed = 1 if start[:10] != end[:10] or start[11:13] != end[11:13] else 0
    assert naive == (boundaries_crossed,)  # DuckDB's date_diff counts unit boundaries


# ------------------------------------------------------------------ trap 3: time zones
def test_session_time_zone_is_pinned_to_utc() -> None:
    con = catalog.connect()
    assert con.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]


def test_event_timestamp_reads_as_utc_wall_clock_whatever_the_session_zone(parquet_dir) -> None:
    root = parquet_dir([event("2024-12-25T02:30:00Z")])
    with Runner.open(catalog.LocalDirSource(root), DB) as runner:
        runner.con.execute("SET TimeZone = 'America/Los_Angeles'")  # a laptop in California
        q = f"SELECT CAST(event_timestamp AS DATE), hour(event_timestamp), day FROM {DB}.events"
        assert runner.con.execute(q).fetchall() == [(dt.date(2024, 12, 25), 2, "25")]
        # The trap: the Parquet column is a UTC instant (TIMESTAMPTZ in DuckDB); read raw, it
        # is converted to the session zone and lands on the previous day.
        raw = f"SELECT CAST(event_timestamp AS DATE) FROM read_parquet('{root}/*/*/*/*.parquet')"
        assert runner.con.execute(raw).fetchall() == [(dt.date(2024, 12, 24),)]


# ------------------------------------------------------------------ trap 4: string partitions
def test_comparing_a_string_partition_with_a_number_is_refused(parquet_dir) -> None:
    root = parquet_dir([event("2024-12-25T10:00:00Z")])
    athena = f"SELECT COUNT(*) FROM {DB}.events WHERE year = 2024"
    with pytest.raises(dialect.DialectError, match="varchar with a number"):
        dialect.to_duckdb(athena, DB)
    # The trap: DuckDB itself coerces and answers, where Athena raises
    # "Cannot apply operator: varchar = integer".
    with Runner.open(catalog.LocalDirSource(root), DB) as runner:
        assert runner.con.execute(athena).fetchall() == [(1,)]


def test_partitions_are_strings_so_unpadded_values_match_nothing_as_on_athena(parquet_dir) -> None:
    root = parquet_dir([event("2024-12-05T10:00:00Z")])
    athena = f"SELECT COUNT(*) FROM {DB}.events WHERE day = '5'"
    translation = dialect.to_duckdb(athena, DB)
    assert any("zero-padded" in w for w in translation.warnings)
    with Runner.open(catalog.LocalDirSource(root), DB) as runner:
        assert runner.con.execute(translation.duckdb_sql).fetchall() == [(0,)]  # Athena: 0 too


def _partition_types(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[str, ...]:
    described = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    return tuple(described[key] for key in ("year", "month", "day"))


@pytest.mark.parametrize("day", ["05", "25"])
def test_partition_columns_are_varchar_whatever_the_values(parquet_dir, day: str) -> None:
    root = parquet_dir([event(f"2024-12-{day}T10:00:00Z")])
    with Runner.open(catalog.LocalDirSource(root), DB) as runner:
        assert _partition_types(runner.con, f"{DB}.events") == ("VARCHAR",) * 3
        # The trap: DuckDB's default Hive typing guesses per value - '2024' and '12' become
        # BIGINT, '25' BIGINT but '05' VARCHAR (leading zero) - so the column types (and what
        # `day = 25` or `day = '5'` mean) change with the data. Glue always says string.
        guessed = _partition_types(
            runner.con, f"read_parquet('{root}/*/*/*/*.parquet', hive_partitioning = true)"
        )
        assert guessed == ("BIGINT", "BIGINT", "VARCHAR" if day == "05" else "BIGINT")


# ------------------------------------------------------------------ trap 5: ORDER BY ties, no ORDER BY
TOP_PAGES = sql.load_query("top_pages").render(DB)


def _pages_with_tie_at_the_cut() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """9 pages with 5 views and 3 pages tied with 3 views: the 10th place is a 3-way tie."""
    counts = {f"/p{i}": 5 for i in range(9)} | {"/tie-a": 3, "/tie-b": 3, "/tie-c": 3}
    rows = [
        event(f"2024-12-25T10:{n:02d}:00Z", page_url=page, event_id=f"{page}-{n}")
        for page, count in counts.items()
        for n in range(count)
    ]
    truth = [{"page_url": p, "views": c} for p, c in counts.items()]
    return rows, truth


def test_a_tie_at_the_limit_allows_several_correct_answers_and_the_runner_returns_one(
    parquet_dir,
) -> None:
    rows, truth = _pages_with_tie_at_the_cut()
    spec = order_spec(TOP_PAGES)
    assert spec.limit == 10 and spec.keys == (("views", True),)
    root = parquet_dir(list(reversed(rows)), files_per_day=3)
    with Runner.open(catalog.LocalDirSource(root), DB) as runner:
        got = runner.run("top_pages").table.to_pylist()
    assert mismatches(got, truth, spec) == []
    assert got[-1]["page_url"] in {"/tie-a", "/tie-b", "/tie-c"}
    # Every one of the three tied pages is an equally correct 10th row ...
    top9 = [r for r in truth if r["views"] == 5]
    for tied in ("/tie-a", "/tie-b", "/tie-c"):
        assert mismatches([*top9, {"page_url": tied, "views": 3}], truth, spec) == []
    # ... so an exact comparison with one fixed answer would pass or fail by luck.


def test_tie_aware_comparison_still_rejects_wrong_answers() -> None:
    _, truth = _pages_with_tie_at_the_cut()
    spec = order_spec(TOP_PAGES)
    top9 = [r for r in truth if r["views"] == 5]
    tie = {"page_url": "/tie-a", "views": 3}
    assert mismatches([tie, *top9], truth, spec)  # wrong order
    assert mismatches(
        [*top9[:-1], tie, {"page_url": "/tie-b", "views": 3}], truth, spec
    )  # lost a 5
    assert mismatches([*top9, {"page_url": "/tie-a", "views": 4}], truth, spec)  # wrong count
    assert mismatches(top9, truth, spec)  # too few rows


def test_a_query_without_order_by_is_compared_as_a_set() -> None:
    spec = order_spec(sql.load_query("events_per_country").render(DB))
    assert spec.keys == () and spec.limit is None
    truth = [
        {"country": "DE", "events": 2},
        {"country": "US", "events": 5},
        {"country": None, "events": 1},
    ]
    assert mismatches(list(reversed(truth)), truth, spec) == []
    assert mismatches(truth[:2], truth, spec)
    assert mismatches([*truth[:2], {"country": None, "events": 2}], truth, spec)


def test_queries_dir_override_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.sql").write_text("-- broken: x\nSELECT a FROM ${database}.events WHERE\n")
    monkeypatch.setenv("CLICKSTREAM_QUERIES_DIR", str(tmp_path))
    query = sql.load_query("broken")
    with pytest.raises(dialect.DialectError, match=r"broken\.sql"):
        dialect.to_duckdb(query.render(DB), DB, origin=str(query.path))


def test_an_ordinal_order_by_on_an_unnamed_column_follows_its_athena_name() -> None:
    """qualify writes ORDER BY 1 as ORDER BY _col_0; the column is renamed _col0 (Athena's)."""
    translation = dialect.to_duckdb(
        "SELECT count(*), x FROM (VALUES 1, 1, 2) t(x) GROUP BY 2 ORDER BY 1 DESC, 2", DB
    )
    assert duckdb.connect().execute(translation.duckdb_sql).fetchall() == [(2, 1), (1, 2)]
