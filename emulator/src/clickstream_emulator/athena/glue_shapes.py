"""The Glue objects Athena writes, as Athena writes them (pure functions).

* a CTAS/Hive Parquet table: ``EXTERNAL_TABLE`` with Hive's Parquet SerDe and input/output
  formats, ``Parameters`` ``EXTERNAL=TRUE`` and ``has_encrypted_data``, the partition keys last;
* a view: ``VIRTUAL_VIEW`` whose ``ViewOriginalText`` is ``/* Presto View: <base64 JSON> */``
  (the JSON holds ``originalSql``, ``catalog``, ``schema``, ``columns`` with Trino type names,
  ``owner``, ``runAsInvoker``), ``ViewExpandedText`` ``/* Presto View */`` and the parameters
  ``presto_view=true``, ``comment=Presto View``; Glue's columns carry the Hive type names.

Column types come from the Arrow schema of the statement's result.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from clickstream_common.catalog import PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE
from clickstream_emulator.athena.results import athena_arrow_type, primitive_type

VIEW_PREFIX = "/* Presto View: "
VIEW_SUFFIX = " */"
VIEW_EXPANDED = "/* Presto View */"


def hive_type(arrow_type: pa.DataType) -> str:
    """The Glue (Hive) type Athena catalogs for a result column of this Arrow type."""
    arrow_type = athena_arrow_type(arrow_type)
    primitive = primitive_type(arrow_type)
    if primitive is not None:
        return primitive.hive
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"array<{hive_type(arrow_type.value_type)}>"
    if pa.types.is_map(arrow_type):
        return f"map<{hive_type(arrow_type.key_type)},{hive_type(arrow_type.item_type)}>"
    if pa.types.is_struct(arrow_type):
        fields = ",".join(f"{f.name}:{hive_type(f.type)}" for f in arrow_type)
        return f"struct<{fields}>"
    if pa.types.is_null(arrow_type):
        return "string"
    raise ValueError(f"no Glue type for {arrow_type}")


def trino_type(hive: str) -> str:
    """The Trino type name a view's JSON gives a column (``string`` -> ``varchar``...)."""
    base = hive.strip().lower()
    simple = {"string": "varchar", "int": "integer", "float": "real", "binary": "varbinary"}
    if base in simple:
        return simple[base]
    if base.startswith("array<"):
        return f"array({trino_type(base[6:-1])})"
    return base


@dataclass(frozen=True)
class View:
    """A view read back from Glue: its SQL and the database its unqualified names resolve in."""

    name: str
    database: str
    sql: str
    columns: tuple[tuple[str, str], ...]


def table_input(
    name: str,
    location: str,
    schema: pa.Schema,
    partitioned_by: Sequence[str] = (),
    *,
    compression: str = "GZIP",
    bucketed_by: Sequence[str] = (),
    bucket_count: int | None = None,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The Glue TableInput of a Hive Parquet table that CTAS creates (partition keys last)."""
    keys = set(partitioned_by)
    columns = [{"Name": f.name, "Type": hive_type(f.type)} for f in schema if f.name not in keys]
    partition_keys = [
        {"Name": f.name, "Type": hive_type(f.type)}
        for k in partitioned_by
        for f in [schema.field(k)]
    ]
    descriptor: dict[str, Any] = {
        "Columns": columns,
        "Location": location,
        "InputFormat": PARQUET_INPUT_FORMAT,
        "OutputFormat": PARQUET_OUTPUT_FORMAT,
        "Compressed": False,
        "NumberOfBuckets": bucket_count if bucket_count else -1,
        "SerdeInfo": {
            "SerializationLibrary": PARQUET_SERDE,
            "Parameters": {"serialization.format": "1"},
        },
        "BucketColumns": list(bucketed_by),
        "SortColumns": [],
        "StoredAsSubDirectories": False,
    }
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {
            "EXTERNAL": "TRUE",
            "has_encrypted_data": "false",
            "parquet.compression": compression.upper(),
            **(parameters or {}),
        },
        "StorageDescriptor": descriptor,
        "PartitionKeys": partition_keys,
    }


def view_input(
    name: str, database: str, sql: str, schema: pa.Schema, owner: str = ""
) -> dict[str, Any]:
    """The Glue TableInput of ``CREATE VIEW``, in Athena's Presto-view encoding."""
    columns = [(f.name, hive_type(f.type)) for f in schema]
    document = {
        "originalSql": sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": n, "type": trino_type(t)} for n, t in columns],
        "owner": owner,
        "runAsInvoker": False,
        "properties": {},
    }
    encoded = base64.b64encode(json.dumps(document).encode()).decode()
    return {
        "Name": name,
        "TableType": "VIRTUAL_VIEW",
        "Parameters": {"presto_view": "true", "comment": "Presto View"},
        "ViewOriginalText": f"{VIEW_PREFIX}{encoded}{VIEW_SUFFIX}",
        "ViewExpandedText": VIEW_EXPANDED,
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
            "Location": "",
            "SerdeInfo": {},
            "Compressed": False,
            "NumberOfBuckets": 0,
            "BucketColumns": [],
            "SortColumns": [],
            "StoredAsSubDirectories": False,
        },
        "PartitionKeys": [],
    }


def is_view(table: Mapping[str, Any]) -> bool:
    return str(table.get("TableType") or "").upper() == "VIRTUAL_VIEW"


def read_view(table: Mapping[str, Any], database: str) -> View:
    """The SQL of a Glue view (Athena's Presto encoding; a plain-SQL ViewOriginalText too)."""
    text = str(table.get("ViewOriginalText") or "").strip()
    columns = tuple(
        (str(c["Name"]), str(c["Type"]))
        for c in (table.get("StorageDescriptor") or {}).get("Columns") or ()
    )
    if text.startswith(VIEW_PREFIX) and text.endswith(VIEW_SUFFIX):
        document = json.loads(base64.b64decode(text[len(VIEW_PREFIX) : -len(VIEW_SUFFIX)]))
        return View(
            str(table["Name"]),
            str(document.get("schema") or database),
            str(document["originalSql"]),
            columns,
        )
    return View(str(table["Name"]), database, text, columns)


def database_input(name: str, description: str = "", location: str = "") -> dict[str, Any]:
    """``CREATE DATABASE``'s DatabaseInput."""
    entry: dict[str, Any] = {"Name": name, "Parameters": {}}
    if description:
        entry["Description"] = description
    if location:
        entry["LocationUri"] = location
    return entry


def editable(table: Mapping[str, Any]) -> dict[str, Any]:
    """A GetTable answer reduced to the fields UpdateTable's TableInput accepts."""
    keep = (
        "Name",
        "Description",
        "Owner",
        "Retention",
        "StorageDescriptor",
        "PartitionKeys",
        "ViewOriginalText",
        "ViewExpandedText",
        "TableType",
        "Parameters",
        "TargetTable",
    )
    return {k: table[k] for k in keep if k in table}
