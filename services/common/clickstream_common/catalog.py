"""The Glue table of the events, derived from the event contract (``schema.py``).

Terraform cannot import Python, so the table's columns reach ``aws_glue_catalog_table.events``
through a generated, committed file: ``infra/catalog/events_table.json``, read there with
``jsondecode(file(...))``. ``tests/common/test_catalog_table.py`` fails when the file and the
contract drift apart; ``python -m clickstream_common.catalog`` rewrites it.

Glue types are Hive/Athena type names: what a Glue crawler writes for the Parquet the
transformer produces (``arrow_schema()``), so a crawled table and this one agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from clickstream_common.schema import FIELDS, PARTITION_KEYS, TABLE_NAME, LogicalType

#: Glue (Hive) type of each logical type of the contract, as a crawler catalogs the Parquet
#: type the transformer writes for it (timestamp[us, UTC] -> timestamp, float64 -> double, ...).
GLUE_TYPES: dict[LogicalType, str] = {
    "string": "string",
    "timestamp": "timestamp",
    "float64": "double",
    "int32": "int",
}

#: Digits of each zero-padded partition value (``year=2024/month=01/day=05``).
PARTITION_DIGITS: dict[str, int] = {"year": 4, "month": 2, "day": 2}
#: Value ranges of month and day; the year range is a Terraform variable (a deployment choice).
PARTITION_RANGES: dict[str, tuple[int, int]] = {"month": (1, 12), "day": (1, 31)}

#: How the events' Parquet is catalogued (the same strings as infra/glue.tf).
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

GENERATED_PATH = Path(__file__).resolve().parents[3] / "infra" / "catalog" / "events_table.json"


def table_definition() -> dict[str, object]:
    """Columns, partition keys and projection facts of the ``events`` table, as Terraform reads them."""
    return {
        "_generated_by": "python -m clickstream_common.catalog (from clickstream_common.schema); do not edit",
        "name": TABLE_NAME,
        "columns": [{"name": f.name, "type": GLUE_TYPES[f.type], "comment": f.doc} for f in FIELDS],
        "partition_keys": [
            {
                "name": key,
                "type": "string",
                "comment": f"Hive partition {key}=, zero-padded to {PARTITION_DIGITS[key]} digits (UTC event day).",
            }
            for key in PARTITION_KEYS
        ],
        "partition_digits": {key: PARTITION_DIGITS[key] for key in PARTITION_KEYS},
        "partition_ranges": {
            key: f"{lo:0{PARTITION_DIGITS[key]}d},{hi:0{PARTITION_DIGITS[key]}d}"
            for key, (lo, hi) in PARTITION_RANGES.items()
        },
        # year=${year}/month=${month}/day=${day}: appended to the table location for projection.
        "location_template": "/".join(f"{key}=${{{key}}}" for key in PARTITION_KEYS) + "/",
    }


def glue_table_input(
    location: str, name: str = TABLE_NAME, year_range: str = "2020,2035"
) -> dict[str, Any]:
    """The ``events`` table as a Glue API ``TableInput`` with partition projection: what
    ``aws_glue_catalog_table.events`` declares (default ``projection_year_range`` included), for
    tests and benches that create a table like it under another name or location."""
    facts = table_definition()
    digits, ranges = PARTITION_DIGITS, facts["partition_ranges"]
    assert isinstance(ranges, dict)
    projection: dict[str, str] = {"projection.enabled": "true"}
    for key in PARTITION_KEYS:
        projection[f"projection.{key}.type"] = "integer"
        projection[f"projection.{key}.range"] = year_range if key == "year" else ranges[key]
        projection[f"projection.{key}.digits"] = str(digits[key])
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Location": location,
            "Columns": [{"Name": f.name, "Type": GLUE_TYPES[f.type]} for f in FIELDS],
            "InputFormat": PARQUET_INPUT_FORMAT,
            "OutputFormat": PARQUET_OUTPUT_FORMAT,
            "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
        },
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in PARTITION_KEYS],
        "Parameters": {
            "classification": "parquet",
            "EXTERNAL": "TRUE",
            **projection,
            "storage.location.template": location + str(facts["location_template"]),
        },
    }


def render() -> str:
    """The generated file's exact text (stable key order, trailing newline)."""
    return json.dumps(table_definition(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (default) or ``--check`` the generated file."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--check"]:
        current = GENERATED_PATH.read_text() if GENERATED_PATH.is_file() else ""
        if current != render():
            print(
                f"{GENERATED_PATH} is out of date: run python -m clickstream_common.catalog",
                file=sys.stderr,
            )
            return 1
        return 0
    if args:
        print("usage: python -m clickstream_common.catalog [--check]", file=sys.stderr)
        return 2
    GENERATED_PATH.parent.mkdir(parents=True, exist_ok=True)
    GENERATED_PATH.write_text(render())
    print(f"wrote {GENERATED_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
