"""The local Glue crawler's decisions (clickstream_emulator.glue.crawl) on real Parquet files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clickstream_common import catalog, schema
from clickstream_emulator.glue.crawl import (
    MISMATCH,
    Column,
    CrawlerSettings,
    DataFile,
    NotParquetError,
    footer_length,
    glue_type,
    is_excluded,
    is_hidden,
    partition_of,
    plan_crawl,
    read_footer,
    settings_from_crawler,
    table_name_for,
)

ROOT = Path(__file__).resolve().parents[2]
TARGET = "s3://bucket/events/"
SEEDED = CrawlerSettings(  # infra/catalog/crawler.json
    update_behavior="UPDATE_IN_DATABASE",
    delete_behavior="LOG",
    partitions_inherit_from_table=True,
    tables_merge_new_columns=True,
    combine_compatible_schemas=True,
)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def data_file(key: str, table: pa.Table) -> DataFile:
    """What the provider builds from an object: only the file's last bytes are parsed."""
    data = parquet_bytes(table)
    length = footer_length(data[-8:])
    columns, rows = read_footer(data[-(length + 8) :])
    return DataFile(key=key, columns=columns, rows=rows, size=len(data))


def events(n: int = 3) -> pa.Table:
    """Rows of the real contract schema (what the transformer writes)."""
    arrow = schema.arrow_schema()
    return pa.Table.from_pylist(
        [
            {
                "event_id": f"e{i}",
                "event_type": "purchase",
                "event_timestamp": 1_700_000_000_000_000 + i,
                "user_id": "u",
                "session_id": "s",
                "page_url": "/p",
                "price": 1.5,
                "quantity": 2,
            }
            for i in range(n)
        ],
        schema=arrow,
    )


def plan(files, existing_table=None, existing_partitions=(), settings=SEEDED):
    return plan_crawl(
        target_path=TARGET,
        files=files,
        existing_table=existing_table,
        existing_partitions=[list(p) for p in existing_partitions],
        settings=settings,
        crawler_name="c",
        database="db",
    )


def test_type_mapping_follows_glue() -> None:
    assert glue_type(pa.string()) == "string"
    assert glue_type(pa.int64()) == "bigint"
    assert glue_type(pa.int32()) == "int"
    assert glue_type(pa.int16()) == "smallint"
    assert glue_type(pa.int8()) == "tinyint"
    assert glue_type(pa.float64()) == "double"
    assert glue_type(pa.float32()) == "float"
    assert glue_type(pa.bool_()) == "boolean"
    assert glue_type(pa.timestamp("us", tz="UTC")) == "timestamp"
    assert glue_type(pa.date32()) == "date"
    assert glue_type(pa.decimal128(10, 2)) == "decimal(10,2)"
    assert glue_type(pa.binary()) == "binary"
    assert glue_type(pa.list_(pa.string())) == "array<string>"
    assert glue_type(pa.map_(pa.string(), pa.int64())) == "map<string,bigint>"
    assert glue_type(pa.struct([("a", pa.int32()), ("b", pa.string())])) == "struct<a:int,b:string>"
    assert glue_type(pa.dictionary(pa.int32(), pa.string())) == "string"


def test_footer_of_a_real_file_gives_columns_and_rows() -> None:
    f = data_file("year=2024/month=12/day=25/a.parquet", events(7))
    assert f.rows == 7
    assert [c.name for c in f.columns] == list(schema.FIELD_NAMES)


def test_not_parquet_is_refused() -> None:
    with pytest.raises(NotParquetError):
        footer_length(b'{"a": 1}\n')
    with pytest.raises(NotParquetError):
        read_footer(b"garbage!" + b"\x08\x00\x00\x00PAR1")


def test_crawled_table_equals_the_table_terraform_defines_from_the_contract() -> None:
    """Two independent mappings (contract -> Glue, Parquet -> Glue) agree on the real files."""
    files = [data_file(f"year=2024/month=12/day={d}/part.parquet", events()) for d in ("24", "25")]
    result = plan(files)
    table = result.create_table
    assert result.table_name == "events" and not result.mismatches
    defined = catalog.table_definition()
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        (c["name"], c["type"]) for c in defined["columns"]
    ]
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [
        (k["name"], k["type"]) for k in defined["partition_keys"]
    ]
    assert table["StorageDescriptor"]["Location"] == TARGET
    assert table["Parameters"]["classification"] == "parquet"
    assert table["Parameters"]["recordCount"] == "6"
    assert [p["Values"] for p in result.create_partitions] == [
        ["2024", "12", "24"],
        ["2024", "12", "25"],
    ]
    assert result.create_partitions[0]["StorageDescriptor"]["Location"] == (
        TARGET + "year=2024/month=12/day=24/"
    )


def test_partition_names_hive_and_plain_folders() -> None:
    assert partition_of("year=2024/Month=01/a.parquet") == (("year", "2024"), ("month", "01"))
    assert partition_of("2024/01/a.parquet") == (("partition_0", "2024"), ("partition_1", "01"))
    assert partition_of("a.parquet") == ()


def test_hidden_and_excluded_keys() -> None:
    assert is_hidden("year=2024/_SUCCESS") and is_hidden(".tmp/x.parquet")
    assert not is_hidden("year=2024/part.parquet")
    assert is_excluded("year=2024/month=01/x.json", ["**.json"])
    assert is_excluded("year=2024/x.parquet", ["year=2024/*"])
    assert not is_excluded("year=2025/x.parquet", ["year=2024/**"])
    assert is_excluded("tmp/x.parquet", ["{tmp,scratch}/**"])
    assert table_name_for("s3://b/Events-2/") == "events_2"
    assert table_name_for("s3://b/events", "raw_") == "raw_events"


