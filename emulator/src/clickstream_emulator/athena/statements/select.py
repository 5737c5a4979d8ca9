"""SELECT (and WITH, UNION...): a query over any number of Glue tables and views, or none."""

from __future__ import annotations

from clickstream_emulator.athena.ports import Catalog, Context
from clickstream_emulator.athena.relations import Execution, run_query
from clickstream_emulator.athena.results import Outcome, athena_rows, column_info
from clickstream_emulator.athena.statement import Statement


def run(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    arrow, query = run_query(
        cat, statement.tree, statement.sql, ctx.database, execution, ctx.cutoff_bytes
    )
    return Outcome(
        columns=column_info(arrow.schema),
        rows=athena_rows(arrow),
        data_scanned=query.scanned,
        engine_ms=query.engine_ms(),
        planning_ms=query.planning_ms,
    )
