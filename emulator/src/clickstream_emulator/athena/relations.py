"""The catalog objects a statement reads, as DuckDB views on one connection, and running it.

A query may read any number of Glue tables and views: every table it names (CTE names aside) is
looked up in Glue; a base table becomes a DuckDB view over its Parquet files
(:func:`athena_local.catalog.attach_table`: Glue's columns and types, partition projection or
registered partitions), a ``VIRTUAL_VIEW`` is decoded from Athena's Presto-view encoding and
becomes a DuckDB view of its own SQL, translated in its own database - so views over views and
joins of several tables work as on Athena. The statement is translated against all of their
columns (unknown column -> ``COLUMN_NOT_FOUND``), its scan is estimated from the Parquet footers
of the tables it reads (the workgroup's ``BytesScannedCutoffPerQuery``), then DuckDB runs it.

The DuckDB connection comes from :func:`athena_local.catalog.connect`, the one place a
connection is set up (session time zone; functions registered there apply here too).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlglot import exp

from athena_local import catalog as local_catalog
from athena_local import cost
from athena_local.catalog import ArrowSource, DataFile, NoEventsError
from athena_local.dialect import READ_DIALECT, DialectError, Schema, to_duckdb
from athena_local.glue_table import CatalogTable, UnsupportedTableError, sql_type
from clickstream_emulator.athena import glue_shapes
from clickstream_emulator.athena.ports import Catalog
from clickstream_emulator.athena.results import (
    SYSTEM,
    USER,
    QueryFailed,
    athena_types,
    not_supported,
)
from clickstream_emulator.athena.statement import catalog_ok, parse, split_name

#: A view may read a view... up to this depth (a cycle is an error, as on Athena).
MAX_VIEW_DEPTH = 32


@dataclass
class Execution:
    """Handle the API holds on a running statement, so StopQueryExecution can interrupt DuckDB."""

    cancelled: bool = False
    connection: Any = field(default=None, repr=False)

    def cancel(self) -> None:
        self.cancelled = True
        if self.connection is not None:
            self.connection.interrupt()

    def check(self) -> None:
        if self.cancelled:
            raise cancelled()


def cancelled() -> QueryFailed:
    return QueryFailed("Query was cancelled by the user", USER, 1001, "CANCELLED")


# ---------------------------------------------------------------------------- positions
def _line_col(sql: str, offset: int) -> tuple[int, int]:
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return line, col


def node_position(sql: str, node: exp.Expr | None) -> tuple[int, int]:
    """Line and 1-based column of a node (sqlglot keeps token offsets on identifiers)."""
    if node is None:
        return 1, 1
    for candidate in (node, *node.find_all(exp.Identifier)):
        meta = getattr(candidate, "meta", None) or {}
        if "start" in meta:
            return _line_col(sql, int(meta["start"]))
    return 1, 1


def table_not_found(sql: str, node: exp.Expr | None, db: str, name: str) -> QueryFailed:
    line, col = node_position(sql, node)
    return QueryFailed(
        f"TABLE_NOT_FOUND: line {line}:{col}: Table 'awsdatacatalog.{db}.{name}' does not exist",
        USER,
        1006,
    )


def dialect_failure(sql: str, message: str) -> QueryFailed:
    """A dialect-guard refusal in Athena's words (COLUMN_NOT_FOUND, TYPE_MISMATCH,
    FUNCTION_NOT_FOUND...)."""
    message = re.sub(r"^[^:]*: ", "", message, count=1) if message.startswith("query") else message
    if message.startswith("FUNCTION_NOT_FOUND: "):  # athena_local.functions words it as Athena
        return QueryFailed(message, USER, 1006)
    missing = re.search(r"Column '\"?(\w+)\"?' could not be resolved", message)
    if missing:
        match = re.search(rf"\b{re.escape(missing.group(1))}\b", sql)
        line, col = _line_col(sql, match.start()) if match else (1, 1)
        return QueryFailed(
            f"COLUMN_NOT_FOUND: line {line}:{col}: Column '{missing.group(1)}' cannot be "
            "resolved or requester is not authorized to access requested resources",
            USER,
            1006,
        )
    if "compares varchar with a number" in message or "mixes a varchar" in message:
        return QueryFailed(f"TYPE_MISMATCH: line 1:1: {message}", USER, 1006)
    return QueryFailed(f"SYNTAX_ERROR: line 1:1: {message}", USER, 1006)


def duckdb_failure(err: Exception) -> QueryFailed:
    """A DuckDB error while running: Athena's GENERIC_INTERNAL_ERROR with DuckDB's first line."""
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    return QueryFailed(f"GENERIC_INTERNAL_ERROR: {first}", SYSTEM, 1012)


# ---------------------------------------------------------------------------- catalog objects
def load_table(cat: Catalog, glue: Mapping[str, Any], db: str, name: str) -> CatalogTable:
    """A Glue base table as the engine reads it (registered partitions when not projected)."""
    glue = dict(glue) | {"DatabaseName": glue.get("DatabaseName") or db}
    if str((glue.get("Parameters") or {}).get("table_type", "")).upper() == "ICEBERG":
        raise not_supported(f"reading Iceberg table {db}.{name}")
    try:
        probe = CatalogTable.from_glue(glue)
        partitions = None
        if probe.partition_keys and not probe.projection_enabled:
            partitions = cat.get_partitions(db, name)
        return CatalogTable.from_glue(glue, partitions)
    except UnsupportedTableError as err:
        raise not_supported(f"table {db}.{name}: {err}") from err


def referenced_tables(tree: exp.Expr) -> list[exp.Table]:
    """The tables a query reads (CTE names and table functions aside)."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    found = []
    for table in tree.find_all(exp.Table):
        if not table.name or (not table.db and table.name.lower() in ctes):
            continue
        if isinstance(table.this, exp.Func):
            continue
        found.append(table)
    return found