def test_a_conflicting_file_makes_its_partition_a_mismatch_not_a_merge() -> None:
    bad = events().set_column(13, "price", pa.array(["1.5", "2", "3"]))
    files = [
        data_file("year=2024/month=12/day=24/a.parquet", events()),
        data_file("year=2024/month=12/day=25/a.parquet", events()),
        data_file("year=2024/month=12/day=25/b.parquet", bad),
    ]
    result = plan(files)
    assert [p["Values"] for p in result.create_partitions] == [["2024", "12", "24"]]
    assert len(result.mismatches) == 1
    assert result.mismatches[0].startswith(MISMATCH)
    assert "'price'" in result.mismatches[0] and "'double'" in result.mismatches[0]
    assert "day=25" in result.mismatches[0] and "b.parquet" in result.mismatches[0]
    assert (
        dict((c["Name"], c["Type"]) for c in result.create_table["StorageDescriptor"]["Columns"])[
            "price"
        ]
        == "double"
    )


def test_existing_table_keeps_its_types_and_merges_new_columns() -> None:
    existing = plan([data_file("year=2024/month=12/day=24/a.parquet", events())]).create_table
    wider = events().append_column("coupon", pa.array(["x", None, "y"]))
    result = plan(
        [
            data_file("year=2024/month=12/day=24/a.parquet", events()),
            data_file("year=2024/month=12/day=26/a.parquet", wider),
        ],
        existing_table=existing,
        existing_partitions=[("2024", "12", "24")],
    )
    columns = [c["Name"] for c in result.update_table["StorageDescriptor"]["Columns"]]
    assert columns[-1] == "coupon" and columns[:-1] == list(schema.FIELD_NAMES)
    assert [p["Values"] for p in result.create_partitions] == [["2024", "12", "26"]]
    assert [p["Values"] for p in result.update_partitions] == [["2024", "12", "24"]]
    # InheritFromTable: the partition carries the table's columns, the new one included
    inherited = result.create_partitions[0]["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in inherited] == columns


def test_log_policies_change_nothing_but_say_so() -> None:
    existing = plan([data_file("year=2024/month=12/day=24/a.parquet", events())]).create_table
    wider = events().append_column("coupon", pa.array(["x", None, "y"]))
    settings = CrawlerSettings(update_behavior="LOG", delete_behavior="LOG")
    result = plan(
        [data_file("year=2024/month=12/day=26/a.parquet", wider)],
        existing_table=existing,
        existing_partitions=[("2024", "12", "24")],
        settings=settings,
    )
    assert result.update_table is None and result.delete_partitions == []
    assert any("UpdateBehavior LOG" in m for m in result.messages)
    assert any("day=24 has no data" in m for m in result.messages)
    # without InheritFromTable the partition keeps its own (wider) schema
    own = result.create_partitions[0]["StorageDescriptor"]["Columns"]
    assert own[-1] == {"Name": "coupon", "Type": "string"}


def test_delete_from_database_and_new_folders_only() -> None:
    existing = plan([data_file("year=2024/month=12/day=24/a.parquet", events())]).create_table
    f25 = data_file("year=2024/month=12/day=25/a.parquet", events())
    deleting = plan(
        [f25],
        existing_table=existing,
        existing_partitions=[("2024", "12", "24")],
        settings=CrawlerSettings(delete_behavior="DELETE_FROM_DATABASE"),
    )
    assert deleting.delete_partitions == [["2024", "12", "24"]]
    new_only = plan(
        [data_file("year=2024/month=12/day=24/a.parquet", events()), f25],
        existing_table=existing,
        existing_partitions=[("2024", "12", "24")],
        settings=CrawlerSettings(recrawl_behavior="CRAWL_NEW_FOLDERS_ONLY"),
    )
    assert [p["Values"] for p in new_only.create_partitions] == [["2024", "12", "25"]]
    assert new_only.update_partitions == []


def test_files_off_the_partition_layout_are_reported_and_no_data_creates_nothing() -> None:
    files = [
        data_file("year=2024/month=12/day=24/a.parquet", events()),
        data_file("year=2024/month=12/day=25/a.parquet", events()),
        data_file("stray.parquet", events()),
    ]
    result = plan(files)
    assert len(result.create_partitions) == 2
    assert any("stray.parquet" in m for m in result.messages)
    empty = plan([])
    assert empty.create_table is None and empty.create_partitions == []


def test_settings_from_the_terraform_crawler_configuration() -> None:
    import json

    settings_file = json.loads((ROOT / "infra" / "catalog" / "crawler.json").read_text())
    crawler = {
        "SchemaChangePolicy": {
            "UpdateBehavior": settings_file["schema_change_policy"]["update_behavior"],
            "DeleteBehavior": settings_file["schema_change_policy"]["delete_behavior"],
        },
        "RecrawlPolicy": {"RecrawlBehavior": settings_file["recrawl_behavior"]},
    }
    assert settings_from_crawler(crawler, settings_file["configuration"]) == SEEDED
    assert Column("a", "int") == Column("a", "int")


def test_a_recrawl_of_unchanged_data_does_not_update_the_table() -> None:
    files = [data_file("year=2024/month=12/day=24/a.parquet", events())]
    created = plan(files).create_table
    existing = {**created, "Parameters": dict(created["Parameters"])}
    again = plan(files, existing_table=existing, existing_partitions=[("2024", "12", "24")])
    assert again.update_table is None
    assert any("unchanged" in m for m in again.messages)
    more = plan(
        [*files, data_file("year=2024/month=12/day=24/b.parquet", events(5))],
        existing_table=existing,
        existing_partitions=[("2024", "12", "24")],
    )
    assert more.update_table["Parameters"]["recordCount"] == "8"
