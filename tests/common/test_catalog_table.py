"""The Glue table Terraform declares is generated from the event contract, and stays in sync."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import hcl2

from clickstream_common import catalog, schema

ROOT = Path(__file__).resolve().parents[2]


def test_generated_table_file_is_in_sync_with_the_contract() -> None:
    committed = catalog.GENERATED_PATH.read_text()
    assert committed == catalog.render(), (
        "infra/catalog/events_table.json is stale: run python -m clickstream_common.catalog"
    )


def test_columns_are_the_contract_fields_in_order_with_glue_types() -> None:
    table = json.loads(catalog.GENERATED_PATH.read_text())
    assert [c["name"] for c in table["columns"]] == list(schema.FIELD_NAMES)
    types = {c["name"]: c["type"] for c in table["columns"]}
    assert types["event_timestamp"] == "timestamp"
    assert types["price"] == "double"
    assert types["quantity"] == "int"
    assert types["event_id"] == "string"
    assert [(k["name"], k["type"]) for k in table["partition_keys"]] == [
        ("year", "string"),
        ("month", "string"),
        ("day", "string"),
    ]
    assert table["name"] == schema.TABLE_NAME
    assert table["location_template"] == "year=${year}/month=${month}/day=${day}/"


def test_every_logical_type_has_a_glue_type_matching_its_arrow_type() -> None:
    """The Glue type of each contract type is what the Parquet the transformer writes means in Hive."""
    arrow_to_hive = {"string": "string", "timestamp[us, tz=UTC]": "timestamp", "double": "double"}
    arrow_to_hive["int32"] = "int"
    for field, arrow_field in zip(schema.FIELDS, schema.arrow_schema(), strict=True):
        assert catalog.GLUE_TYPES[field.type] == arrow_to_hive[str(arrow_field.type)]


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys) -> None:
    stale = tmp_path / "events_table.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(catalog, "GENERATED_PATH", stale)
    assert catalog.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert catalog.main([]) == 0
    assert catalog.main(["--check"]) == 0
    assert catalog.main(["--bogus"]) == 2


def test_the_glue_api_table_input_uses_terraforms_default_year_range() -> None:
    """glue_table_input() (tests, benches) builds the table Terraform declares: same defaults."""
    variables = hcl2.loads((ROOT / "infra" / "variables.tf").read_text())["variable"]
    default = next(
        b['"projection_year_range"']["default"] for b in variables if '"projection_year_range"' in b
    )
    signature = inspect.signature(catalog.glue_table_input)
    assert signature.parameters["year_range"].default == default.strip('"')
