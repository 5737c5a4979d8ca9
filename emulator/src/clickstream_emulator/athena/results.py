"""What a finished query answers, shaped as Athena shapes it: column info, value text, result files.

* ``ColumnInfo``: Athena's lowercase type names (``varchar``, ``bigint``, ``decimal``...) with the
  ``Precision``/``Scale`` Athena reports for each, ``Nullable`` ``UNKNOWN`` as Athena answers for a
  query's columns; utility statements (SHOW, DESCRIBE) answer Hive's ``string``.
* values: the text Athena prints (``2024-12-25 10:00:00.000``, ``true``, decimals in plain
  notation); NULL has no text at all - an absent ``VarCharValue`` in ``GetQueryResults`` and an
  unquoted empty field in the CSV.
* result files: a query's ``<id>.csv`` (every value double-quoted, header first), a utility or DDL
  statement's ``<id>.txt`` (one line per row, no header, fields tab-separated).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

#: Athena's AthenaError.ErrorCategory values.
SYSTEM, USER, OTHER = 1, 2, 3


class QueryFailed(Exception):
    """The query ends FAILED (or CANCELLED) with Athena's reason."""

    def __init__(
        self, reason: str, category: int = USER, error_type: int = 1006, state: str = "FAILED"
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.category = category
        self.error_type = error_type
        self.state = state


def not_supported(what: str) -> QueryFailed:
    """A statement or property Athena has and the local engine does not: it names itself."""
    return QueryFailed(
        f"NOT_SUPPORTED: {what} is not emulated by the local Athena (DuckDB); run it on AWS Athena",
        USER,
        1009,
    )


#: Where a statement's result goes under the output location (Athena's file naming).
CSV, TXT, DATA = "csv", "txt", "data"


@dataclass
class Outcome:
    """A finished statement: column info, rows as Athena's strings, statistics, files written.

    ``layout`` says which result files Athena writes: ``csv`` (a query: ``<id>.csv``), ``txt``
    (utility and DDL: ``<id>.txt``) or ``data`` (CTAS, INSERT, UNLOAD: no result rows, an update
    count and ``<id>-manifest.csv`` listing ``written``).
    """

    columns: list[dict[str, Any]]
    rows: list[list[str | None]]
    statement_type: str = "DML"
    substatement_type: str = "SELECT"
    data_scanned: int = 0
    engine_ms: int = 0
    planning_ms: int = 0
    layout: str = CSV
    update_count: int = 0
    written: list[str] = field(default_factory=list)
    #: Sub-folder of the output location holding the result files (CTAS: ``tables/``).
    output_folder: str = ""


def utility(substatement: str, column: str, lines: Sequence[str], kind: str = "UTILITY") -> Outcome:
    """A SHOW/DESCRIBE answer: one ``string`` column, one row per line, no header row."""
    return Outcome(
        columns=[column_entry(column, "string")],
        rows=[[line] for line in lines],
        statement_type=kind,
        substatement_type=substatement,
        layout=TXT,
    )


def ddl(substatement: str) -> Outcome:
    """A DDL statement that answers nothing (CREATE VIEW, DROP TABLE...)."""
    return Outcome(
        columns=[], rows=[], statement_type="DDL", substatement_type=substatement, layout=TXT
    )


def column_entry(name: str, athena_type: str, precision: int = 0, scale: int = 0) -> dict[str, Any]:
    """One ``ColumnInfo`` entry as Athena answers it."""
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena_type,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": athena_type in ("varchar", "string", "char"),
    }


#: DuckDB's unsigned integers as Athena holds such values: Trino has no unsigned types and widens
#: each to the next signed one that holds every value (its Parquet and MySQL readers do the
#: same); UBIGINT needs ``decimal(20,0)``, the smallest decimal that holds 2^64 - 1.
_UNSIGNED = {
    pa.uint8(): pa.int16(),
    pa.uint16(): pa.int32(),
    pa.uint32(): pa.int64(),
    pa.uint64(): pa.decimal128(20, 0),
}


def athena_arrow_type(arrow_type: pa.DataType) -> pa.DataType:
    """The Arrow type of a result column as Athena would type it; DuckDB's types otherwise kept.

    DuckDB answers with unsigned integers Athena cannot have (``UTINYINT`` ... ``UBIGINT``):
    they become ``smallint``, ``integer``, ``bigint`` and ``decimal(20,0)``, inside lists, maps
    and structs too. ``HUGEINT`` needs nothing: DuckDB hands it to Arrow as ``decimal(38,0)``,
    Athena's widest integer-valued type. The one place results are typed for Athena: the column
    info, the Glue types of CTAS and views and the Parquet CTAS writes all follow it.
    """
    if arrow_type in _UNSIGNED:
        return _UNSIGNED[arrow_type]
    if pa.types.is_map(arrow_type):
        return pa.map_(_athena_field(arrow_type.key_field), _athena_field(arrow_type.item_field))
    if pa.types.is_list(arrow_type):
        return pa.list_(_athena_field(arrow_type.value_field))
    if pa.types.is_large_list(arrow_type):
        return pa.large_list(_athena_field(arrow_type.value_field))
    if pa.types.is_struct(arrow_type):
        return pa.struct([_athena_field(arrow_type.field(i)) for i in range(arrow_type.num_fields)])
    return arrow_type