@dataclass
class Objects:
    """What one statement reads: base tables and views, views in the order to define them."""

    tables: dict[tuple[str, str], CatalogTable] = field(default_factory=dict)
    #: (database, name) it is registered under, its definition, its parsed SQL.
    views: list[tuple[tuple[str, str], glue_shapes.View, exp.Expr]] = field(default_factory=list)
    #: The SQL (and tree) that referenced each base table: its columns and filters cost the scan.
    readers: dict[tuple[str, str], tuple[str, exp.Expr]] = field(default_factory=dict)

    def schema(self) -> Schema:
        """``{db: {table: {column: SQL type}}}`` of every table and view, for sqlglot."""
        schema: Schema = {}
        for (db, name), table in self.tables.items():
            schema.setdefault(db, {})[name] = table.sql_types()
        for (db, name), view, _ in self.views:
            try:
                types = {n: sql_type(t) for n, t in view.columns}
            except UnsupportedTableError as err:
                raise not_supported(f"view {db}.{name}: {err}") from err
            schema.setdefault(db, {})[name] = types
        return schema


def resolve(
    cat: Catalog,
    tree: exp.Expr,
    sql: str,
    database: str,
    found: Objects | None = None,
    depth: int = 0,
) -> Objects:
    """Every catalog object ``tree`` reads, recursively through views."""
    found = found if found is not None else Objects()
    if depth > MAX_VIEW_DEPTH:
        raise QueryFailed(
            f"VIEW_IS_RECURSIVE: line 1:1: View nesting deeper than {MAX_VIEW_DEPTH}", USER
        )
    for node in referenced_tables(tree):
        if not catalog_ok(node):
            raise not_supported(f"catalog {node.catalog!r} (only awsdatacatalog is served)")
        db, name = split_name(node, database)
        if (db, name) in found.tables or any(key == (db, name) for key, _, _ in found.views):
            continue
        glue = cat.get_table(db, name)
        if glue is None:
            raise table_not_found(sql, node, db, name)
        if glue_shapes.is_view(glue):
            view = glue_shapes.read_view(glue, db)
            view_tree = parse(view.sql).tree
            resolve(cat, view_tree, view.sql, view.database, found, depth + 1)
            found.views.append(((db, name), view, view_tree))
            continue
        found.tables[(db, name)] = load_table(cat, glue, db, name)
        found.readers[(db, name)] = (sql, tree)
    return found


