"""The local Athena's engine (clickstream_emulator.athena.engine) on real Parquet and real DuckDB:
queries, result shapes, failures, executions. The Glue catalog is in memory (memory_catalog.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from athena_local.glue_table import CatalogTable
from clickstream_emulator.athena import engine, results
from clickstream_emulator.athena.executions import (
    CANCELLED,
    FAILED,
    SUCCEEDED,
    Executions,
    QueryExecution,
)
from tests.queries.test_glue_table import glue_table, projection

from .conftest import run
from .memory_catalog import MemoryCatalog


def test_a_query_answers_with_athena_types_and_strings(cat: MemoryCatalog) -> None:
    outcome = run(
        cat,
        "SELECT user_id, count(*) AS n, sum(price) AS p, max(event_timestamp) AS t "
        "FROM events WHERE day = '25' GROUP BY user_id ORDER BY user_id",
    )
    assert [(c["Name"], c["Type"]) for c in outcome.columns] == [
        ("user_id", "varchar"),
        ("n", "bigint"),
        ("p", "double"),
        ("t", "timestamp"),
    ]
    assert outcome.rows == [
        ["a", "1", "1.5", "2024-12-25 10:00:00.000"],
        ["b", "1", None, "2024-12-25 11:00:00.000"],
    ]
    assert outcome.data_scanned > 0
    rows = results.result_rows(outcome)
    assert rows[0] == {"Data": [{"VarCharValue": n} for n in ("user_id", "n", "p", "t")]}
    assert rows[2]["Data"][2] == {}  # NULL has no VarCharValue


def test_arrays_maps_and_rows_print_as_trino_prints_them(cat: MemoryCatalog) -> None:
    """Trino's text of nested values: [a, b], {k=v, ...}, {field=value}; null inside is null."""
    outcome = run(
        cat,
        "SELECT ARRAY['x', NULL] AS a, MAP(ARRAY['k', 'n'], ARRAY[1, NULL]) AS m, "
        "CAST(ROW(1, 'a') AS ROW(x INTEGER, y VARCHAR)) AS r, "
        "map_agg(user_id, 1) AS agg FROM events WHERE day = '25'",
    )
    assert [c["Type"] for c in outcome.columns] == ["array", "map", "row", "map"]
    assert outcome.rows == [["[x, null]", "{k=1, n=null}", "{x=1, y=a}", "{a=1, b=1}"]]


def test_csv_is_quoted_like_athena_writes_it() -> None:
    columns = [{"Name": "a"}, {"Name": "b"}]
    assert results.csv_text(columns, [['x"y', None]]) == '"a","b"\n"x""y",\n'


def test_syntax_error_names_line_and_column(cat: MemoryCatalog) -> None:
    with pytest.raises(engine.QueryFailed) as failure:
        run(cat, "SELECT user_id\nFROM events WHERE GROUP BY user_id")
    assert failure.value.reason.startswith("SYNTAX_ERROR: line 2:")
    assert failure.value.state == "FAILED"


def test_unknown_table_and_column_fail_as_athena_words_them(cat: MemoryCatalog) -> None:
    with pytest.raises(
        engine.QueryFailed,
        match=r"^TABLE_NOT_FOUND: line 1:15: Table "
        r"'awsdatacatalog\.db\.nope' does not exist$",
    ):
        run(cat, "SELECT 1 FROM nope")
    with pytest.raises(engine.QueryFailed, match=r"^COLUMN_NOT_FOUND: line 1:8: Column 'colour'"):
        run(cat, "SELECT colour FROM events")


def test_the_cutoff_cancels_the_query_with_athenas_reason(cat: MemoryCatalog) -> None:
    with pytest.raises(engine.QueryFailed) as failure:
        run(cat, "SELECT * FROM events", cutoff=10)
    assert failure.value.reason == "Bytes scanned limit was exceeded"
    assert failure.value.state == "CANCELLED"
    assert run(cat, "SELECT count(*) AS n FROM events", cutoff=10).rows == [["3"]]


def test_statements_that_are_not_emulated_name_themselves(cat: MemoryCatalog) -> None:
    cases = {
        "EXPLAIN SELECT 1": "NOT_SUPPORTED: statement EXPLAIN",
        "CREATE TABLE t2 WITH (format = 'ORC') AS SELECT 1 AS a": "NOT_SUPPORTED: CTAS format 'ORC'",
        "CREATE TABLE t2 WITH (table_type = 'ICEBERG') AS SELECT 1 AS a": (
            "NOT_SUPPORTED: CTAS table_type 'ICEBERG'"
        ),
        "UNLOAD (SELECT 1 AS a) TO 's3://b/u/' WITH (format = 'JSON')": (
            "NOT_SUPPORTED: UNLOAD format 'JSON'"
        ),
        "CREATE EXTERNAL TABLE t3 (a int) STORED AS PARQUET LOCATION 's3://b/t3/'": (
            "NOT_SUPPORTED: CREATE [EXTERNAL] TABLE with a column list"
        ),
        "SHOW FUNCTIONS": "NOT_SUPPORTED: SHOW FUNCTIONS",
        "DESCRIBE FORMATTED events": "NOT_SUPPORTED: DESCRIBE FORMATTED",
        "ALTER TABLE events RENAME TO e2": "NOT_SUPPORTED: ALTER TABLE RENAME TO",
    }
    for sql, expected in cases.items():
        with pytest.raises(engine.QueryFailed) as failure:
            run(cat, sql)
        assert failure.value.reason.startswith(expected), (sql, failure.value.reason)


