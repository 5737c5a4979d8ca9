"""Run one Athena statement with DuckDB over the Glue catalog: parse once, dispatch by kind.

:mod:`statement` parses the text once (sqlglot's Athena dialect) and names its kind; each kind
has one module under :mod:`statements` (queries, CTAS/INSERT, UNLOAD, views, DDL, DESCRIBE/SHOW)
that answers an :class:`~clickstream_emulator.athena.results.Outcome` or raises
:class:`~clickstream_emulator.athena.results.QueryFailed` with Athena's words. A statement Athena
has and the local engine does not fails with ``NOT_SUPPORTED`` naming that statement.

Nothing here knows LocalStack: the Glue catalog and S3 are passed in
(:class:`~clickstream_emulator.athena.ports.Catalog`), so every statement is unit-tested on real
DuckDB and Parquet with an in-memory catalog.
"""

from __future__ import annotations

from collections.abc import Callable

from clickstream_emulator.athena import statement as kinds
from clickstream_emulator.athena.ports import Catalog, Context
from clickstream_emulator.athena.relations import Execution
from clickstream_emulator.athena.results import Outcome, QueryFailed, not_supported
from clickstream_emulator.athena.statements import ddl, select, show, unload, views, writes

Handler = Callable[[kinds.Statement, Context, Catalog, Execution], Outcome]

HANDLERS: dict[str, Handler] = {
    kinds.SELECT: select.run,
    kinds.CTAS: writes.ctas,
    kinds.INSERT: writes.insert,
    kinds.UNLOAD: unload.run,
    kinds.CREATE_VIEW: views.create,
    kinds.DROP_VIEW: views.drop,
    kinds.CREATE_DATABASE: ddl.create_database,
    kinds.DROP_DATABASE: ddl.drop_database,
    kinds.CREATE_TABLE: ddl.create_table,
    kinds.DROP_TABLE: ddl.drop_table,
    kinds.ALTER_TABLE: ddl.alter_table,
    kinds.ADD_PARTITION: ddl.add_partition,
    kinds.MSCK: ddl.msck_repair,
    kinds.DESCRIBE: show.describe,
    kinds.SHOW: show.run,
}


def run(sql: str, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    """Run one statement (see the module docstring); raises :class:`QueryFailed`."""
    statement = kinds.parse(sql)
    handler = HANDLERS.get(statement.kind)
    if handler is None:
        raise not_supported(f"statement {statement.name}")
    execution.check()
    return handler(statement, ctx, cat, execution)


__all__ = ["HANDLERS", "Execution", "Outcome", "QueryFailed", "run"]
