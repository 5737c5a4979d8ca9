"""CatalogTable: a Glue table (GetTable/GetPartitions dicts) decides columns and files, as Athena.

Real Parquet, real DuckDB, read through the Arrow route (``ArrowSource.local``), the route S3 uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from athena_local import catalog
from athena_local.catalog import ArrowSource, list_data_files
from athena_local.glue_table import CatalogTable, UnsupportedTableError, projected_value_allowed
from athena_local.runner import Runner
from clickstream_common.schema import FIELDS

from .conftest import event

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def glue_table(location: str, **parameters: str) -> dict[str, Any]:
    """What GetTable answers for the events table (Glue types as a crawler infers them)."""
    glue_types = {"string": "string", "timestamp": "timestamp", "float64": "double", "int32": "int"}
    return {
        "Name": "events",
        "DatabaseName": "db",
        "StorageDescriptor": {
            "Location": location,
            "Columns": [{"Name": f.name, "Type": glue_types[f.type]} for f in FIELDS],
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
        },
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in ("year", "month", "day")],
        "Parameters": parameters,
    }


def projection(template: str | None = None, days: str = "01,31") -> dict[str, str]:
    params = {
        "projection.enabled": "true",
        "projection.year.type": "integer",
        "projection.year.range": "2020,2030",
        "projection.month.type": "integer",
        "projection.month.range": "1,12",
        "projection.month.digits": "2",
        "projection.day.type": "integer",
        "projection.day.range": days,
        "projection.day.digits": "2",
    }
    if template:
        params["storage.location.template"] = template
    return params


@pytest.fixture
def three_days(parquet_dir: Any) -> Path:
    rows = [
        event("2024-12-24T10:00:00Z", user_id="a"),
        event("2024-12-25T10:00:00Z", user_id="b"),
        event("2024-12-25T11:00:00Z", user_id="c"),
        event("2024-12-26T10:00:00Z", user_id="d"),
    ]
    return parquet_dir(rows)


def test_builtin_table_is_the_event_contract_with_string_partitions() -> None:
    table = CatalogTable.builtin("db", "bucket/events")
    assert table.column_names == tuple(f.name for f in FIELDS)
    assert table.partition_names == ("year", "month", "day")
    assert table.sql_types()["year"] == "VARCHAR"
    assert table.sql_types()["event_timestamp"] == "TIMESTAMP"


def test_projection_with_a_template_reads_only_folders_inside_the_ranges(three_days: Path) -> None:
    root = str(three_days.resolve())
    template = f"{root}/year=${{year}}/month=${{month}}/day=${{day}}"
    table = CatalogTable.from_glue(glue_table(root, **projection(template, days="24,25")))
    files = list_data_files(ArrowSource.local(three_days), table)
    assert sorted(f.partition["day"] for f in files) == ["24", "25"]  # day 26 is out of range


def test_registered_partitions_are_the_only_folders_read(three_days: Path) -> None:
    root = str(three_days.resolve())
    partition = {
        "Values": ["2024", "12", "25"],
        "StorageDescriptor": {"Location": f"{root}/year=2024/month=12/day=25/"},
    }
    table = CatalogTable.from_glue(glue_table(root), [partition])
    source = ArrowSource.local(three_days)
    with Runner.open(source, table=table) as runner:
        rows = runner.con.sql("SELECT user_id, day FROM db.events ORDER BY user_id").fetchall()
    assert rows == [("b", "25"), ("c", "25")]


def test_view_over_a_glue_table_answers_like_the_builtin_one(three_days: Path) -> None:
    root = str(three_days.resolve())
    table = CatalogTable.from_glue(glue_table(root, **projection()))
    query = "SELECT day, count(*) AS n FROM db.events GROUP BY day ORDER BY day"
    with Runner.open(ArrowSource.local(three_days), table=table) as from_glue:
        glue_rows = from_glue.con.sql(query).fetchall()
        estimate = from_glue.estimate(from_glue.translate_sql(query))
    with Runner.open(ArrowSource.local(three_days), "db") as builtin:
        assert builtin.con.sql(query).fetchall() == glue_rows == [("24", 1), ("25", 2), ("26", 1)]
    assert estimate.files_read == 3 and estimate.columns == ()


def test_a_column_of_the_glue_table_missing_from_the_files_is_reported(three_days: Path) -> None:
    root = str(three_days.resolve())
    glue = glue_table(root, **projection())
    glue["StorageDescriptor"]["Columns"].append({"Name": "coupon", "Type": "string"})
    table = CatalogTable.from_glue(glue)
    with Runner.open(ArrowSource.local(three_days), table=table) as runner:
        # Athena reads a column absent from a Parquet file as NULL; so does the Arrow dataset
        assert runner.con.sql("SELECT count(coupon) FROM db.events").fetchall() == [(0,)]


def test_non_parquet_tables_and_complex_types_are_refused_by_name() -> None:
    glue = glue_table("s3://b/events/")
    glue["StorageDescriptor"]["SerdeInfo"] = {"SerializationLibrary": "org.openx.data.jsonserde"}
    with pytest.raises(UnsupportedTableError, match="not Parquet"):
        CatalogTable.from_glue(glue)
    glue = glue_table("s3://b/events/")
    glue["StorageDescriptor"]["Columns"] = [{"Name": "tags", "Type": "array<string>"}]
    with pytest.raises(UnsupportedTableError, match="array<string>"):
        CatalogTable.from_glue(glue).sql_types()


@pytest.mark.parametrize(
    ("params", "value", "allowed"),
    [
        ({"projection.d.type": "enum", "projection.d.values": "a,b"}, "b", True),
        ({"projection.d.type": "enum", "projection.d.values": "a,b"}, "c", False),
        ({"projection.d.type": "integer", "projection.d.range": "1,12"}, "12", True),
        ({"projection.d.type": "integer", "projection.d.range": "1,12"}, "13", False),
        (
            {
                "projection.d.type": "integer",
                "projection.d.range": "1,12",
                "projection.d.digits": "2",
            },
            "5",
            False,
        ),
        (
            {
                "projection.d.type": "date",
                "projection.d.range": "2024-01-01,NOW",
                "projection.d.format": "yyyy-MM-dd",
            },
            "2024-12-25",
            True,
        ),
        ({"projection.d.type": "injected"}, "anything", True),
    ],
)
def test_projection_ranges(params: dict[str, str], value: str, allowed: bool) -> None:
    assert projected_value_allowed(params, "d", value) is allowed


def test_a_local_directory_stays_on_the_builtin_schema(three_days: Path) -> None:
    source = catalog.parse_source(str(three_days))
    assert catalog.default_table(source, "db").name == "events"
    assert len(list_data_files(source)) == 3