def test_show_partitions_lists_the_registered_ones_only(cat: MemoryCatalog) -> None:
    outcome = run(cat, "SHOW PARTITIONS events")
    assert outcome.rows == []  # projection: nothing registered, as Athena answers
    assert results.result_rows(outcome) == []


def test_executions_move_through_the_states_and_stop_works(cat: MemoryCatalog) -> None:
    executions = Executions()
    written: list[str] = []

    def make(sql: str) -> QueryExecution:
        return QueryExecution(
            id=sql[:20],
            query=sql,
            workgroup="wg",
            database="db",
            output_location="s3://r/",
            encryption=None,
            cutoff_bytes=None,
            account_id="1",
            region="r",
        )

    ok, bad = make("SELECT count(*) AS n FROM events"), make("SELECT FROM")
    for execution in (ok, bad):
        executions.start(execution, cat, lambda e: written.append(e.id))
    gate = threading.Event()
    blocked = make("SELECT 1 AS blocked")
    executions._pool.submit(gate.wait)
    for _ in range(3):
        executions._pool.submit(gate.wait)
    executions.start(blocked, cat, lambda e: None)
    executions.stop(blocked)
    gate.set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
        e.state in (SUCCEEDED, FAILED, CANCELLED) for e in (ok, bad, blocked)
    ):
        time.sleep(0.05)
    assert (ok.state, bad.state, blocked.state) == (SUCCEEDED, FAILED, CANCELLED)
    assert written == [ok.id]
    assert ok.describe()["Statistics"]["DataScannedInBytes"] == 0  # COUNT(*) reads no column
    assert bad.describe()["Status"]["AthenaError"]["ErrorCategory"] == results.USER
    assert ok.describe()["ResultConfiguration"]["OutputLocation"] == f"s3://r/{ok.id}.csv"
    assert blocked.describe()["Status"]["StateChangeReason"] == "Query was cancelled by the user"


def test_the_s3_mirror_follows_new_changed_and_deleted_objects(tmp_path: Path) -> None:
    from clickstream_emulator.athena import s3_mirror

    remote_root, mirror = tmp_path / "s3", tmp_path / "mirror"
    (remote_root / "b" / "events" / "day=1").mkdir(parents=True)
    s3 = pafs.SubTreeFileSystem(str(remote_root), pafs.LocalFileSystem())
    first = remote_root / "b" / "events" / "day=1" / "a.parquet"
    first.write_bytes(b"one")
    assert s3_mirror.sync(s3, "s3://b/events/", mirror) == 1
    assert s3_mirror.sync(s3, "s3://b/events/", mirror) == 0  # unchanged: no download
    first.write_bytes(b"changed")
    (remote_root / "b" / "events" / "day=1" / "b.parquet").write_bytes(b"two")
    assert s3_mirror.sync(s3, "s3://b/events/", mirror) == 2
    assert (mirror / "b" / "events" / "day=1" / "a.parquet").read_bytes() == b"changed"
    first.unlink()
    s3_mirror.sync(s3, "s3://b/events/", mirror)
    assert not (mirror / "b" / "events" / "day=1" / "a.parquet").exists()
    table = CatalogTable.from_glue(
        glue_table("s3://b/events/", **projection("s3://b/events/${year}/${month}/${day}"))
    )
    local = s3_mirror.localize(table, mirror)
    assert local.location == f"{mirror}/b/events/"
    assert (
        local.parameters["storage.location.template"]
        == f"{mirror}/b/events/${{year}}/${{month}}/${{day}}"
    )


def test_msck_repair_registers_the_hive_folders_and_show_partitions_lists_them(
    cat: MemoryCatalog,
) -> None:
    cat.create_table("db", glue_table("s3://b/events/") | {"Name": "crawled"})  # no projection
    assert run(cat, "SELECT count(*) AS n FROM crawled").rows == [["0"]]  # nothing registered
    repaired = run(cat, "MSCK REPAIR TABLE crawled")
    assert [r[0] for r in repaired.rows] == [
        "Partitions not in metastore:\tcrawled:year=2024/month=12/day=25"
        "\tcrawled:year=2024/month=12/day=26",
        "Repair: Added partition to metastore crawled:year=2024/month=12/day=25",
        "Repair: Added partition to metastore crawled:year=2024/month=12/day=26",
    ]
    assert run(cat, "MSCK REPAIR TABLE crawled").rows == []  # idempotent
    assert run(cat, "SHOW PARTITIONS crawled").rows == [
        ["year=2024/month=12/day=25"],
        ["year=2024/month=12/day=26"],
    ]
    assert run(cat, "SELECT count(*) AS n FROM crawled").rows == [["3"]]