def without_catalog(tree: exp.Expr) -> exp.Expr:
    """The tree with ``awsdatacatalog.`` dropped from table names (DuckDB has one catalog here;
    dbt-athena writes ``"awsdatacatalog"."schema"."table"``)."""

    def strip(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.catalog and catalog_ok(node):
            node = node.copy()
            node.set("catalog", None)
        return node

    return tree.copy().transform(strip)


# ---------------------------------------------------------------------------- running
@dataclass
class Attached:
    """One base table attached to the connection: where it is read from and its files."""

    table: CatalogTable
    source: ArrowSource
    files: list[DataFile]


class QueryRun:
    """One DuckDB connection with a statement's catalog objects attached; use as a context."""

    def __init__(self, cat: Catalog, database: str, execution: Execution) -> None:
        self.cat = cat
        self.database = database
        self.execution = execution
        self.con = local_catalog.connect()
        self.attached: dict[tuple[str, str], Attached] = {}
        self.objects = Objects()
        self.started = time.perf_counter()
        self.planning_ms = 0
        self.scanned = 0

    def __enter__(self) -> QueryRun:
        self.execution.connection = self.con
        return self

    def __exit__(self, *_exc: object) -> None:
        self.execution.connection = None
        self.con.close()

    # ---------------------------------------------------------------- preparing
    def prepare(self, tree: exp.Expr, sql: str, cutoff_bytes: int | None = None) -> str:
        """Attach what ``tree`` reads, translate it, check the scan limit; the DuckDB SQL."""
        self.objects = resolve(self.cat, tree, sql, self.database, self.objects)
        for key, table in self.objects.tables.items():
            if key not in self.attached:
                self._attach(key, table)
        schema = self.objects.schema()
        for key, view, view_tree in self.objects.views:
            self._define_view(key, view, view_tree, schema)
        try:
            translation = to_duckdb(
                sql, self.database, "query", schema, parsed=without_catalog(tree)
            )
        except DialectError as err:
            raise dialect_failure(sql, str(err)) from err
        self.scanned = self._estimate()
        self.planning_ms = int((time.perf_counter() - self.started) * 1000)
        if cutoff_bytes is not None and self.scanned > cutoff_bytes:
            raise QueryFailed("Bytes scanned limit was exceeded", USER, 1013, state="CANCELLED")
        self.execution.check()
        return translation.duckdb_sql

    def _attach(self, key: tuple[str, str], table: CatalogTable) -> None:
        try:
            source, local = self.cat.readable(table)
            files = local_catalog.attach_table(self.con, source, local, allow_empty=True)
        except (NoEventsError, UnsupportedTableError, OSError) as err:
            raise QueryFailed(f"HIVE_CANNOT_OPEN_SPLIT: {err}", SYSTEM, 1012) from err
        except Exception as err:  # DuckDB refusing the files (a wrong type in Glue...)
            raise duckdb_failure(err) from err
        self.attached[key] = Attached(local, source, files)

    def _define_view(
        self, key: tuple[str, str], view: glue_shapes.View, tree: exp.Expr, schema: Schema
    ) -> None:
        try:
            translation = to_duckdb(
                view.sql, view.database, f"view {key[1]}", schema, without_catalog(tree)
            )
        except DialectError as err:
            raise dialect_failure(view.sql, str(err)) from err
        name = f'"{key[0]}"."{key[1]}"'
        try:
            self.con.execute(f'CREATE SCHEMA IF NOT EXISTS "{key[0]}"')
            self.con.execute(f"CREATE OR REPLACE VIEW {name} AS {translation.duckdb_sql}")
        except Exception as err:
            raise duckdb_failure(err) from err

    def _estimate(self) -> int:
        total = 0
        for key, attached in self.attached.items():
            if not attached.files:
                continue
            sql, tree = self.objects.readers.get(key, ("", None))
            if tree is None:
                continue
            stats = cost.read_file_stats(attached.source, attached.files)
            total += cost.estimate(
                sql,
                stats,
                attached.table.column_names,
                attached.table.partition_names,
                expression=tree,
            ).bytes_scanned
        return total

    # ---------------------------------------------------------------- running
    def execute(self, duckdb_sql: str) -> pa.Table:
        import duckdb

        try:
            return athena_types(self.con.sql(duckdb_sql).to_arrow_table())
        except duckdb.InterruptException as err:
            raise cancelled() from err
        except duckdb.Error as err:
            if self.execution.cancelled:
                raise cancelled() from err
            raise duckdb_failure(err) from err

    def engine_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)


def run_query(
    cat: Catalog,
    tree: exp.Expr,
    sql: str,
    database: str,
    execution: Execution,
    cutoff_bytes: int | None = None,
) -> tuple[pa.Table, QueryRun]:
    """Run a query (or a CTAS/INSERT/UNLOAD/view body) to an Arrow table."""
    with QueryRun(cat, database, execution) as run:
        duckdb_sql = run.prepare(tree, sql, cutoff_bytes)
        return run.execute(duckdb_sql), run


def query_text(tree: exp.Expr) -> str:
    """The Athena SQL of a sub-statement (the body of a CTAS, INSERT or view)."""
    return tree.sql(READ_DIALECT)
