"""The statements clients issue, on real DuckDB and Parquet with an in-memory Glue catalog:
CTAS, INSERT INTO, UNLOAD, views, databases, DROP/ALTER TABLE, DESCRIBE and SHOW."""

from __future__ import annotations

import base64
import io
import json

import pyarrow.parquet as pq
import pytest

from athena_local.glue_table import strip_scheme
from clickstream_emulator.athena import engine, results
from clickstream_emulator.athena.results import DATA

from .conftest import RESULTS, run
from .memory_catalog import MemoryCatalog


def read_files(cat: MemoryCatalog, paths: list[str]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for path in paths:
        with cat.filesystem().open_input_file(strip_scheme(path)) as handle:
            rows += pq.read_table(io.BytesIO(handle.read())).to_pylist()
    return rows


def test_ctas_without_a_location_writes_under_the_result_location_and_registers_the_table(
    cat: MemoryCatalog,
) -> None:
    outcome = run(
        cat,
        'CREATE TABLE "db"."temp_table_1" WITH (format = \'PARQUET\') AS '
        "SELECT user_id, count(*) AS n FROM events GROUP BY user_id",
        query_id="q-ctas",
    )
    assert (outcome.statement_type, outcome.substatement_type) == ("DDL", "CREATE_TABLE_AS_SELECT")
    assert outcome.layout == DATA and outcome.update_count == 2
    assert outcome.written and all(
        p.startswith(f"{RESULTS}tables/q-ctas/") for p in outcome.written
    )
    table = cat.get_table("db", "temp_table_1")
    assert table is not None
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["StorageDescriptor"]["Location"] == f"{RESULTS}tables/q-ctas/"
    assert table["StorageDescriptor"]["Columns"] == [
        {"Name": "user_id", "Type": "string"},
        {"Name": "n", "Type": "bigint"},
    ]
    assert sorted(read_files(cat, outcome.written), key=str) == [
        {"user_id": "a", "n": 2},
        {"user_id": "b", "n": 1},
    ]
    # the new table is queryable, joined with the one it came from
    joined = run(
        cat,
        "SELECT e.user_id, t.n FROM events e JOIN temp_table_1 t ON e.user_id = t.user_id "
        "ORDER BY e.event_timestamp",
    )
    assert joined.rows == [["a", "2"], ["b", "1"], ["a", "2"]]


def test_ctas_partitioned_writes_hive_folders_and_registers_the_partitions(
    cat: MemoryCatalog,
) -> None:
    outcome = run(
        cat,
        "CREATE TABLE by_day WITH (external_location = 's3://b/by_day/', format = 'parquet', "
        "partitioned_by = ARRAY['day'], bucketed_by = ARRAY['user_id'], bucket_count = 2, "
        "write_compression = 'SNAPPY', is_external = true) AS "
        "SELECT user_id, event_type, day FROM events",
    )
    assert {p.rsplit("/", 2)[1] for p in outcome.written} == {"day=25", "day=26"}
    table = cat.get_table("db", "by_day")
    assert table is not None
    assert table["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    assert table["StorageDescriptor"]["NumberOfBuckets"] == 2
    assert [p["Values"] for p in cat.get_partitions("db", "by_day")] == [["25"], ["26"]]
    counted = run(cat, "SELECT day, count(*) AS n FROM by_day GROUP BY day ORDER BY day")
    assert counted.rows == [["25", "2"], ["26", "1"]]
    with pytest.raises(engine.QueryFailed, match=r"^HIVE_COLUMN_ORDER_MISMATCH"):
        run(
            cat,
            "CREATE TABLE wrong WITH (partitioned_by = ARRAY['day']) AS SELECT day, user_id FROM events",
        )


def test_ctas_refuses_a_location_with_data_an_existing_table_and_an_unknown_schema(
    cat: MemoryCatalog,
) -> None:
    with pytest.raises(engine.QueryFailed, match=r"^HIVE_PATH_ALREADY_EXISTS: .*s3://b/events/"):
        run(cat, "CREATE TABLE c1 WITH (external_location = 's3://b/events/') AS SELECT 1 AS a")
    with pytest.raises(engine.QueryFailed, match=r"^TABLE_ALREADY_EXISTS: .*db.events"):
        run(cat, "CREATE TABLE events AS SELECT 1 AS a")
    with pytest.raises(engine.QueryFailed, match=r"^SCHEMA_NOT_FOUND: .*'nodb'"):
        run(cat, "CREATE TABLE nodb.t AS SELECT 1 AS a")
    with pytest.raises(engine.QueryFailed, match="external_location cannot be set"):
        run(
            cat,
            "CREATE TABLE c2 WITH (external_location = 's3://b/c2/') AS SELECT 1 AS a",
            enforced=True,
        )
    assert cat.get_table("db", "c1") is None and cat.get_table("db", "c2") is None


def test_insert_into_appends_files_and_new_partitions(cat: MemoryCatalog) -> None:
    run(
        cat,
        "CREATE TABLE counts WITH (external_location = 's3://b/counts/', "
        "partitioned_by = ARRAY['day']) AS SELECT user_id, 1 AS n, day FROM events WHERE day = '25'",
    )
    inserted = run(cat, "INSERT INTO counts SELECT user_id, 2, day FROM events WHERE day = '26'")
    assert (inserted.statement_type, inserted.substatement_type, inserted.update_count) == (
        "DML",
        "INSERT",
        1,
    )
    assert [p["Values"] for p in cat.get_partitions("db", "counts")] == [["25"], ["26"]]
    run(cat, "INSERT INTO counts (user_id, n, day) VALUES ('z', 9, '25')")
    assert run(cat, "SELECT user_id, n, day FROM counts ORDER BY user_id, n").rows == [
        ["a", "1", "25"],
        ["a", "2", "26"],
        ["b", "1", "25"],
        ["z", "9", "25"],
    ]
    with pytest.raises(engine.QueryFailed, match=r"^SYNTAX_ERROR: .*Insert query has 1 columns"):
        run(cat, "INSERT INTO counts SELECT 1")


def test_unload_writes_parquet_and_lists_it(cat: MemoryCatalog) -> None:
    outcome = run(
        cat,
        "UNLOAD (SELECT user_id, event_timestamp FROM events WHERE day = '25') "
        "TO 's3://b/unload/x/' WITH (format = 'PARQUET', compression = 'SNAPPY')",
    )
    assert (outcome.statement_type, outcome.substatement_type, outcome.update_count) == (
        "DML",
        "UNLOAD",
        2,
    )
    assert all(p.startswith("s3://b/unload/x/") for p in outcome.written)
    got = sorted(str(r["user_id"]) for r in read_files(cat, outcome.written))
    assert got == ["a", "b"]
    with pytest.raises(engine.QueryFailed, match=r"^HIVE_PATH_ALREADY_EXISTS"):
        run(cat, "UNLOAD (SELECT 1 AS a) TO 's3://b/unload/x/'")


def test_views_are_stored_in_athenas_encoding_and_read_like_tables(cat: MemoryCatalog) -> None:
    created = run(
        cat,
        "CREATE VIEW per_user AS SELECT user_id, count(*) AS n FROM events GROUP BY user_id",
    )
    assert (created.statement_type, created.substatement_type) == ("DDL", "CREATE_VIEW")
    view = cat.get_table("db", "per_user")
    assert view is not None and view["TableType"] == "VIRTUAL_VIEW"
    assert view["ViewExpandedText"] == "/* Presto View */"
    text = view["ViewOriginalText"]
    assert text.startswith("/* Presto View: ") and text.endswith(" */")
    document = json.loads(base64.b64decode(text[len("/* Presto View: ") : -3]))
    assert document["originalSql"] == ("SELECT user_id, count(*) AS n FROM events GROUP BY user_id")
    assert (document["catalog"], document["schema"]) == ("awsdatacatalog", "db")
    assert document["columns"] == [
        {"name": "user_id", "type": "varchar"},
        {"name": "n", "type": "bigint"},
    ]
    assert view["StorageDescriptor"]["Columns"] == [
        {"Name": "user_id", "Type": "string"},
        {"Name": "n", "Type": "bigint"},
    ]
    # a view over the view, and a join of the view with a table
    run(
        cat,
        'CREATE OR REPLACE VIEW "awsdatacatalog"."db"."busy" AS SELECT * FROM per_user WHERE n > 1',
    )
    assert run(cat, "SELECT user_id, n FROM busy").rows == [["a", "2"]]
    joined = run(
        cat,
        "SELECT count(*) AS c FROM events e JOIN busy b ON e.user_id = b.user_id",
    )
    assert joined.rows == [["2"]]
    run(cat, "CREATE OR REPLACE VIEW busy AS SELECT * FROM per_user WHERE n >= 1")
    assert len(cat.versions[("db", "busy")]) == 1  # the replaced definition is a table version
    assert run(cat, "SELECT count(*) AS c FROM busy").rows == [["2"]]
    with pytest.raises(engine.QueryFailed, match=r"^ALREADY_EXISTS"):
        run(cat, "CREATE VIEW busy AS SELECT 1 AS a")
    run(cat, "DROP VIEW busy")
    run(cat, "DROP VIEW IF EXISTS busy")
    assert cat.get_table("db", "busy") is None
    with pytest.raises(engine.QueryFailed, match=r"^TABLE_NOT_FOUND"):
        run(cat, "SELECT * FROM busy")


def test_databases_and_drop_table_keep_data_as_athena_does(cat: MemoryCatalog) -> None:
    run(cat, "CREATE DATABASE IF NOT EXISTS scratch")
    run(cat, "CREATE SCHEMA IF NOT EXISTS scratch")
    with pytest.raises(engine.QueryFailed, match="Database scratch already exists"):
        run(cat, "CREATE DATABASE scratch")
    made = run(
        cat, "CREATE TABLE scratch.t WITH (external_location = 's3://b/t/') AS SELECT 1 AS a"
    )
    with pytest.raises(engine.QueryFailed, match="is not empty"):
        run(cat, "DROP DATABASE scratch")
    run(cat, "DROP TABLE scratch.t")
    assert cat.objects("s3://b/t/") == [strip_scheme(p) for p in made.written]  # external: kept
    run(cat, "DROP TABLE IF EXISTS scratch.t")
    with pytest.raises(engine.QueryFailed, match=r"Table not found scratch.t"):
        run(cat, "DROP TABLE scratch.t")
    run(cat, "DROP DATABASE scratch")
    run(cat, "DROP SCHEMA IF EXISTS scratch CASCADE")
    assert cat.get_database("scratch") is None


def test_alter_table_properties_and_partitions(cat: MemoryCatalog) -> None:
    run(
        cat,
        "CREATE TABLE p WITH (external_location = 's3://b/p/', partitioned_by = ARRAY['day']) "
        "AS SELECT user_id, day FROM events",
    )
    run(cat, "alter table `db`.`p` set tblproperties ('classification' = 'parquet')")
    table = cat.get_table("db", "p")
    assert table is not None and table["Parameters"]["classification"] == "parquet"
    run(cat, "ALTER TABLE p DROP PARTITION (day = '26')")
    assert run(cat, "SELECT count(*) AS n FROM p").rows == [["2"]]
    run(cat, "ALTER TABLE p ADD IF NOT EXISTS PARTITION (day = '26') PARTITION (day = '25')")
    assert [p["Values"] for p in cat.get_partitions("db", "p")] == [["25"], ["26"]]
    assert run(cat, "SELECT count(*) AS n FROM p").rows == [["3"]]
    with pytest.raises(engine.QueryFailed, match="Partition already exists"):
        run(cat, "ALTER TABLE p ADD PARTITION (day = '25')")


def test_describe_and_show_answer_athenas_shapes(cat: MemoryCatalog) -> None:
    described = run(cat, "DESCRIBE events")
    assert described.statement_type == "UTILITY" and described.layout == results.TXT
    lines = [r[0] for r in described.rows]
    assert lines[0].split("\t")[0].strip() == "event_id"
    assert "# Partition Information\t \t " in lines
    assert results.result_rows(described)[0] == {"Data": [{"VarCharValue": lines[0]}]}  # no header
    assert [c["Name"] for c in described.columns] == ["col_name"]
    run(cat, "CREATE VIEW v AS SELECT user_id FROM events")
    assert run(cat, "SHOW TABLES").rows == [["events"], ["v"]]
    assert run(cat, "SHOW TABLES IN db 'ev*'").rows == [["events"]]
    assert run(cat, "SHOW VIEWS").rows == [["v"]]
    assert run(cat, "SHOW DATABASES").rows == [["db"]]
    assert run(cat, "SHOW SCHEMAS LIKE 'd*'").rows == [["db"]]
    columns = [r[0].strip() for r in run(cat, "SHOW COLUMNS IN events").rows]
    assert columns[0] == "event_id" and columns[-3:] == ["year", "month", "day"]
    assert (
        run(cat, "SHOW COLUMNS FROM events FROM db").rows
        == run(cat, "SHOW COLUMNS IN db.events").rows
    )
    create = [r[0] for r in run(cat, "SHOW CREATE TABLE events").rows]
    assert create[0] == "CREATE EXTERNAL TABLE `db`.`events`("
    assert "LOCATION" in create and "  's3://b/events/'" in create
    view = [r[0] for r in run(cat, "SHOW CREATE VIEW v").rows]
    assert view[-1] == "SELECT user_id FROM events"
    assert run(cat, "SHOW PARTITIONS events").rows == []  # projection: none registered
    with pytest.raises(engine.QueryFailed, match=r"^TABLE_NOT_FOUND"):
        run(cat, "DESCRIBE nope")
