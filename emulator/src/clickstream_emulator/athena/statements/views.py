"""CREATE [OR REPLACE] VIEW and DROP VIEW [IF EXISTS], stored in Glue as Athena stores them.

The view is a Glue ``VIRTUAL_VIEW`` in Athena's Presto-view encoding (``glue_shapes.view_input``):
its SQL as written, the database it resolves in, and its columns with their types, which come
from running the query with no rows. Replacing a view updates the Glue table (a new table
version, which dbt-athena expires). A view is queried like a table (``relations.resolve``).
"""

from __future__ import annotations

import re

from sqlglot import exp

from clickstream_emulator.athena import glue_shapes
from clickstream_emulator.athena.ports import Catalog, Context
from clickstream_emulator.athena.relations import (
    Execution,
    QueryRun,
    node_position,
    query_text,
)
from clickstream_emulator.athena.results import USER, Outcome, QueryFailed, ddl, not_supported
from clickstream_emulator.athena.statement import Statement, catalog_ok, split_name
from clickstream_emulator.athena.statements.writes import schema_not_found

_NAME = r'(?:"(?:[^"]|"")*"|`[^`]*`|[^\s"`(]+)'
_BODY = re.compile(
    rf"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+{_NAME}(?:\s*\.\s*{_NAME}){{0,2}}\s+"
    r"(?:COMMENT\s+'(?:[^']|'')*'\s+)?(?:SECURITY\s+\w+\s+)?AS\s+(.*)$",
    re.IGNORECASE | re.DOTALL,
)


def original_sql(statement: Statement) -> str:
    """The view's query as the user wrote it (what Athena keeps in ``originalSql``)."""
    match = _BODY.match(statement.sql)
    if match:
        return match.group(1).strip()
    return query_text(statement.tree.expression)


def _target(statement: Statement, ctx: Context) -> tuple[exp.Table, str, str]:
    table = statement.tree.this
    if isinstance(table, exp.Schema):
        raise not_supported("CREATE VIEW with a column list")
    if not isinstance(table, exp.Table):
        raise QueryFailed("SYNTAX_ERROR: line 1:1: expected a view name")
    if not catalog_ok(table):
        raise not_supported(f"catalog {table.catalog!r} (only awsdatacatalog is served)")
    db, name = split_name(table, ctx.database)
    return table, db, name


def create(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    node, db, name = _target(statement, ctx)
    if cat.get_database(db) is None:
        raise schema_not_found(statement, node, db)
    existing = cat.get_table(db, name)
    line, col = node_position(statement.sql, node)
    if existing is not None:
        if not glue_shapes.is_view(existing):
            raise QueryFailed(
                f"TABLE_ALREADY_EXISTS: line {line}:{col}: Table 'awsdatacatalog.{db}.{name}' "
                "already exists and is not a view",
                USER,
            )
        if not statement.tree.args.get("replace"):
            raise QueryFailed(
                f"ALREADY_EXISTS: line {line}:{col}: View 'awsdatacatalog.{db}.{name}' already exists",
                USER,
            )
    body = statement.tree.expression
    sql = original_sql(statement)
    with QueryRun(cat, ctx.database, execution) as run:
        duckdb_sql = run.prepare(body, query_text(body))
        schema = run.execute(f"SELECT * FROM ({duckdb_sql}) AS v LIMIT 0").schema
    try:
        view = glue_shapes.view_input(name, ctx.database, sql, schema)
    except ValueError as err:
        raise not_supported(f"a view column type: {err}") from err
    if existing is None:
        cat.create_table(db, view)
    else:
        cat.update_table(db, view)
    return ddl("CREATE_VIEW")


def drop(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    for node in statement.tree.args.get("tables") or []:
        if not isinstance(node, exp.Table):
            continue
        db, name = split_name(node, ctx.database)
        existing = cat.get_table(db, name)
        if existing is None or not glue_shapes.is_view(existing):
            if statement.tree.args.get("exists") and existing is None:
                continue
            if existing is None:
                line, col = node_position(statement.sql, node)
                raise QueryFailed(
                    f"TABLE_NOT_FOUND: line {line}:{col}: View 'awsdatacatalog.{db}.{name}' does not exist",
                    USER,
                )
            raise QueryFailed(
                f"SYNTAX_ERROR: line 1:1: '{db}.{name}' is a table, not a view: use DROP TABLE",
                USER,
            )
        cat.delete_table(db, name)
    return ddl("DROP_VIEW")
