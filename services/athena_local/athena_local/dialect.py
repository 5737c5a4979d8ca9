"""Athena (Trino) SQL in, DuckDB SQL out, with the semantic traps between them handled or refused.

Athena runs Trino; locally DuckDB runs the same files. Most of the SQL is identical, but a few
constructs parse in both engines and *mean different things*. sqlglot alone transpiles text; it
does not know column types, so it leaves those traps in. This module therefore:

1. parses as Athena (``read="athena"``) and fails with the file name and position on a parse error;
2. resolves every column against the ``events`` table schema (unknown column -> clear error,
   exactly like Athena's ``COLUMN_NOT_FOUND``) and annotates types;
3. fixes what can be fixed:

   * integer division - Trino ``7 / 2 = 3``, DuckDB ``7 / 2 = 3.5``: with types known, sqlglot
     emits ``CAST(TRUNC(a / b) AS BIGINT)`` for integer operands;
   * Trino functions that sqlglot leaves unmapped or maps to a DuckDB function that answers
     differently (``map_agg``, ``regexp_extract``, ``date_diff``'s complete units, ...) are
     expanded into DuckDB SQL with Trino's semantics by :mod:`athena_local.functions`; a call of a
     function Athena does not have, or that is not emulated, fails with Athena's
     ``FUNCTION_NOT_FOUND`` (the table is :mod:`athena_local.trino_functions`);
   * unnamed result columns get Athena's names (``_col0``), not sqlglot's (``_col_0``);

4. refuses what Athena would refuse but DuckDB silently accepts: comparing a string column with a
   number (``year = 2024``: partition values are strings in Glue; Trino raises "Cannot apply
   operator: varchar = integer", DuckDB casts and returns rows);
5. warns about what is valid in both but almost surely a mistake: a partition value that is not
   zero-padded (``month = '1'`` matches nothing: the value is ``'01'``).

Time zones are handled by the catalog (session ``TimeZone`` pinned to UTC, ``event_timestamp``
exposed as a UTC ``TIMESTAMP`` like Athena shows it), and ``ORDER BY`` ties by the result
comparison in :mod:`athena_local.compare` - neither is a text rewrite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from athena_local import functions
from clickstream_common.schema import FIELDS, PARTITION_KEYS, TABLE_NAME

#: sqlglot 30 ships an Athena dialect (Trino for queries); fall back to Trino for older versions.
READ_DIALECT = "athena" if "athena" in sqlglot.Dialect.classes else "trino"
WRITE_DIALECT = "duckdb"

#: Glue/Athena column types of the ``events`` table (partition keys are strings, as Glue types them).
_SQL_TYPES = {"string": "VARCHAR", "timestamp": "TIMESTAMP", "float64": "DOUBLE", "int32": "INT"}
EVENTS_COLUMNS: dict[str, str] = {f.name: _SQL_TYPES[f.type] for f in FIELDS} | {
    key: "VARCHAR" for key in PARTITION_KEYS
}

#: Width of each zero-padded partition value ('2024', '12', '05').
_PARTITION_WIDTH = {"year": 4, "month": 2, "day": 2}
_SQLGLOT_UNNAMED = re.compile(r"^_col_(\d+)$")


class DialectError(ValueError):
    """The SQL does not parse as Athena SQL, or would behave differently on Athena."""


class FunctionNotFoundError(DialectError):
    """A call of a function Athena does not have, or the local engine does not emulate.

    ``athena_message`` is Athena's ``FUNCTION_NOT_FOUND: line L:C: Function 'f' not registered``.
    """

    def __init__(self, origin: str, athena_message: str) -> None:
        super().__init__(f"{origin}: {athena_message}")
        self.athena_message = athena_message


@dataclass(frozen=True, slots=True)
class Translation:
    """A query translated for DuckDB."""

    athena_sql: str
    duckdb_sql: str
    expression: exp.Expr = field(repr=False)
    warnings: tuple[str, ...] = ()


def parse_athena(sql: str, origin: str = "<sql>") -> exp.Expr:
    """Parse one Athena statement, with the origin and position in the error."""
    try:
        statements = [s for s in functions.parse(sql) if s is not None]
    except ParseError as err:
        raise DialectError(f"{origin}: not valid {READ_DIALECT} SQL: {err}") from err
    except (AttributeError, TypeError, ValueError, IndexError) as err:
        # sqlglot can trip over malformed input instead of raising ParseError
        raise DialectError(
            f"{origin}: not valid {READ_DIALECT} SQL ({type(err).__name__}: {err})"
        ) from err
    if len(statements) != 1:
        raise DialectError(f"{origin}: expected exactly one statement, found {len(statements)}")
    return statements[0]


#: ``{database: {table: {column: SQL type}}}``: what sqlglot resolves columns against.
Schema = dict[str, dict[str, dict[str, str]]]


def _untyped(schema: Schema) -> dict[str, object]:
    """sqlglot annotates its schema argument as ``dict[str, object]`` (dict is invariant)."""
    return dict(schema)


def _schema(database: str) -> Schema:
    return {database: {TABLE_NAME: EVENTS_COLUMNS}}


def _typed(
    expression: exp.Expr, database: str, origin: str, schema: Schema | None = None
) -> exp.Expr:
    """Qualify columns against the schema and annotate types (raises on unknown columns).

    Unqualified tables are qualified with ``database`` (Athena's query execution context).
    """
    schema = schema or _schema(database)
    try:
        qualified = qualify(
            expression.copy(),
            db=database,
            schema=_untyped(schema),
            dialect=READ_DIALECT,
            quote_identifiers=False,
            identify=False,
        )
        return annotate_types(qualified, schema=_untyped(schema), dialect=READ_DIALECT)
    except OptimizeError as err:
        tables = ", ".join(f"{db}.{t}" for db, ts in schema.items() for t in ts)
        raise DialectError(f"{origin}: {err} (tables: {tables})") from err
    except (AttributeError, TypeError, ValueError, KeyError) as err:
        # sqlglot's optimizer can trip over a malformed call instead of raising OptimizeError
        raise DialectError(
            f"{origin}: cannot resolve the query ({type(err).__name__}: {err})"
        ) from err


def _is_text(node: exp.Expr) -> bool:
    return node.type is not None and node.type.is_type(*exp.DataType.TEXT_TYPES)


def _is_number(node: exp.Expr) -> bool:
    return node.type is not None and node.type.is_type(*exp.DataType.NUMERIC_TYPES)


def athena_type_errors(typed: exp.Expr) -> list[str]:
    """Comparisons Trino rejects (string vs number) but DuckDB would coerce silently."""
    errors = []
    for node in typed.find_all(exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE):
        left, right = node.left, node.right
        if (_is_text(left) and _is_number(right)) or (_is_number(left) and _is_text(right)):
            errors.append(
                f"`{node.sql(READ_DIALECT)}` compares varchar with a number: Athena fails with "
                "'Cannot apply operator: varchar = integer' while DuckDB casts and returns rows "
                "(partition values are strings: write year = '2024')"
            )
    for member in typed.find_all(exp.In):
        if _is_text(member.this) and any(_is_number(v) for v in member.expressions):
            errors.append(
                f"`{member.sql(READ_DIALECT)}` mixes a varchar column with numbers: Athena rejects it"
            )
    return errors


def partition_warnings(typed: exp.Expr) -> list[str]:
    """Partition literals that are not zero-padded: valid SQL that matches no partition."""
    warnings = []
    for node in typed.find_all(exp.EQ, exp.In):
        if isinstance(node, exp.In):
            column, values = node.this, node.expressions
        elif isinstance(node, exp.EQ):
            column, values = node.left, [node.right]
        else:
            continue
        if not isinstance(column, exp.Column) or column.name not in _PARTITION_WIDTH:
            continue
        width = _PARTITION_WIDTH[column.name]
        for value in values:
            if isinstance(value, exp.Literal) and value.is_string and len(value.this) != width:
                warnings.append(
                    f"{column.name} = '{value.this}' matches no partition: values are "
                    f"zero-padded to {width} characters (e.g. '{value.this.zfill(width)}')"
                )
    return warnings


def _athena_output_names(typed: exp.Expr) -> None:
    """Rename sqlglot's ``_col_N`` aliases for unnamed select items to Athena's ``_colN``, and
    the references to them (qualify turns ``ORDER BY 1`` into ``ORDER BY _col_0``)."""
    if not isinstance(typed, exp.Select):
        return
    renamed = {}
    for item in typed.expressions:
        if isinstance(item, exp.Alias):
            match = _SQLGLOT_UNNAMED.match(item.alias)
            if match:
                renamed[item.alias] = f"_col{match.group(1)}"
                item.set("alias", exp.to_identifier(renamed[item.alias]))
    for clause in ("order", "group", "having", "qualify"):
        for column in (typed.args.get(clause) or exp.Null()).find_all(exp.Column):
            if not column.table and column.name in renamed:
                column.set("this", exp.to_identifier(renamed[column.name]))


def to_duckdb(
    sql: str,
    database: str,
    origin: str = "<sql>",
    schema: Schema | None = None,
    parsed: exp.Expr | None = None,
) -> Translation:
    """Translate one Athena query into DuckDB SQL (see module docstring).

    ``schema`` holds the catalog tables the query may read (default: the built-in
    ``<database>.events``). ``parsed`` is the statement's tree when the caller parsed it already
    (the local Athena parses each statement once).
    """
    parsed = parsed if parsed is not None else parse_athena(sql, origin)
    try:
        functions.check(parsed, sql)
    except functions.FunctionNotFound as err:
        raise FunctionNotFoundError(origin, str(err)) from err
    typed = _typed(parsed, database, origin, schema)
    errors = athena_type_errors(typed)
    if errors:
        raise DialectError(f"{origin}: " + "; ".join(errors))
    warnings = tuple(partition_warnings(typed))
    try:
        rewritten = functions.expand(typed, sql)
    except functions.FunctionNotFound as err:
        raise FunctionNotFoundError(origin, str(err)) from err
    _athena_output_names(rewritten)
    duckdb_sql = rewritten.sql(WRITE_DIALECT, pretty=True)
    return Translation(sql, duckdb_sql, parsed, warnings)


def naive_transpile(sql: str) -> str:
    """Plain ``sqlglot.transpile`` without types: what a text-only translation would produce.

    Kept so tests can show which traps the typed translation fixes.
    """
    return sqlglot.transpile(sql, read=READ_DIALECT, write=WRITE_DIALECT)[0]
