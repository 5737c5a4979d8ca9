"""Parse a statement once, and say which kind it is: the dispatcher's input.

sqlglot's Athena dialect parses queries, CTAS, INSERT, views, most DDL and DESCRIBE into trees
(through :func:`athena_local.functions.parse`, which keeps the Trino function calls that the
translation expands for DuckDB, and records every call's name for ``FUNCTION_NOT_FOUND``);
for the statements it keeps as a ``Command`` (``SHOW ...``, ``UNLOAD``, ``MSCK REPAIR TABLE``,
``ALTER TABLE ... ADD PARTITION``) the text after the keyword is kept for the statement's own
module to read. A parse error is Athena's ``SYNTAX_ERROR: line L:C: ...``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ParseError

from athena_local import functions
from clickstream_emulator.athena.results import USER, QueryFailed

# sqlglot logs a warning each time it keeps a statement as a Command: these are expected here.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

#: The kinds the engine dispatches on (one module each, see engine.HANDLERS).
SELECT = "select"
CTAS = "ctas"
INSERT = "insert"
UNLOAD = "unload"
CREATE_VIEW = "create_view"
DROP_VIEW = "drop_view"
CREATE_DATABASE = "create_database"
DROP_DATABASE = "drop_database"
CREATE_TABLE = "create_table"
DROP_TABLE = "drop_table"
ALTER_TABLE = "alter_table"
ADD_PARTITION = "add_partition"
MSCK = "msck"
DESCRIBE = "describe"
SHOW = "show"
OTHER = "other"


@dataclass(frozen=True)
class Statement:
    """One parsed statement: its kind, its sqlglot tree, and for commands the text after the verb."""

    kind: str
    sql: str
    tree: exp.Expr
    rest: str = ""

    @property
    def name(self) -> str:
        """What the statement is, in words, for a NOT_SUPPORTED message."""
        if isinstance(self.tree, exp.Command):
            words = f"{self.tree.this} {self.rest}".split()
            return " ".join(words[:2]).upper()
        key = self.tree.key.upper()
        kind = self.tree.args.get("kind")
        return f"{key} {kind}" if isinstance(kind, str) else key


def _line_col(sql: str, offset: int) -> tuple[int, int]:
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return line, col


def syntax_error(err: ParseError) -> QueryFailed:
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


def parse(sql: str) -> Statement:
    """The one parse of a statement (raises :class:`QueryFailed` with Athena's SYNTAX_ERROR)."""
    text = sql.strip().rstrip(";").strip()
    try:
        trees = [s for s in functions.parse(text) if s is not None]
    except ParseError as err:
        raise syntax_error(err) from err
    if len(trees) != 1:
        raise QueryFailed(
            f"SYNTAX_ERROR: line 1:1: expected exactly one statement, found {len(trees)}"
        )
    tree = trees[0]
    return Statement(kind_of(tree), text, tree, _command_rest(tree))


def _command_rest(tree: exp.Expr) -> str:
    if not isinstance(tree, exp.Command):
        return ""
    rest = tree.expression
    return str(rest.this if isinstance(rest, exp.Literal) else rest or "").strip()


def kind_of(tree: exp.Expr) -> str:
    """Which module runs the statement."""
    if isinstance(tree, exp.Query):
        return SELECT
    if isinstance(tree, exp.Insert):
        return INSERT
    if isinstance(tree, exp.Describe):
        return DESCRIBE
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, exp.Create):
        if kind == "VIEW":
            return CREATE_VIEW
        if kind in ("DATABASE", "SCHEMA"):
            return CREATE_DATABASE
        if kind == "TABLE":
            return CTAS if tree.expression is not None else CREATE_TABLE
    if isinstance(tree, exp.Drop):
        if kind == "VIEW":
            return DROP_VIEW
        if kind in ("DATABASE", "SCHEMA"):
            return DROP_DATABASE
        if kind == "TABLE":
            return DROP_TABLE
    if isinstance(tree, exp.Alter) and kind == "TABLE":
        return ALTER_TABLE
    if isinstance(tree, exp.Command):
        verb = str(tree.this).upper()
        rest = _command_rest(tree).upper()
        if verb == "SHOW":
            return SHOW
        if verb == "UNLOAD":
            return UNLOAD
        if verb == "MSCK REPAIR" or (verb == "MSCK" and rest.startswith("REPAIR")):
            return MSCK
        if verb == "ALTER" and " ADD " in f" {rest} " and "PARTITION" in rest:
            return ADD_PARTITION
    return OTHER


def split_name(table: exp.Table, database: str) -> tuple[str, str]:
    """``[catalog.]db.name`` of a sqlglot table -> (database, name); the context database when
    the statement names none. Names are case-insensitive in Glue: lower-cased as Athena does."""
    return (table.db or database).lower(), table.name.lower()


def catalog_ok(table: exp.Table) -> bool:
    """Only Athena's Glue catalog (``awsdatacatalog``) is served locally."""
    catalog = table.catalog
    return not catalog or catalog.lower() == "awsdatacatalog"