def _athena_field(f: pa.Field) -> pa.Field:
    return f.with_type(athena_arrow_type(f.type))


def athena_types(table: pa.Table) -> pa.Table:
    """``table`` with every column cast to :func:`athena_arrow_type` (itself when none changes)."""
    schema = pa.schema([_athena_field(f) for f in table.schema], metadata=table.schema.metadata)
    return table if schema.equals(table.schema) else table.cast(schema)


def _is_text(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type))


def _is_bytes(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type))


@dataclass(frozen=True)
class PrimitiveType:
    """One primitive column type under its two names: Athena's in ``ColumnInfo`` (with the
    precision it reports) and Hive's in the Glue catalog (``int``/``integer``,
    ``string``/``varchar`` and ``binary``/``varbinary`` differ)."""

    matches: Callable[[pa.DataType], bool]
    athena: str
    precision: int
    hive: str


#: Every primitive Arrow type a result column can have after :func:`athena_arrow_type`, the one
#: table behind both ``ColumnInfo`` (:func:`athena_type`) and the Glue columns (glue_shapes).
PRIMITIVE_TYPES: tuple[PrimitiveType, ...] = (
    PrimitiveType(_is_text, "varchar", 2147483647, "string"),
    PrimitiveType(pa.types.is_int64, "bigint", 19, "bigint"),
    PrimitiveType(pa.types.is_int32, "integer", 10, "int"),
    PrimitiveType(pa.types.is_int16, "smallint", 5, "smallint"),
    PrimitiveType(pa.types.is_int8, "tinyint", 3, "tinyint"),
    PrimitiveType(pa.types.is_float64, "double", 17, "double"),
    PrimitiveType(pa.types.is_float32, "float", 17, "float"),
    PrimitiveType(pa.types.is_boolean, "boolean", 0, "boolean"),
    PrimitiveType(pa.types.is_timestamp, "timestamp", 3, "timestamp"),
    PrimitiveType(pa.types.is_date, "date", 0, "date"),
    PrimitiveType(_is_bytes, "varbinary", 1073741824, "binary"),
)


def primitive_type(arrow_type: pa.DataType) -> PrimitiveType | None:
    """The :data:`PRIMITIVE_TYPES` entry of an (Athena-mapped) Arrow type, None if not primitive."""
    return next((p for p in PRIMITIVE_TYPES if p.matches(arrow_type)), None)


def athena_type(arrow_type: pa.DataType) -> tuple[str, int, int]:
    """Athena's ColumnInfo type (and precision, scale) of a result column."""
    arrow_type = athena_arrow_type(arrow_type)
    primitive = primitive_type(arrow_type)
    if primitive is not None:
        return primitive.athena, primitive.precision, 0
    if pa.types.is_decimal(arrow_type):
        return "decimal", arrow_type.precision, arrow_type.scale
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return "array", 0, 0
    if pa.types.is_struct(arrow_type):
        return "row", 0, 0
    if pa.types.is_map(arrow_type):
        return "map", 0, 0
    return "varchar", 2147483647, 0


def column_info(schema: pa.Schema) -> list[dict[str, Any]]:
    return [column_entry(f.name, *athena_type(f.type)) for f in schema]


def athena_value(value: Any) -> str | None:
    """A value as Athena prints it in results (CSV and GetQueryResults)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, list):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    if isinstance(value, dict):
        # a map (Arrow map, read as a dict) and a row (Arrow struct) both print as {k=v, ...}
        return "{" + ", ".join(f"{_nested(k)}={_nested(v)}" for k, v in value.items()) + "}"
    return str(value)


def _nested(value: Any) -> str:
    """A value inside an array, map or row: Trino prints a null there as ``null``."""
    return "null" if value is None else str(athena_value(value))


def athena_rows(table: pa.Table) -> list[list[str | None]]:
    # maps as dicts: Arrow's default, a list of (key, value) tuples, would print as a Python repr
    columns = [table.column(i).to_pylist(maps_as_pydicts="lossy") for i in range(table.num_columns)]
    return [[athena_value(col[r]) for col in columns] for r in range(table.num_rows)]


def csv_text(columns: Sequence[Mapping[str, Any]], rows: Sequence[Sequence[str | None]]) -> str:
    """Athena's result CSV: header and every value double-quoted, null as an empty field."""

    def quote(value: str | None) -> str:
        return "" if value is None else '"' + value.replace('"', '""') + '"'

    lines = [",".join(quote(c["Name"]) for c in columns)]
    lines += [",".join(quote(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def txt_text(rows: Sequence[Sequence[str | None]]) -> str:
    """A utility/DDL statement's ``.txt`` result: one line per row, fields tab-separated."""
    return "".join("\t".join(v or "" for v in row) + "\n" for row in rows)


def result_rows(outcome: Outcome) -> list[dict[str, Any]]:
    """GetQueryResults' ``Rows``: the header row first for a query, then the data."""

    def row(values: Sequence[str | None]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    header = [row([c["Name"] for c in outcome.columns])] if outcome.layout == CSV else []
    return header + [row(r) for r in outcome.rows]
