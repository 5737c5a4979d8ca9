"""CREATE TABLE AS SELECT and INSERT INTO: run a query, write its rows as Athena writes them.

CTAS (Hive tables, Parquet): the ``WITH`` properties ``external_location``, ``format``,
``partitioned_by`` (columns last, in order), ``bucketed_by``/``bucket_count`` (recorded in Glue),
``write_compression``/``parquet_compression``, ``is_external``, ``field_delimiter`` and
``table_type='HIVE'``. Without ``external_location`` the data goes where Athena puts it:
``<result location>tables/<query id>/``; a workgroup that enforces its result configuration
does not take one (the clients leave it out there, as Athena requires). The location must be
empty (``HIVE_PATH_ALREADY_EXISTS``). The Glue table is Athena's (``glue_shapes.table_input``)
and its partitions are registered. ``WITH NO DATA`` writes no file.

INSERT INTO a Parquet Hive table: the query's columns map to the table's by position (or to the
listed columns), cast to the table's types; files go under the table's location (a partition's
registered folder, or ``key=value/`` under the location, or the projection's template) and new
partitions are registered when the table has registered partitions.

Both answer with the row count (``UpdateCount``) and a data manifest listing the files.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from sqlglot import exp

from athena_local.glue_table import CatalogTable, arrow_type
from clickstream_emulator.athena import glue_shapes, writer
from clickstream_emulator.athena.ports import Catalog, Context
from clickstream_emulator.athena.relations import (
    Execution,
    QueryRun,
    load_table,
    node_position,
    query_text,
    run_query,
    table_not_found,
)
from clickstream_emulator.athena.results import DATA, USER, Outcome, QueryFailed, not_supported
from clickstream_emulator.athena.statement import Statement, catalog_ok, split_name
from clickstream_emulator.athena.statements import properties

#: CTAS properties that change nothing for a Parquet Hive table written locally.
_ACCEPTED = {"is_external", "field_delimiter", "bucketed_by", "bucket_count", "table_type"}


def _target(statement: Statement, ctx: Context) -> tuple[exp.Table, str, str]:
    node = statement.tree.this
    table = node.this if isinstance(node, exp.Schema) else node
    if not isinstance(table, exp.Table):
        raise QueryFailed("SYNTAX_ERROR: line 1:1: expected a table name")
    if not catalog_ok(table):
        raise not_supported(f"catalog {table.catalog!r} (only awsdatacatalog is served)")
    db, name = split_name(table, ctx.database)
    return table, db, name


def schema_not_found(statement: Statement, node: exp.Expr, db: str) -> QueryFailed:
    line, col = node_position(statement.sql, node)
    return QueryFailed(f"SCHEMA_NOT_FOUND: line {line}:{col}: Schema '{db}' does not exist", USER)


def wrote(
    statement_type: str,
    substatement: str,
    query: QueryRun,
    rows: int,
    written: list[writer.Written],
    folder: str = "",
) -> Outcome:
    """The answer of a statement that wrote data files: no result rows, the row count, the files
    for the data manifest."""
    return Outcome(
        columns=[],
        rows=[],
        statement_type=statement_type,
        substatement_type=substatement,
        data_scanned=query.scanned,
        engine_ms=query.engine_ms(),
        planning_ms=query.planning_ms,
        layout=DATA,
        update_count=rows,
        written=[w.path for w in written],
        output_folder=folder,
    )


def _compression(props: dict[str, Any]) -> str:
    value = props.get("write_compression") or props.get("parquet_compression") or "GZIP"
    if str(value).upper() not in writer.CODECS:
        raise not_supported(f"write_compression '{value}'")
    return str(value).upper()


def ctas(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    node, db, name = _target(statement, ctx)
    props = properties.from_tree(statement.tree.args.get("properties"), "CTAS")
    table_type = str(props.get("table_type", "HIVE")).upper()
    if table_type != "HIVE":
        raise not_supported(f"CTAS table_type '{table_type}'")
    fmt = str(props.get("format", "PARQUET")).upper()
    if fmt != "PARQUET":
        raise not_supported(f"CTAS format '{fmt}' (Parquet is written)")
    unknown = (
        set(props)
        - _ACCEPTED
        - {
            "external_location",
            "format",
            "partitioned_by",
            "write_compression",
            "parquet_compression",
            "with_data",
        }
    )
    if unknown:
        raise not_supported(f"CTAS property {sorted(unknown)[0]!r}")
    compression = _compression(props)
    if cat.get_database(db) is None:
        raise schema_not_found(statement, node, db)
    if cat.get_table(db, name) is not None:
        if statement.tree.args.get("exists"):
            return Outcome(
                [], [], "DDL", "CREATE_TABLE_AS_SELECT", layout=DATA, output_folder="tables/"
            )
        line, col = node_position(statement.sql, node)
        raise QueryFailed(
            f"TABLE_ALREADY_EXISTS: line {line}:{col}: Table 'awsdatacatalog.{db}.{name}' already exists",
            USER,
        )
    location = props.get("external_location")
    if location and ctx.enforced:
        raise QueryFailed(
            f"INVALID_TABLE_PROPERTY: external_location cannot be set: workgroup {ctx.workgroup} "
            "enforces its query result location, so the table goes under it "
            "(<result location>tables/<query id>/)",
            USER,
        )
    location = str(location or f"{ctx.output_location}tables/{ctx.query_id}/")
    if not location.startswith("s3://"):
        raise QueryFailed(
            f"INVALID_TABLE_PROPERTY: external_location {location!r} is not an s3:// location"
        )
    if cat.list_paths(location):
        raise QueryFailed(
            f"HIVE_PATH_ALREADY_EXISTS: Target directory for table '{db}.{name}' already exists: "
            f"{location}",
            USER,
            1006,
        )
    body = statement.tree.expression
    arrow, query = run_query(cat, body, query_text(body), ctx.database, execution, ctx.cutoff_bytes)
    partitioned_by = [str(p) for p in props.get("partitioned_by") or []]
    columns = arrow.column_names
    if partitioned_by and columns[len(columns) - len(partitioned_by) :] != partitioned_by:
        raise QueryFailed(
            "HIVE_COLUMN_ORDER_MISMATCH: Partition keys must be the last columns in the table and "
            f"in the same order as the table properties: {partitioned_by}",
            USER,
        )
    bucketed_by = [str(b) for b in props.get("bucketed_by") or []]
    for column in bucketed_by:
        if column not in columns:
            raise QueryFailed(
                f"INVALID_TABLE_PROPERTY: bucketed_by column {column!r} is not in the query", USER
            )
    execution.check()
    written: list[writer.Written] = []
    if props.get("with_data", True):
        written = writer.write_parquet(
            cat.filesystem(), location, arrow, ctx.query_id, partitioned_by, compression
        )
    try:
        table_input = glue_shapes.table_input(
            name,
            location,
            arrow.schema,
            partitioned_by,
            compression=compression,
            bucketed_by=bucketed_by,
            bucket_count=int(props["bucket_count"]) if props.get("bucket_count") else None,
        )
    except ValueError as err:
        raise not_supported(f"CTAS of a column type: {err}") from err
    cat.create_table(db, table_input)
    _register(cat, db, name, table_input, written)
    rows = arrow.num_rows if props.get("with_data", True) else 0
    return wrote("DDL", "CREATE_TABLE_AS_SELECT", query, rows, written, "tables/")


def _register(
    cat: Catalog, db: str, name: str, table: dict[str, Any], written: list[writer.Written]
) -> None:
    """Register the partitions the files went to (Athena's CTAS and INSERT do)."""
    if not table.get("PartitionKeys"):
        return
    parameters = table.get("Parameters") or {}
    if str(parameters.get("projection.enabled", "")).lower() == "true":
        return
    existing = {tuple(p.get("Values") or ()) for p in cat.get_partitions(db, name)}
    descriptor = dict(table.get("StorageDescriptor") or {})
    new: dict[tuple[str, ...], str] = {}
    for w in written:
        if w.values not in existing:
            new.setdefault(w.values, w.folder)
    cat.create_partitions(
        db,
        name,
        [
            {"Values": list(values), "StorageDescriptor": descriptor | {"Location": folder}}
            for values, folder in sorted(new.items())
        ],
    )


def _template_folder(table: CatalogTable, values: tuple[str, ...]) -> str | None:
    template = table.parameters.get("storage.location.template")
    if not template:
        return None
    folder = template
    for key, value in zip(table.partition_names, values, strict=True):
        folder = folder.replace("${" + key + "}", value)
    return folder.rstrip("/") + "/"


def insert(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    node, db, name = _target(statement, ctx)
    glue = cat.get_table(db, name)
    if glue is None:
        raise table_not_found(statement.sql, node, db, name)
    if glue_shapes.is_view(glue):
        raise not_supported(f"INSERT INTO view {db}.{name}")
    table = load_table(cat, dict(glue), db, name)
    body = statement.tree.expression
    arrow, query = run_query(cat, body, query_text(body), ctx.database, execution, ctx.cutoff_bytes)
    target = list(table.all_columns)
    listed = statement.tree.this
    if isinstance(listed, exp.Schema) and listed.expressions:
        names = [e.name.lower() for e in listed.expressions]
        unknown = [n for n in names if n not in {c.name for c in target}]
        if unknown:
            raise QueryFailed(
                f"COLUMN_NOT_FOUND: line 1:1: Insert column name does not exist in target table: {unknown[0]}",
                USER,
            )
    else:
        names = [c.name for c in target]
    if arrow.num_columns != len(names):
        raise QueryFailed(
            f"SYNTAX_ERROR: line 1:1: Insert query has {arrow.num_columns} columns, target "
            f"table {db}.{name} has {len(names)} ({', '.join(names)})",
            USER,
        )
    by_name = dict(zip(names, arrow.columns, strict=True))
    arrays = []
    for column in target:
        wanted = arrow_type(column.type)
        if column.name in table.partition_names:
            wanted = pa.string() if pa.types.is_string(wanted) else wanted
        values = by_name.get(column.name)
        if values is None:
            values = pa.nulls(arrow.num_rows, wanted)
        try:
            if pa.types.is_timestamp(wanted):
                values = values.cast(pa.timestamp("us"))
            else:
                values = values.cast(wanted)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise QueryFailed(
                f"TYPE_MISMATCH: line 1:1: Insert query has mismatched column types: column "
                f"{column.name} is {column.type}: {err}",
                USER,
            ) from err
        arrays.append(values)
    rows = pa.table(arrays, names=[c.name for c in target])
    folders = {p.values: p.location for p in table.partitions or ()}
    if table.parameters.get("storage.location.template") and table.partition_keys:
        for values in {
            tuple(str(v) for v in r.values())
            for r in rows.select(list(table.partition_names)).to_pylist()
        }:
            folder = _template_folder(table, values)
            if folder:
                folders.setdefault(values, folder)
    execution.check()
    written = writer.write_parquet(
        cat.filesystem(),
        table.location,
        rows,
        ctx.query_id,
        table.partition_names,
        str(table.parameters.get("parquet.compression") or "GZIP")
        if str(table.parameters.get("parquet.compression") or "GZIP").upper() in writer.CODECS
        else "GZIP",
        folder_for=folders,
    )
    _register(cat, db, name, dict(glue), written)
    return wrote("DML", "INSERT", query, rows.num_rows, written)
