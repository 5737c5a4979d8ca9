"""The local Athena's engine (clickstream_emulator.athena.engine) on real Parquet and real DuckDB.

The Glue catalog is a dict here (the engine takes it as a parameter); the LocalStack wiring is
covered by tests/e2e/test_athena_api.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import pytest

from athena_local.catalog import ArrowSource
from athena_local.glue_table import CatalogTable
from clickstream_emulator.athena import engine
from clickstream_emulator.athena.executions import (
    CANCELLED,
    FAILED,
    SUCCEEDED,
    Executions,
    QueryExecution,
)

from .conftest import event
from .test_glue_table import glue_table, projection


class DictCatalog:
    """Glue tables from dicts, Parquet from a local directory through the Arrow route."""

    def __init__(self, root: Path, tables: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.root = root
        self.tables = tables
        self.partitions: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def get_table(self, database: str, name: str) -> Mapping[str, Any] | None:
        return self.tables.get((database, name))

    def get_partitions(self, database: str, name: str) -> list[Mapping[str, Any]]:
        return self.partitions.get((database, name), [])

    def list_paths(self, location: str) -> list[str]:
        return [str(p) for p in self.root.rglob("*.parquet")]

    def create_partitions(self, database: str, name: str, partitions: list[dict[str, Any]]) -> None:
        self.partitions.setdefault((database, name), []).extend(partitions)

    def readable(self, table: CatalogTable) -> tuple[ArrowSource, CatalogTable]:
        return ArrowSource.local(self.root), table


@pytest.fixture
def cat(parquet_dir: Any) -> DictCatalog:
    rows = [
        event("2024-12-25T10:00:00Z", user_id="a", price=1.5, quantity=2),
        event("2024-12-25T11:00:00Z", user_id="b", event_type="search"),
        event("2024-12-26T10:00:00Z", user_id="a"),
    ]
    root = parquet_dir(rows)
    return DictCatalog(root, {("db", "events"): glue_table(str(root.resolve()), **projection())})


def run(cat: DictCatalog, sql: str, cutoff: int | None = None) -> engine.Outcome:
    return engine.run(sql, "db", cat, engine.Execution(), cutoff)


def test_a_query_answers_with_athena_types_and_strings(cat: DictCatalog) -> None:
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
    rows = engine.result_rows(outcome)
    assert rows[0] == {"Data": [{"VarCharValue": n} for n in ("user_id", "n", "p", "t")]}
    assert rows[2]["Data"][2] == {}  # NULL has no VarCharValue


def test_csv_is_quoted_like_athena_writes_it() -> None:
    columns = [{"Name": "a"}, {"Name": "b"}]
    assert engine.csv_text(columns, [['x"y', None]]) == '"a","b"\n"x""y",\n'


def test_syntax_error_names_line_and_column(cat: DictCatalog) -> None:
    with pytest.raises(engine.QueryFailed) as failure:
        run(cat, "SELECT user_id\nFROM events WHERE GROUP BY user_id")
    assert failure.value.reason.startswith("SYNTAX_ERROR: line 2:")
    assert failure.value.state == "FAILED"


def test_unknown_table_and_column_fail_as_athena_words_them(cat: DictCatalog) -> None:
    with pytest.raises(
        engine.QueryFailed,
        match=r"^TABLE_NOT_FOUND: line 1:15: Table "
        r"'awsdatacatalog\.db\.nope' does not exist$",
    ):
        run(cat, "SELECT 1 FROM nope")
    with pytest.raises(engine.QueryFailed, match=r"^COLUMN_NOT_FOUND: line 1:8: Column 'colour'"):
        run(cat, "SELECT colour FROM events")


def test_the_cutoff_cancels_the_query_with_athenas_reason(cat: DictCatalog) -> None:
    with pytest.raises(engine.QueryFailed) as failure:
        run(cat, "SELECT * FROM events", cutoff=10)
    assert failure.value.reason == "Bytes scanned limit was exceeded"
    assert failure.value.state == "CANCELLED"
    assert run(cat, "SELECT count(*) AS n FROM events", cutoff=10).rows == [["3"]]


def test_statements_that_are_not_emulated_are_named(cat: DictCatalog) -> None:
    with pytest.raises(engine.QueryFailed, match="NOT_SUPPORTED: CREATE TABLE AS SELECT"):
        run(cat, "CREATE TABLE t2 AS SELECT * FROM events")
    with pytest.raises(engine.QueryFailed, match="NOT_SUPPORTED: statement INSERT"):
        run(cat, "INSERT INTO events SELECT * FROM events")


def test_show_partitions_lists_the_registered_ones_only(cat: DictCatalog) -> None:
    outcome = run(cat, "SHOW PARTITIONS events")
    assert outcome.rows == []  # projection: nothing registered, as Athena answers
    assert engine.result_rows(outcome) == []


def test_executions_move_through_the_states_and_stop_works(cat: DictCatalog) -> None:
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
    assert bad.describe()["Status"]["AthenaError"]["ErrorCategory"] == engine.USER
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
    cat: DictCatalog,
) -> None:
    root = str(cat.root.resolve())
    cat.tables[("db", "crawled")] = glue_table(root) | {"Name": "crawled"}  # no projection
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
