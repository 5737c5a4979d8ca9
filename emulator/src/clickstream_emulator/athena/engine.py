"""Run one Athena statement with DuckDB over the Glue catalog, and answer as Athena does.

The SQL path is ``services/athena_local`` (the same code as ``clickstream-query``): the Glue table
becomes a :class:`~athena_local.glue_table.CatalogTable`, the statement is translated by the
dialect guard (sqlglot Athena -> DuckDB, UTC session), the scan is estimated from the Parquet
footers before it runs (the workgroup's ``BytesScannedCutoffPerQuery``), then DuckDB runs it.

Failures carry Athena's words (``SYNTAX_ERROR: line 1:8: ...``, ``TABLE_NOT_FOUND``,
``COLUMN_NOT_FOUND``, ``Bytes scanned limit was exceeded``); a statement the local engine cannot
emulate fails with ``NOT_SUPPORTED`` naming it. Nothing here knows LocalStack: the catalog and the
S3 filesystem are passed in (:class:`Catalog`), so this module is unit-testable.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from athena_local import catalog as local_catalog
from athena_local.catalog import ArrowSource, NoEventsError
from athena_local.dialect import READ_DIALECT, DialectError, to_duckdb
from athena_local.glue_table import CatalogTable, UnsupportedTableError
from athena_local.runner import Runner

#: Athena's AthenaError.ErrorCategory values.
SYSTEM, USER, OTHER = 1, 2, 3
_SHOW_PARTITIONS = re.compile(r"^\s*SHOW\s+PARTITIONS\s+([`\"\w.]+)\s*;?\s*$", re.IGNORECASE)
_MSCK = re.compile(r"^\s*MSCK\s+REPAIR\s+TABLE\s+([`\"\w.]+)\s*;?\s*$", re.IGNORECASE)


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


class Catalog(Protocol):
    """What the engine needs from the Glue catalog and S3 (LocalStack's clients, or a fake)."""

    def get_table(self, database: str, name: str) -> Mapping[str, Any] | None: ...

    def get_partitions(self, database: str, name: str) -> list[Mapping[str, Any]]: ...

    def list_paths(self, location: str) -> list[str]:
        """Every object under an S3 location, as ``bucket/key``."""
        ...

    def create_partitions(
        self, database: str, name: str, partitions: list[dict[str, Any]]
    ) -> None: ...

    def readable(self, table: CatalogTable) -> tuple[ArrowSource, CatalogTable]:
        """Where DuckDB reads the table's files from, and the table as seen from there."""
        ...


@dataclass
class Outcome:
    """A finished query: Athena column info, rows as Athena's strings, and the statistics."""

    columns: list[dict[str, Any]]
    rows: list[list[str | None]]
    statement_type: str = "DML"
    substatement_type: str = "SELECT"
    data_scanned: int = 0
    engine_ms: int = 0
    planning_ms: int = 0


@dataclass
class Execution:
    """Handle the API holds on a running query, so StopQueryExecution can interrupt DuckDB."""

    cancelled: bool = False
    runner: Runner | None = field(default=None, repr=False)

    def cancel(self) -> None:
        self.cancelled = True
        if self.runner is not None:
            self.runner.con.interrupt()


# ---------------------------------------------------------------------------- positions
def _line_col(sql: str, offset: int) -> tuple[int, int]:
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _node_position(sql: str, node: exp.Expr) -> tuple[int, int]:
    """Line and 1-based column of a node (sqlglot keeps token offsets on identifiers)."""
    for candidate in (node, *node.find_all(exp.Identifier)):
        meta = getattr(candidate, "meta", None) or {}
        if "start" in meta:
            return _line_col(sql, int(meta["start"]))
    return 1, 1


def syntax_error(sql: str, err: ParseError) -> QueryFailed:
    """``SYNTAX_ERROR: line L:C: <what>`` from sqlglot's first error."""
    first = err.errors[0] if err.errors else {}
    line, col = int(first.get("line") or 1), int(first.get("col") or 1)
    highlight = str(first.get("highlight") or "").strip()
    description = str(first.get("description") or err).split(". Line")[0]
    if description.startswith(("Required keyword", "Expected", "Invalid expression")):
        description = "Expecting: an expression"
    if highlight:
        # sqlglot's col is the token's last character; Athena points at its first
        col = max(1, col - len(highlight) + 1)
        description = f"mismatched input '{highlight}'. {description}"
    return QueryFailed(f"SYNTAX_ERROR: line {line}:{col}: {description}", USER, 1006)


def not_supported(what: str) -> QueryFailed:
    return QueryFailed(
        f"NOT_SUPPORTED: {what} is not emulated by the local Athena (DuckDB); run it on AWS Athena",
        USER,
        1009,
    )


# ---------------------------------------------------------------------------- statements
def parse(sql: str) -> exp.Expr:
    try:
        statements = [s for s in sqlglot.parse(sql, read=READ_DIALECT) if s is not None]
    except ParseError as err:
        raise syntax_error(sql, err) from err
    if len(statements) != 1:
        raise QueryFailed(
            f"SYNTAX_ERROR: line 1:1: expected exactly one statement, found {len(statements)}"
        )
    return statements[0]


def _split_name(raw: str, database: str) -> tuple[str, str]:
    parts = [p.strip('`"') for p in raw.split(".")]
    return (parts[-2], parts[-1]) if len(parts) >= 2 else (database, parts[-1])


def _table_not_found(sql: str, node: exp.Expr | None, db: str, name: str) -> QueryFailed:
    line, col = _node_position(sql, node) if node is not None else (1, 1)
    return QueryFailed(
        f"TABLE_NOT_FOUND: line {line}:{col}: Table 'awsdatacatalog.{db}.{name}' does not exist",
        USER,
        1006,
    )


def _load_table(cat: Catalog, db: str, name: str) -> CatalogTable | None:
    glue = cat.get_table(db, name)
    if glue is None:
        return None
    glue = dict(glue) | {"DatabaseName": glue.get("DatabaseName") or db}
    try:
        probe = CatalogTable.from_glue(glue)
        partitions = None
        if probe.partition_keys and not probe.projection_enabled:
            partitions = cat.get_partitions(db, name)
        return CatalogTable.from_glue(glue, partitions)
    except UnsupportedTableError as err:
        raise not_supported(f"table {db}.{name}: {err}") from err


def run(
    sql: str,
    database: str,
    cat: Catalog,
    execution: Execution,
    cutoff_bytes: int | None = None,
) -> Outcome:
    """Run one statement (see the module docstring); raises :class:`QueryFailed`."""
    started = time.perf_counter()
    show = _SHOW_PARTITIONS.match(sql)
    if show:
        return _show_partitions(sql, *_split_name(show.group(1), database), cat)
    msck = _MSCK.match(sql)
    if msck:
        return _msck_repair(sql, *_split_name(msck.group(1), database), cat)
    statement = parse(sql)
    if isinstance(statement, exp.Create) and statement.expression is not None:
        raise not_supported("CREATE TABLE AS SELECT")
    if not isinstance(statement, exp.Query):
        raise not_supported(f"statement {statement.key.upper()}")
    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    tables = [t for t in statement.find_all(exp.Table) if t.name and t.name not in ctes]
    names = {(t.db or database, t.name) for t in tables}
    if len(names) > 1:
        raise not_supported("a query over more than one table")
    table: CatalogTable | None = None
    for db, name in names:
        table = _load_table(cat, db, name)
        if table is None:
            node = next(t for t in tables if (t.db or database, t.name) == (db, name))
            raise _table_not_found(sql, node, db, name)
    planning_ms = int((time.perf_counter() - started) * 1000)
    if table is None:
        return _run_without_table(sql, database, started, planning_ms)
    return _run_on_table(sql, table, cat, execution, cutoff_bytes, started, planning_ms)


def _translate(runner: Runner, sql: str) -> Any:
    try:
        return runner.translate_sql(sql, origin="query")
    except DialectError as err:
        raise _dialect_failure(sql, str(err)) from err


def _dialect_failure(sql: str, message: str) -> QueryFailed:
    message = message.removeprefix("query: ")
    if message.startswith("FUNCTION_NOT_FOUND: "):  # athena_local.functions words it as Athena
        return QueryFailed(message, USER, 1006)
    missing = re.search(r"Column '\"?(\w+)\"?' could not be resolved", message)
    if missing:
        line, col = _column_position(sql, missing.group(1))
        return QueryFailed(
            f"COLUMN_NOT_FOUND: line {line}:{col}: Column '{missing.group(1)}' cannot be "
            "resolved or requester is not authorized to access requested resources",
            USER,
            1006,
        )
    if "compares varchar with a number" in message or "mixes a varchar" in message:
        return QueryFailed(f"TYPE_MISMATCH: line 1:1: {message}", USER, 1006)
    return QueryFailed(f"SYNTAX_ERROR: line 1:1: {message}", USER, 1006)


def _column_position(sql: str, name: str) -> tuple[int, int]:
    match = re.search(rf"\b{re.escape(name)}\b", sql)
    return _line_col(sql, match.start()) if match else (1, 1)


def _run_on_table(
    sql: str,
    table: CatalogTable,
    cat: Catalog,
    execution: Execution,
    cutoff_bytes: int | None,
    started: float,
    planning_ms: int,
) -> Outcome:
    try:
        source, table = cat.readable(table)
        runner = Runner.open(source, table=table, allow_empty=True)
    except (NoEventsError, UnsupportedTableError, OSError) as err:
        raise QueryFailed(f"HIVE_CANNOT_OPEN_SPLIT: {err}", SYSTEM, 1012) from err
    execution.runner = runner
    try:
        translation = _translate(runner, sql)
        estimate = runner.estimate(translation)
        if cutoff_bytes is not None and estimate.bytes_scanned > cutoff_bytes:
            raise QueryFailed("Bytes scanned limit was exceeded", USER, 1013, state="CANCELLED")
        if execution.cancelled:
            raise QueryFailed("Query was cancelled by the user", USER, 1001, state="CANCELLED")
        arrow = _execute(runner, translation.duckdb_sql, execution)
        engine_ms = int((time.perf_counter() - started) * 1000)
        return Outcome(
            columns=column_info(arrow.schema),
            rows=athena_rows(arrow),
            data_scanned=estimate.bytes_scanned,
            engine_ms=engine_ms,
            planning_ms=planning_ms,
        )
    finally:
        execution.runner = None
        runner.close()


def _execute(runner: Runner, duckdb_sql: str, execution: Execution) -> pa.Table:
    import duckdb

    try:
        return runner.con.sql(duckdb_sql).to_arrow_table()
    except duckdb.InterruptException as err:
        raise QueryFailed("Query was cancelled by the user", USER, 1001, "CANCELLED") from err
    except duckdb.Error as err:
        if execution.cancelled:
            raise QueryFailed("Query was cancelled by the user", USER, 1001, "CANCELLED") from err
        first = str(err).splitlines()[0]
        raise QueryFailed(f"GENERIC_INTERNAL_ERROR: {first}", SYSTEM, 1012) from err


def _run_without_table(sql: str, database: str, started: float, planning_ms: int) -> Outcome:
    """A query that reads no table (``SELECT 1``, ``SELECT now()``)."""
    try:
        translation = to_duckdb(sql, database or "default", origin="query", schema={})
    except DialectError as err:
        raise _dialect_failure(sql, str(err)) from err
    con = local_catalog.connect()
    try:
        arrow = _execute_plain(con, translation.duckdb_sql)
    finally:
        con.close()
    return Outcome(
        columns=column_info(arrow.schema),
        rows=athena_rows(arrow),
        engine_ms=int((time.perf_counter() - started) * 1000),
        planning_ms=planning_ms,
    )


def _execute_plain(con: Any, duckdb_sql: str) -> pa.Table:
    import duckdb

    try:
        return con.sql(duckdb_sql).to_arrow_table()
    except duckdb.Error as err:
        raise QueryFailed(f"GENERIC_INTERNAL_ERROR: {str(err).splitlines()[0]}", SYSTEM) from err


def _show_partitions(sql: str, db: str, name: str, cat: Catalog) -> Outcome:
    """Athena lists the partitions registered in Glue (projected ones are not listed)."""
    glue = cat.get_table(db, name)
    if glue is None:
        raise _table_not_found(sql, None, db, name)
    keys = [k["Name"] for k in glue.get("PartitionKeys") or ()]
    if not keys:
        raise QueryFailed(f"SYNTAX_ERROR: Table {db}.{name} is not partitioned", USER)
    rows = sorted(
        "/".join(f"{k}={v}" for k, v in zip(keys, p.get("Values") or (), strict=False))
        for p in cat.get_partitions(db, name)
    )
    return Outcome(
        columns=[_column("partition", "string")],
        rows=[[r] for r in rows],
        statement_type="UTILITY",
        substatement_type="SHOW_PARTITIONS",
    )


def hive_folders(table: CatalogTable, paths: Sequence[str]) -> dict[tuple[str, ...], str]:
    """Partition values -> folder (``s3://…/k=v/…/``) of every Hive folder holding an object."""
    from athena_local.glue_table import strip_scheme

    root = strip_scheme(table.location).rstrip("/")
    scheme = table.location[: len(table.location) - len(strip_scheme(table.location))]
    folders: dict[tuple[str, ...], str] = {}
    for path in paths:
        key = strip_scheme(path)
        if not key.startswith(root + "/"):
            continue
        parts = key[len(root) + 1 :].split("/")
        if len(parts) <= len(table.partition_keys):
            continue
        values = []
        for name, part in zip(table.partition_names, parts, strict=False):
            folder_key, sep, value = part.partition("=")
            if not sep or folder_key != name:
                break
            values.append(value)
        else:
            depth = "/".join(parts[: len(table.partition_keys)])
            folders.setdefault(tuple(values), f"{scheme}{root}/{depth}/")
    return folders


def _msck_repair(sql: str, db: str, name: str, cat: Catalog) -> Outcome:
    """Register the Hive folders that hold data but no partition yet, with Hive's report lines."""
    glue = cat.get_table(db, name)
    if glue is None:
        raise _table_not_found(sql, None, db, name)
    glue = dict(glue) | {"DatabaseName": glue.get("DatabaseName") or db}
    try:
        table = CatalogTable.from_glue(glue, cat.get_partitions(db, name))
    except UnsupportedTableError as err:
        raise not_supported(f"table {db}.{name}: {err}") from err
    registered = {p.values for p in table.partitions or ()}
    found = hive_folders(table, cat.list_paths(table.location))
    missing = sorted(values for values in found if values not in registered)
    descriptor = dict(glue.get("StorageDescriptor") or {})
    cat.create_partitions(
        db,
        name,
        [
            {"Values": list(values), "StorageDescriptor": descriptor | {"Location": found[values]}}
            for values in missing
        ],
    )
    labels = [
        f"{name}:"
        + "/".join(f"{k}={v}" for k, v in zip(table.partition_names, values, strict=True))
        for values in missing
    ]
    lines = []
    if labels:
        lines.append("Partitions not in metastore:\t" + "\t".join(labels))
        lines += [f"Repair: Added partition to metastore {label}" for label in labels]
    return Outcome(
        columns=[_column("result", "string")],
        rows=[[line] for line in lines],
        statement_type="DDL",
        substatement_type="MSCK_REPAIR_TABLE",
    )


# ---------------------------------------------------------------------------- results
def _column(name: str, athena_type: str, precision: int = 0, scale: int = 0) -> dict[str, Any]:
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


def athena_type(arrow_type: pa.DataType) -> tuple[str, int, int]:
    """Athena's ColumnInfo type (and precision, scale) of a result column."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "varchar", 2147483647, 0
    if pa.types.is_int64(arrow_type) or pa.types.is_uint32(arrow_type):
        return "bigint", 19, 0
    if pa.types.is_int32(arrow_type) or pa.types.is_uint16(arrow_type):
        return "integer", 10, 0
    if pa.types.is_int16(arrow_type):
        return "smallint", 5, 0
    if pa.types.is_int8(arrow_type):
        return "tinyint", 3, 0
    if pa.types.is_float64(arrow_type):
        return "double", 17, 0
    if pa.types.is_float32(arrow_type):
        return "float", 17, 0
    if pa.types.is_boolean(arrow_type):
        return "boolean", 0, 0
    if pa.types.is_timestamp(arrow_type):
        return "timestamp", 3, 0
    if pa.types.is_date(arrow_type):
        return "date", 0, 0
    if pa.types.is_decimal(arrow_type):
        return "decimal", arrow_type.precision, arrow_type.scale
    if pa.types.is_binary(arrow_type):
        return "varbinary", 0, 0
    if pa.types.is_list(arrow_type):
        return "array", 0, 0
    if pa.types.is_struct(arrow_type):
        return "row", 0, 0
    if pa.types.is_map(arrow_type):
        return "map", 0, 0
    return "varchar", 2147483647, 0


def column_info(schema: pa.Schema) -> list[dict[str, Any]]:
    return [_column(f.name, *athena_type(f.type)) for f in schema]


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
    return str(value)


def athena_rows(table: pa.Table) -> list[list[str | None]]:
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return [[athena_value(col[r]) for col in columns] for r in range(table.num_rows)]


def csv_text(columns: Sequence[Mapping[str, Any]], rows: Sequence[Sequence[str | None]]) -> str:
    """Athena's result CSV: header and every value double-quoted, null as an empty field."""

    def quote(value: str | None) -> str:
        return "" if value is None else '"' + value.replace('"', '""') + '"'

    lines = [",".join(quote(c["Name"]) for c in columns)]
    lines += [",".join(quote(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def result_rows(outcome: Outcome) -> list[dict[str, Any]]:
    """GetQueryResults' ``Rows``: the header row first for a query, then the data."""

    def row(values: Sequence[str | None]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    header = (
        [] if outcome.statement_type == "UTILITY" else [row([c["Name"] for c in outcome.columns])]
    )
    return header + [row(r) for r in outcome.rows]
