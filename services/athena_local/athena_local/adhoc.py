"""Ad-hoc SQL (``clickstream-query --sql``, ``make shell``): a query that is not a file in queries/.

An ad-hoc query goes through exactly the path of the query files - rendered for the database,
translated and guarded by :mod:`athena_local.dialect`, costed by :mod:`athena_local.cost` - by
turning it into a :class:`~athena_local.sql.QueryFile` whose template names the table
``${database}.events``. So a query tried here behaves as it will once saved in queries/ (and on
Athena). What a user may write for the table: ``events`` (the shell's default schema),
``<database>.events`` or ``${database}.events``; any other qualified name is left alone, so it
fails like it would on Athena.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlglot import exp

from athena_local import sql
from athena_local.dialect import READ_DIALECT, DialectError, parse_athena
from clickstream_common.schema import TABLE_NAME

#: Name of an ad-hoc query in results and reports.
ADHOC_NAME = "adhoc"
_DB_MARK = "clickstream_local_database_placeholder"


def read_sql(spec: str) -> tuple[str, str]:
    """``--sql`` argument -> (SQL text, origin): ``-`` reads stdin, an existing ``*.sql`` path
    reads the file, anything else is the SQL itself."""
    if spec == "-":
        return sys.stdin.read(), "<stdin>"
    if spec.rstrip().lower().endswith(".sql") and "\n" not in spec:
        path = Path(spec.strip())
        if not path.is_file():
            raise sql.QueryFileError(f"{path}: no such SQL file")
        return path.read_text(encoding="utf-8"), str(path)
    return spec, "--sql"


def to_template(text: str, database: str, origin: str = "--sql") -> str:
    """The query as a queries/-style template: its ``events`` table becomes ``${database}.events``."""
    text = text.strip().rstrip(";").strip()
    if not text:
        raise DialectError(f"{origin}: empty query")
    if sql.PLACEHOLDER in text:
        return text
    tree = parse_athena(text, origin)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if table.name != TABLE_NAME or table.name in ctes or table.args.get("catalog"):
            continue
        if table.db in ("", database):
            table.set("db", exp.to_identifier(_DB_MARK))
    rendered = tree.sql(READ_DIALECT)
    if _DB_MARK not in rendered:
        raise DialectError(
            f"{origin}: the query reads no {TABLE_NAME} table (write FROM {TABLE_NAME} or "
            f"FROM {database}.{TABLE_NAME})"
        )
    return rendered.replace(_DB_MARK, sql.PLACEHOLDER)


def query_file(text: str, database: str, origin: str = "--sql") -> sql.QueryFile:
    """The ad-hoc query as a QueryFile that :meth:`Runner.run` takes like any file in queries/."""
    return sql.QueryFile(
        name=ADHOC_NAME, path=Path(origin), template=to_template(text, database, origin)
    )


def one_line(err: BaseException) -> str:
    """The first line of an error message (sqlglot appends the SQL with ANSI underlines)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
