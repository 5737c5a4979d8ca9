"""Trino functions the local Athena expands into DuckDB SQL, and Athena's ``FUNCTION_NOT_FOUND``.

sqlglot translates most of Athena's (Trino's) functions to DuckDB; some it leaves unmapped
(``map_agg``) and some it maps to a DuckDB function that answers differently (DuckDB's
``regexp_extract`` returns ``''`` where Trino returns NULL, its ``slice`` takes an end index where
Trino takes a length). :mod:`athena_local.trino_functions` lists every Trino function and what the
local engine does with it; this module does it:

1. :func:`parse` parses Athena SQL as sqlglot's Athena dialect does, with two differences: a call
   of a function this module expands stays a plain call (``exp.Anonymous``) with Trino's
   positional arguments, instead of becoming sqlglot's own expression (which drops, e.g., the
   finish lambda of ``reduce`` or reinterprets a MySQL format string); and every other call
   records the name it was written with, so that an unknown name can be reported.
2. :func:`check` fails with Athena's ``FUNCTION_NOT_FOUND: line L:C: Function 'name' not
   registered`` on a call of a name Athena does not have (DuckDB's own functions included: Athena
   would not run them either), and on a Trino function the local engine does not emulate (the
   message then says so).
3. :func:`expand` replaces each such call, innermost first, by its expansion: DuckDB SQL with
   Trino's semantics (NULL handling, 1-based and negative indexes, Trino's format strings, the
   errors Trino raises), written below as templates whose ``_x`` names are the arguments.

Why expansions at translation time rather than DuckDB macros registered on the connection: every
Athena query opens a fresh DuckDB connection, and registering the expansions as macros on it costs
more than opening it (``python -m bench.bench_functions``: 41 ms vs 120 ms p50 on a shared 2-core
machine), for every query, including the ones that call none of them. An expansion costs a query
that does not use it nothing at all (its translation, 0.1-0.6 ms more for the five query files:
the parse records names and the check walks the tree), and can do what a DuckDB macro cannot:
look at argument types known from the catalog, inline a lambda, convert a constant format string
once. (Python UDFs were not an option either: DuckDB's need numpy, which the project does not
install.)
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.parsers.athena import AthenaParser, AthenaTrinoParser

from athena_local import trino_functions
from athena_local.trino_functions import Support

#: ``meta`` key holding the name a function call was written with.
NAME_KEY = "trino_name"
#: ``meta`` flag of an expansion whose result is an array (``reverse`` of an array).
_RETURNS_ARRAY = "trino_array"


class FunctionNotFound(ValueError):
    """Athena's ``FUNCTION_NOT_FOUND`` (the message is Athena's, prefix included)."""

    def __init__(self, name: str, line: int, col: int, detail: str = "") -> None:
        self.name = name
        message = f"FUNCTION_NOT_FOUND: line {line}:{col}: Function '{name}' not registered"
        super().__init__(message + (f" ({detail})" if detail else ""))


class _Unsupported(Exception):
    """An overload or argument form the local engine does not emulate."""


# ---------------------------------------------------------------------------- parsing
@cache
def _athena() -> Dialect:
    return Dialect.get_or_raise("athena")


def _keep_as_call(name: str) -> Callable[[list[exp.Expr]], exp.Expr]:
    def build(args: list[exp.Expr]) -> exp.Expr:
        return exp.Anonymous(this=name, expressions=args)

    return build


def _named(name: str, builder: Callable[..., exp.Expr]) -> Callable[..., exp.Expr]:
    """sqlglot's builder, recording the name written (sqlglot retries with ``dialect=``)."""

    def build(args: list[exp.Expr], dialect: Dialect) -> exp.Expr:
        try:
            node = builder(args)
        except TypeError:
            node = builder(args, dialect=dialect)
        node.meta[NAME_KEY] = name
        return node

    return build


def _named_parser(name: str, parser: Callable[[Any], exp.Expr | None]) -> Callable[[Any], Any]:
    """A special-syntax call (``CAST(x AS t)``...): record its name and where it is written
    (sqlglot places only ordinary calls). The parser runs after ``name (`` is consumed."""

    def parse(self: Any) -> exp.Expr | None:
        token = self._tokens[self._index - 2]
        node = parser(self)
        if isinstance(node, exp.Expr):
            node.meta[NAME_KEY] = name
            node.update_positions(token)
        return node

    return parse


@cache
def _function_tables() -> tuple[
    dict[str, Callable[..., exp.Expr]], dict[str, Callable[[Any], Any]]
]:
    functions: dict[str, Callable[..., exp.Expr]] = {}
    for upper, builder in AthenaTrinoParser.FUNCTIONS.items():
        name = upper.lower()
        functions[upper] = _keep_as_call(name) if name in _EXPANSIONS else _named(name, builder)
    for name in _EXPANSIONS:
        functions.setdefault(name.upper(), _keep_as_call(name))
    parsers = {
        upper: _named_parser(upper.lower(), parser)
        for upper, parser in AthenaTrinoParser.FUNCTION_PARSERS.items()
    }
    return functions, parsers


class _Parser(AthenaParser):
    def __init__(self, **opts: Any) -> None:
        super().__init__(**opts)
        functions, parsers = _function_tables()
        # per instance: sqlglot's own Athena parser keeps its tables (they are class variables)
        self._trino_parser.FUNCTIONS = functions  # type: ignore[misc]
        self._trino_parser.FUNCTION_PARSERS = parsers  # type: ignore[misc]


def parse(sql: str) -> list[exp.Expr | None]:
    """Athena statements as sqlglot's Athena dialect parses them (see the module docstring)."""
    dialect = _athena()
    return _Parser(dialect=dialect).parse(dialect.tokenize(sql), sql)


# ---------------------------------------------------------------------------- names
def is_local(name: str) -> bool:
    """Whether this module expands calls of ``name`` (a Trino function name)."""
    return name.lower() in _EXPANSIONS


def call_name(node: exp.Expr) -> str | None:
    """The function name a call was written with (None for operators and syntax)."""
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    name = node.meta.get(NAME_KEY) if node.meta else None
    return str(name) if name else None


def _position(sql: str, node: exp.Expr) -> tuple[int, int]:
    start = node.meta.get("start") if node.meta else None
    if start is None:
        return 1, 1
    offset = int(start)
    line = sql.count("\n", 0, offset) + 1
    return line, offset - (sql.rfind("\n", 0, offset) + 1) + 1


def check(tree: exp.Expr, sql: str) -> None:
    """Fail like Athena on the first call of a function it lacks or the local engine lacks."""
    calls = [n for n in tree.walk() if call_name(n)]
    calls.sort(key=lambda n: int(n.meta.get("start", 0)))
    for node in calls:
        name = call_name(node)
        assert name is not None
        function = trino_functions.lookup(name)
        if function is None:
            raise FunctionNotFound(name, *_position(sql, node))
        if function.support is Support.MISSING:
            raise FunctionNotFound(
                name,
                *_position(sql, node),
                "a Trino function the local Athena (DuckDB) does not emulate; run this query "
                "on AWS Athena",
            )


# ---------------------------------------------------------------------------- expansion
def expand(tree: exp.Expr, sql: str) -> exp.Expr:
    """Replace every call of a function of this module by its DuckDB expansion (innermost first)."""
    for node in reversed(list(tree.walk())):
        name = call_name(node)
        if name is None or name not in _EXPANSIONS or isinstance(node, exp.Paren):
            continue
        args = _arguments(node, sql)
        build = _EXPANSIONS[name]
        try:
            inspect.signature(build).bind(*args)
        except TypeError:
            raise FunctionNotFound(
                name,
                *_position(sql, node),
                f"the local Athena (DuckDB) does not emulate it with {len(args)} arguments; "
                "run this query on AWS Athena",
            ) from None
        try:
            expansion = build(*args)
        except _Unsupported as err:
            raise FunctionNotFound(name, *_position(sql, node), str(err)) from None
        expansion.meta[NAME_KEY] = name
        if name == "reverse" and _is_array(args[0]):
            expansion.meta[_RETURNS_ARRAY] = True
        _replace(node, expansion)
    return tree


def _replace(call: exp.Expr, expansion: exp.Expr) -> None:
    """Put the expansion in place of the call. An aggregate call under ``FILTER (WHERE ...)``
    or ``OVER (...)`` hands the clause to the DuckDB aggregates of its expansion (the clause
    cannot apply to the expression around them)."""
    target = call
    while isinstance(target.parent, exp.Filter | exp.Window) and target.parent.this is target:
        expansion = _each_aggregate(expansion, target.parent)
        target = target.parent
    target.replace(expansion)


def _is_aggregate(node: exp.Expr) -> bool:
    return isinstance(node, exp.AggFunc) or (
        isinstance(node, exp.Anonymous) and node.name.lower() == "histogram"
    )


def _each_aggregate(expansion: exp.Expr, clause: exp.Expr) -> exp.Expr:
    """The ``FILTER`` or ``OVER`` clause applied to each outermost DuckDB aggregate of the
    expansion (a ``FILTER`` of one counts as the aggregate)."""

    def visit(node: exp.Expr) -> exp.Expr:
        if (isinstance(node, exp.Filter) and _is_aggregate(node.this)) or _is_aggregate(node):
            if isinstance(clause, exp.Filter):
                return _filtered(node.copy(), clause)
            return _windowed(node.copy(), clause)
        return node

    return expansion.transform(visit, copy=False)


def _filtered(aggregate: exp.Expr, clause: exp.Expr) -> exp.Expr:
    condition = clause.expression.this.copy()
    if isinstance(aggregate, exp.Filter):
        both = exp.and_(exp.paren(aggregate.expression.this.copy()), exp.paren(condition))
        return exp.Filter(this=aggregate.this, expression=exp.Where(this=both))
    return exp.Filter(this=aggregate, expression=exp.Where(this=condition))


def _windowed(aggregate: exp.Expr, clause: exp.Expr) -> exp.Expr:
    window = clause.copy()
    window.set("this", aggregate)
    return window


def _arguments(node: exp.Expr, sql: str) -> list[exp.Expr]:
    """Trino's positional arguments of a call (a few are sqlglot expressions even here)."""
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    if isinstance(node, exp.Substring):
        return [a for a in (node.this, node.args.get("start"), node.args.get("length")) if a]
    if isinstance(node, exp.Extract):
        return [node.this, node.expression]
    if isinstance(node, exp.Normalize):
        if node.args.get("form"):
            raise _Unsupported("NFC only: the local Athena (DuckDB) has no NFD/NFKC/NFKD")
        return [node.this]
    raise FunctionNotFound(
        call_name(node) or "?", *_position(sql, node), f"parsed as {type(node).__name__}"
    )


# ---------------------------------------------------------------------------- templates
@cache
def _template(text: str) -> exp.Expr:
    return sqlglot.parse_one(text, read="duckdb")


def _sql(text: str, **args: exp.Expr) -> exp.Expr:
    """DuckDB SQL ``text`` with each column ``_name`` replaced by ``args[name]`` (parenthesised)."""

    def fill(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("_"):
            value = args.get(node.name[1:])
            if value is not None:
                return exp.paren(value.copy(), copy=False)
        return node

    return exp.paren(_template(text).copy().transform(fill, copy=False), copy=False)


def _str(node: exp.Expr) -> str | None:
    """The value of a string literal argument (None when it is not a constant string)."""
    return node.this if isinstance(node, exp.Literal) and node.is_string else None


def _literal(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def _lambda(node: exp.Expr, arity: int) -> exp.Lambda:
    if not isinstance(node, exp.Lambda) or len(node.expressions) != arity:
        raise _Unsupported(f"expects a lambda of {arity} argument(s) there")
    return node


def _apply(function: exp.Expr, *values: exp.Expr) -> exp.Expr:
    """Inline a Trino lambda: its body with each parameter replaced by a value."""
    lam = _lambda(function, len(values))
    mapping = {p.name: v for p, v in zip(lam.expressions, values, strict=True)}

    def substitute(node: exp.Expr) -> exp.Expr:
        name = node.name if isinstance(node, exp.Identifier | exp.Column) else None
        if name not in mapping or (isinstance(node, exp.Column) and node.table):
            return node
        parent = node.parent
        if isinstance(node, exp.Identifier) and (
            (isinstance(parent, exp.Dot) and parent.expression is node)  # a row field
            or isinstance(parent, exp.Column | exp.Alias | exp.Lambda)
        ):
            return node
        return exp.paren(mapping[name].copy(), copy=False)

    body: exp.Expr = lam.this
    return exp.paren(body.copy().transform(substitute, copy=False), copy=False)


def _sqlglot(name: str, *args: exp.Expr) -> exp.Expr:
    """sqlglot's own expression for the call (where its translation is right)."""
    builder = AthenaTrinoParser.FUNCTIONS[name.upper()]
    copies = [a.copy() for a in args]
    node: exp.Expr
    try:
        node = builder(copies)
    except TypeError:
        node = builder(copies, dialect=_athena())
    return node


# ---------------------------------------------------------------------------- types
_ARRAY_RESULTS = frozenset(
    [
        "array_agg",
        "array_distinct",
        "array_except",
        "array_intersect",
        "array_remove",
        "array_sort",
        "array_union",
        "filter",
        "flatten",
        "map_keys",
        "map_values",
        "ngrams",
        "regexp_extract_all",
        "regexp_split",
        "repeat",
        "sequence",
        "shuffle",
        "slice",
        "split",
        "transform",
        "trim_array",
        "zip",
        "zip_with",
        "map_entries",
    ]
)


def _is_array(node: exp.Expr) -> bool:
    """Whether an argument is an array, from sqlglot's types or the function that made it."""
    name = call_name(node)
    if name == "reverse" and isinstance(node, exp.Anonymous):
        return any(_is_array(a) for a in node.expressions)
    if name in _ARRAY_RESULTS or node.meta.get(_RETURNS_ARRAY):
        return True
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Array):
        return True
    return node.type is not None and node.type.is_type(exp.DType.ARRAY)


_DATE_RESULTS = frozenset(["date", "from_iso8601_date", "last_day_of_month"])


def _is_date(node: exp.Expr) -> bool:
    """Whether an argument is a DATE (not a timestamp), from types, casts or its function."""
    if call_name(node) in _DATE_RESULTS:
        return True
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.CurrentDate):
        return True
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DType.DATE):
        return True
    return node.type is not None and node.type.is_type(exp.DType.DATE)


# ---------------------------------------------------------------------------- aggregates
def _first_per_key(entries: str) -> str:
    """DuckDB SQL: a sorted list of ``{k, v}`` structs without repeated keys (first kept)."""
    return f"list_filter({entries}, lambda __e, __i: __i = 1 OR {entries}[__i - 1].k IS DISTINCT FROM __e.k)"


_PAIRS = "list(DISTINCT struct_pack(k := _k, v := _v)) FILTER (WHERE _k IS NOT NULL)"


def _map_agg(key: exp.Expr, value: exp.Expr) -> exp.Expr:
    return _sql(f"map_from_entries({_first_per_key(f'list_sort({_PAIRS})')})", k=key, v=value)


def _map_union(maps: exp.Expr) -> exp.Expr:
    entries = (
        "list_sort(list_transform(flatten(list(map_entries(_m))), "
        "lambda __e: struct_pack(k := __e.key, v := __e.value)))"
    )
    return _sql(f"map_from_entries({_first_per_key(entries)})", m=maps)


def _multimap(entries: str, **args: exp.Expr) -> exp.Expr:
    """A map of each key to the list of its values, in order, from a list of ``{k, v}``."""
    return _sql(
        f"map_from_entries(list_transform(list_distinct(list_transform({entries}, lambda __e: __e.k)), "
        f"lambda __key: struct_pack(k := __key, v := list_transform(list_filter({entries}, "
        "lambda __e: __e.k = __key), lambda __e: __e.v))))",
        **args,
    )


def _multimap_agg(key: exp.Expr, value: exp.Expr) -> exp.Expr:
    return _multimap(
        "list(struct_pack(k := _k, v := _v)) FILTER (WHERE _k IS NOT NULL)", k=key, v=value
    )


def _sum(value: exp.Expr) -> exp.Expr:
    """Trino sums integers into a bigint; DuckDB into a 128-bit integer (read as a decimal)."""
    integer = value.type is not None and value.type.is_type(*exp.DataType.INTEGER_TYPES)
    return _sql("CAST(sum(_x) AS BIGINT)" if integer else "sum(_x)", x=value)


def _approx_most_frequent(buckets: exp.Expr, value: exp.Expr, capacity: exp.Expr) -> exp.Expr:
    return _sql(
        "map_from_entries(list_transform(list_slice(list_sort(list_transform(map_entries(histogram(_x)), "
        "lambda __e: struct_pack(n := -CAST(__e.value AS BIGINT), k := __e.key))), 1, _b), "
        "lambda __e: struct_pack(k := __e.k, v := -__e.n)))",
        x=value,
        b=buckets,
    )


def _approx_percentile(value: exp.Expr, percentage: exp.Expr, *rest: exp.Expr) -> exp.Expr:
    if rest:
        raise _Unsupported("the weighted overloads approx_percentile(x, w, ...) are not emulated")
    return _sql("approx_quantile(_x, _p)", x=value, p=percentage)


def _reduce_agg(
    value: exp.Expr, initial: exp.Expr, function: exp.Expr, combine: exp.Expr
) -> exp.Expr:
    _lambda(combine, 2)
    return _sql(
        "list_reduce(list(_x) FILTER (WHERE _x IS NOT NULL), _f, _s)",
        x=value,
        f=_lambda(function, 2),
        s=initial,
    )


# ---------------------------------------------------------------------------- arrays
def _match(trigger: str, found: str, otherwise: str) -> Callable[[exp.Expr, exp.Expr], exp.Expr]:
    """all_match/any_match/none_match with Trino's three-valued rules: ``found`` as soon as the
    predicate gives ``trigger`` for an element, else NULL if it gave NULL for one, else
    ``otherwise``."""

    def build(array: exp.Expr, predicate: exp.Expr) -> exp.Expr:
        return _sql(
            "CASE WHEN list_transform(_a, _f) IS NULL THEN NULL "
            f"WHEN list_contains(list_transform(_a, _f), {trigger}) THEN {found} "
            "WHEN list_count(list_transform(_a, _f)) < len(_a) THEN NULL "
            f"ELSE {otherwise} END",
            a=array,
            f=_lambda(predicate, 1),
        )

    return build


def _array_distinct(array: exp.Expr) -> exp.Expr:
    return _sql("list_filter(_a, lambda __e, __i: list_position(_a, __e) = __i)", a=array)


def _array_except(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return _sql(
        "list_filter(_d, lambda __e: list_position(_b, __e) IS NULL)",
        d=_array_distinct(left),
        b=right,
    )


def _array_intersect(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """Trino walks the longer array (the left one on a tie) and keeps what the other holds, NULL
    included."""
    keep = "list_filter(_d, lambda __e: list_position(_o, __e) IS NOT NULL)"
    return _sql(
        "CASE WHEN len(_a) < len(_b) THEN _right ELSE _left END",
        a=left,
        b=right,
        left=_sql(keep, d=_array_distinct(left), o=right),
        right=_sql(keep, d=_array_distinct(right), o=left),
    )


def _array_union(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    return _array_distinct(_sql("list_concat(_a, _b)", a=left, b=right))


def _array_extreme(function: str) -> Callable[[exp.Expr], exp.Expr]:
    def build(array: exp.Expr) -> exp.Expr:
        return _sql(
            f"CASE WHEN list_count(_a) < len(_a) THEN NULL ELSE {function}(_a) END", a=array
        )

    return build


def _array_position(array: exp.Expr, element: exp.Expr, *instance: exp.Expr) -> exp.Expr:
    if instance:
        raise _Unsupported("array_position(array, element, instance) is not emulated")
    return _sql(
        "CASE WHEN _a IS NULL OR _e IS NULL THEN NULL "
        "ELSE CAST(coalesce(list_position(_a, _e), 0) AS BIGINT) END",
        a=array,
        e=element,
    )


def _array_sort(array: exp.Expr, *comparator: exp.Expr) -> exp.Expr:
    if comparator:
        raise _Unsupported("the comparator overload array_sort(array, function) is not emulated")
    return _sql("list_sort(_a, 'ASC', 'NULLS LAST')", a=array)


def _reduce(array: exp.Expr, initial: exp.Expr, function: exp.Expr, finish: exp.Expr) -> exp.Expr:
    reduced = _sql("list_reduce(_a, _f, _s)", a=array, f=_lambda(function, 2), s=initial)
    return _apply(finish, reduced)


def _reverse(value: exp.Expr) -> exp.Expr:
    return _sql("list_reverse(_x)" if _is_array(value) else "reverse(_x)", x=value)


def _sequence(start: exp.Expr, stop: exp.Expr, step: exp.Expr | None = None) -> exp.Expr:
    if _is_date(start) or _is_date(stop):
        step_sql = (
            "_i"
            if step is not None
            else "CASE WHEN _a <= _b THEN INTERVAL 1 DAY ELSE INTERVAL -1 DAY END"
        )
        return _sql(
            f"CAST(generate_series(CAST(_a AS TIMESTAMP), CAST(_b AS TIMESTAMP), {step_sql}) AS DATE[])",
            a=start,
            b=stop,
            **({"i": step} if step is not None else {}),
        )
    if step is None:
        return _sql(
            "generate_series(_a, _b, CASE WHEN _a <= _b THEN 1 ELSE -1 END)", a=start, b=stop
        )
    return _sql("generate_series(_a, _b, _i)", a=start, b=stop, i=step)


def _slice(array: exp.Expr, start: exp.Expr, length: exp.Expr) -> exp.Expr:
    first = "CASE WHEN _s > 0 THEN _s ELSE len(_a) + _s + 1 END"
    return _sql(
        "CASE WHEN _s = 0 THEN error('SQL array indices start at 1') "
        "WHEN _n < 0 THEN error('Length must be greater than or equal to 0') "
        f"WHEN {first} < 1 THEN list_slice(_a, 1, 0) "
        f"ELSE list_slice(_a, {first}, {first} + _n - 1) END",
        a=array,
        s=start,
        n=length,
    )


def _zip_with(left: exp.Expr, right: exp.Expr, function: exp.Expr) -> exp.Expr:
    pair = exp.column("__p")
    body = _apply(function, _sql("_p[1]", p=pair), _sql("_p[2]", p=pair))
    return _sql(
        "list_transform(list_zip(_a, _b), lambda __p: _body)",
        a=left,
        b=right,
        body=body,
    )


# ---------------------------------------------------------------------------- maps
def _map_entry_function(function: exp.Expr) -> exp.Expr:
    """A Trino ``(k, v) -> ...`` lambda applied to the entry ``__e`` of DuckDB's map_entries."""
    return _apply(function, _sql("__e.key"), _sql("__e.value"))


def _map_filter(map_: exp.Expr, function: exp.Expr) -> exp.Expr:
    keep = _map_entry_function(function)
    return _sql(
        "map_from_entries(list_filter(map_entries(_m), lambda __e: _keep))", m=map_, keep=keep
    )


def _transform_keys(map_: exp.Expr, function: exp.Expr) -> exp.Expr:
    new_key = _map_entry_function(function)
    return _sql(
        "map_from_entries(list_transform(map_entries(_m), lambda __e: struct_pack(k := _new, v := __e.value)))",
        m=map_,
        new=new_key,
    )


def _transform_values(map_: exp.Expr, function: exp.Expr) -> exp.Expr:
    new_value = _map_entry_function(function)
    return _sql(
        "map_from_entries(list_transform(map_entries(_m), lambda __e: struct_pack(k := __e.key, v := _new)))",
        m=map_,
        new=new_value,
    )


def _map_zip_with(left: exp.Expr, right: exp.Expr, function: exp.Expr) -> exp.Expr:
    key = exp.column("__k")
    value = _apply(function, key, _sql("_m[_k]", m=left, k=key), _sql("_m[_k]", m=right, k=key))
    return _sql(
        "map_from_entries(list_transform(list_distinct(list_concat(map_keys(_a), map_keys(_b))), "
        "lambda __k: struct_pack(k := __k, v := _value)))",
        a=left,
        b=right,
        value=value,
    )


def _multimap_from_entries(entries: exp.Expr) -> exp.Expr:
    return _multimap(
        "list_transform(_x, lambda __r: struct_pack(k := __r[1], v := __r[2]))", x=entries
    )


# ---------------------------------------------------------------------------- JSON
_JSON_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def duckdb_json_path(path: str) -> str:
    """Trino's JSONPath (``$.a.b``, ``$.a[0]``, ``$["a b"]``, ``$.store[book]``) in DuckDB's form.

    Raises :class:`_Unsupported` for what Trino's simple path language does not have either
    (wildcards, filters, recursive descent)."""
    if not path.startswith("$"):
        raise _Unsupported(f"JSON path {path!r} does not start with $")
    out, i = ["$"], 1
    while i < len(path):
        if path[i] == "." and i + 1 < len(path) and path[i + 1] not in ".*[":
            match = re.match(r"[^.\[]+", path[i + 1 :])
            assert match is not None
            out.append(_json_key(match.group()))
            i += 1 + match.end()
        elif path[i] == "[":
            end = path.find("]", i)
            if end < 0:
                raise _Unsupported(f"JSON path {path!r} has an unclosed [")
            inner = path[i + 1 : end].strip()
            if re.fullmatch(r"-?\d+", inner):
                out.append(f"[{inner}]" if not inner.startswith("-") else f"[#{inner}]")
            elif inner[:1] in ("'", '"') and inner[-1:] == inner[:1]:
                out.append(_json_key(inner[1:-1]))
            elif inner and "*" not in inner:
                out.append(_json_key(inner))
            else:
                raise _Unsupported(f"JSON path {path!r}: wildcards are not emulated")
            i = end + 1
        else:
            raise _Unsupported(f"JSON path {path!r} is not emulated")
    return "".join(out)


def _json_key(key: str) -> str:
    if _JSON_KEY.fullmatch(key):
        return f".{key}"
    return '."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_path(path: exp.Expr) -> exp.Expr:
    text = _str(path)
    return _literal(duckdb_json_path(text)) if text is not None else path


def _json_extract(json: exp.Expr, path: exp.Expr) -> exp.Expr:
    return _sql(
        "CASE WHEN json_valid(_j) THEN json_extract(_j, _p) END", j=json, p=_json_path(path)
    )


def _json_extract_scalar(json: exp.Expr, path: exp.Expr) -> exp.Expr:
    return _sql(
        "CASE WHEN json_valid(_j) AND json_type(_j, _p) NOT IN ('OBJECT', 'ARRAY') "
        "THEN json_extract_string(_j, _p) END",
        j=json,
        p=_json_path(path),
    )


def _json_size(json: exp.Expr, path: exp.Expr) -> exp.Expr:
    return _sql(
        "CASE WHEN NOT json_valid(_j) THEN NULL WHEN json_type(_j, _p) IS NULL THEN NULL "
        "WHEN json_type(_j, _p) = 'ARRAY' THEN CAST(json_array_length(_j, _p) AS BIGINT) "
        "WHEN json_type(_j, _p) = 'OBJECT' THEN CAST(len(json_keys(_j, _p)) AS BIGINT) ELSE 0 END",
        j=json,
        p=_json_path(path),
    )


def _json_array_get(json: exp.Expr, index: exp.Expr) -> exp.Expr:
    element = (
        "json_extract(_j, CASE WHEN _i >= 0 THEN '$[' || _i || ']' ELSE '$[#' || _i || ']' END)"
    )
    return _sql(
        f"CASE WHEN NOT json_valid(_j) THEN NULL WHEN json_type({element}) = 'VARCHAR' "
        f"THEN json_extract_string({element}, '$') ELSE CAST({element} AS VARCHAR) END",
        j=json,
        i=index,
    )


# ---------------------------------------------------------------------------- regular expressions
def _regexp_extract(string: exp.Expr, pattern: exp.Expr, group: exp.Expr | None = None) -> exp.Expr:
    return _sql(
        "CASE WHEN regexp_matches(_s, _p) THEN regexp_extract(_s, _p, _g) END",
        s=string,
        p=pattern,
        g=group if group is not None else exp.Literal.number(0),
    )


def _regexp_position(
    string: exp.Expr,
    pattern: exp.Expr,
    start: exp.Expr | None = None,
    occurrence: exp.Expr | None = None,
) -> exp.Expr:
    """Position of the n-th match = lengths of the text before it (the pieces a split on the
    pattern leaves) plus the lengths of the matches before it."""
    start = start if start is not None else exp.Literal.number(1)
    occurrence = occurrence if occurrence is not None else exp.Literal.number(1)
    rest = _sql("substring(_s, _b)", s=string, b=start)
    return _sql(
        "CASE WHEN _b < 1 THEN error('start position must be greater than zero') "
        "WHEN len(regexp_extract_all(_r, _p)) < _n THEN -1 "
        "ELSE _b + len(array_to_string(list_slice(regexp_split_to_array(_r, _p), 1, _n), '')) "
        "+ len(array_to_string(list_slice(regexp_extract_all(_r, _p), 1, _n - 1), '')) END",
        r=rest,
        p=pattern,
        b=start,
        n=occurrence,
    )


def java_replacement(replacement: str) -> str:
    """A Java (Trino) regex replacement (``$1``, ``\\$``) as RE2's (``\\1``, ``$``)."""
    out, i = [], 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\" and i + 1 < len(replacement):
            escaped = replacement[i + 1]
            out.append("\\\\" if escaped == "\\" else escaped)
            i += 2
        elif char == "$" and i + 1 < len(replacement) and replacement[i + 1].isdigit():
            out.append("\\" + replacement[i + 1])
            i += 2
        elif char == "$":
            raise _Unsupported("named groups (${name}) in the replacement are not emulated")
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _regexp_replace(
    string: exp.Expr, pattern: exp.Expr, replacement: exp.Expr | None = None
) -> exp.Expr:
    if replacement is None:
        return _sql("regexp_replace(_s, _p, '', 'g')", s=string, p=pattern)
    if isinstance(replacement, exp.Lambda):
        raise _Unsupported(
            "the lambda overload regexp_replace(string, pattern, function) is not emulated"
        )
    text = _str(replacement)
    converted = (
        _literal(java_replacement(text))
        if text is not None
        else _sql(r"regexp_replace(_r, '\$(\d)', '\\\1', 'g')", r=replacement)
    )
    return _sql("regexp_replace(_s, _p, _r, 'g')", s=string, p=pattern, r=converted)


# ---------------------------------------------------------------------------- date and time
#: MySQL-style specifiers of Trino's date_format/date_parse -> DuckDB strftime/strptime.
_MYSQL_FORMAT = {
    "a": "%a", "b": "%b", "c": "%-m", "d": "%d", "e": "%-d", "f": "%f", "H": "%H", "h": "%I",
    "I": "%I", "i": "%M", "j": "%j", "k": "%-H", "l": "%-I", "M": "%B", "m": "%m", "p": "%p",
    "r": "%I:%M:%S %p", "S": "%S", "s": "%S", "T": "%H:%M:%S", "v": "%V", "W": "%A", "x": "%G",
    "Y": "%Y", "y": "%y", "%": "%%",
}  # fmt: skip
#: Specifiers Trino rejects ("%D not supported in date format string").
_MYSQL_UNSUPPORTED = frozenset("DUuVwX")


def mysql_format(fmt: str) -> str:
    """Trino's ``date_format`` pattern as DuckDB's strftime pattern (raises on %D %U %u %V %w %X,
    which Trino rejects too)."""
    out, i = [], 0
    while i < len(fmt):
        char = fmt[i]
        if char != "%" or i + 1 == len(fmt):
            out.append("%%" if char == "%" else char)
            i += 1
            continue
        spec = fmt[i + 1]
        if spec in _MYSQL_UNSUPPORTED:
            raise ValueError(f"%{spec} not supported in date format string")
        out.append(_MYSQL_FORMAT.get(spec, spec))
        i += 2
    return "".join(out)


def _with_format(
    template: str, value: exp.Expr, fmt: exp.Expr, convert: Callable[[str], str], function: str
) -> exp.Expr:
    """``template`` with ``_f`` the converted constant format; Trino's error for a format it
    rejects (raised by DuckDB when the query runs, as Athena fails the query)."""
    text = _str(fmt)
    if text is None:
        raise _Unsupported(
            f"{function} with a format that is not a constant string is not emulated"
        )
    try:
        converted = convert(text)
    except ValueError as err:
        return _sql("error(_m)", m=_literal(str(err)))
    return _sql(template, x=value, f=_literal(converted))


def _date_format(value: exp.Expr, fmt: exp.Expr) -> exp.Expr:
    return _with_format("strftime(_x, _f)", value, fmt, mysql_format, "date_format")


def _date_parse(value: exp.Expr, fmt: exp.Expr) -> exp.Expr:
    """Trino reads a two-digit %y as 1970..2069, DuckDB as 1969..2068: only 69 differs."""
    parsed = "CAST(strptime(_x, _f) AS TIMESTAMP)"
    text = _str(fmt) or ""
    if "%y" in text and "%Y" not in text:
        parsed = (
            f"CASE WHEN year({parsed}) = 1969 THEN {parsed} + INTERVAL 100 YEAR ELSE {parsed} END"
        )
    return _with_format(parsed, value, fmt, mysql_format, "date_parse")


#: Joda-Time pattern letters (format_datetime/parse_datetime) -> strftime, by count of letters.
_JODA = {
    "y": {1: "%Y", 2: "%y", 3: "%Y", 4: "%Y"},
    "M": {1: "%-m", 2: "%m", 3: "%b", 4: "%B"},
    "d": {1: "%-d", 2: "%d"},
    "D": {1: "%-j", 2: "%j", 3: "%j"},
    "H": {1: "%-H", 2: "%H"},
    "h": {1: "%-I", 2: "%I"},
    "m": {1: "%-M", 2: "%M"},
    "s": {1: "%-S", 2: "%S"},
    "S": {3: "%g", 6: "%f"},
    "a": {1: "%p"},
    "E": {1: "%a", 2: "%a", 3: "%a", 4: "%A"},
}


def joda_format(fmt: str) -> str:
    """A Joda-Time pattern (Trino's ``format_datetime``) as DuckDB's strftime pattern."""
    out, i = [], 0
    while i < len(fmt):
        char = fmt[i]
        if char == "'":
            end = fmt.find("'", i + 1)
            if end == i + 1:
                out.append("'")
                i += 2
                continue
            if end < 0:
                raise ValueError(f"Unterminated quote in pattern {fmt!r}")
            out.append(fmt[i + 1 : end].replace("%", "%%"))
            i = end + 1
            continue
        if char.isalpha():
            count = len(fmt[i:]) - len(fmt[i:].lstrip(char))
            options = _JODA.get(char, {})
            fitting = [n for n in options if n <= count]
            if not fitting:
                raise ValueError(
                    f"Joda pattern {char * count!r} is not emulated by the local Athena"
                )
            out.append(options[max(fitting)])
            i += count
            continue
        out.append("%%" if char == "%" else char)
        i += 1
    return "".join(out)


def _format_datetime(value: exp.Expr, fmt: exp.Expr) -> exp.Expr:
    return _with_format("strftime(_x, _f)", value, fmt, joda_format, "format_datetime")


def _parse_datetime(value: exp.Expr, fmt: exp.Expr) -> exp.Expr:
    return _with_format(
        "CAST(CAST(strptime(_x, _f) AS TIMESTAMP) AS TIMESTAMPTZ)",
        value,
        fmt,
        joda_format,
        "parse_datetime",
    )


def _as_date_if(argument: exp.Expr, expression: exp.Expr) -> exp.Expr:
    """Trino keeps DATE arguments DATE where DuckDB returns TIMESTAMP."""
    return _sql("CAST(_x AS DATE)", x=expression) if _is_date(argument) else expression


def _date_trunc(unit: exp.Expr, value: exp.Expr) -> exp.Expr:
    return _as_date_if(value, _sqlglot("date_trunc", unit, value))


def _date_add(unit: exp.Expr, amount: exp.Expr, value: exp.Expr) -> exp.Expr:
    return _as_date_if(value, _sqlglot("date_add", unit, amount, value))


#: Trino's extract fields that DuckDB names or counts differently.
_EXTRACT_FIELDS = {"DOW": "ISODOW", "DAY_OF_WEEK": "ISODOW", "DOY": "DOY", "DAY_OF_YEAR": "DOY",
                   "YOW": "ISOYEAR", "YEAR_OF_WEEK": "ISOYEAR", "DAY_OF_MONTH": "DAY"}  # fmt: skip


def _extract(field: exp.Expr, value: exp.Expr) -> exp.Expr:
    """``extract(field FROM x)``: Trino's DOW is ISO (Sunday = 7), DuckDB's counts from 0."""
    name = field.name.upper()
    return exp.Extract(this=exp.var(_EXTRACT_FIELDS.get(name, name)), expression=value.copy())


def _date_diff(unit: exp.Expr, start: exp.Expr, end: exp.Expr) -> exp.Expr:
    """Trino counts complete units (23:00 -> 01:00 next day is 0 days), like DuckDB's date_sub
    (DuckDB's date_diff counts unit boundaries crossed)."""
    text = _str(unit)
    return _sql("date_sub(_u, _a, _b)", u=_literal(text.lower()) if text else unit, a=start, b=end)


# ---------------------------------------------------------------------------- strings
def _split(string: exp.Expr, delimiter: exp.Expr, limit: exp.Expr | None = None) -> exp.Expr:
    if limit is None:
        return _sql("str_split(_s, _d)", s=string, d=delimiter)
    parts = "str_split(_s, _d)"
    return _sql(
        f"CASE WHEN _n <= 0 THEN error('Limit must be positive') WHEN len({parts}) <= _n THEN {parts} "
        f"ELSE list_append(list_slice({parts}, 1, _n - 1), array_to_string(list_slice({parts}, _n, len({parts})), _d)) END",
        s=string,
        d=delimiter,
        n=limit,
    )


_ENTRIES = (
    "list_transform(list_slice(str_split(_s, _e), 1, len(str_split(_s, _e)) - "
    "CASE WHEN str_split(_s, _e)[-1] = '' THEN 1 ELSE 0 END), "
    "lambda __p: CASE WHEN len(str_split(__p, _kv)) <> 2 "
    "THEN error('Key-value delimiter must appear exactly once in each entry. Bad input: ' || __p) "
    "ELSE struct_pack(k := split_part(__p, _kv, 1), v := split_part(__p, _kv, 2)) END)"
)


def _split_to_map(string: exp.Expr, entry: exp.Expr, key_value: exp.Expr) -> exp.Expr:
    return _sql(f"map_from_entries({_ENTRIES})", s=string, e=entry, kv=key_value)


def _split_to_multimap(string: exp.Expr, entry: exp.Expr, key_value: exp.Expr) -> exp.Expr:
    return _multimap(_ENTRIES, s=string, e=entry, kv=key_value)


def _strpos(string: exp.Expr, sub: exp.Expr, instance: exp.Expr | None = None) -> exp.Expr:
    """The n-th occurrence starts after n pieces of a split on the substring and n - 1 copies of
    it: the length of those pieces joined by it, plus one (negative n counts from the end)."""
    if instance is None:
        return _sql("strpos(_s, _t)", s=string, t=sub)
    parts = "str_split(_s, _t)"
    nth = f"CASE WHEN _n > 0 THEN _n ELSE len({parts}) + _n END"
    return _sql(
        "CASE WHEN _n = 0 THEN error('\"instance\" must be a positive or negative number') "
        f"WHEN abs(_n) > len({parts}) - 1 THEN 0 "
        f"ELSE length(array_to_string(list_slice({parts}, 1, {nth}), _t)) + 1 END",
        s=string,
        t=sub,
        n=instance,
    )


def _substr(string: exp.Expr, start: exp.Expr, length: exp.Expr | None = None) -> exp.Expr:
    """Trino: a start of 0, or beyond either end, gives ''; negative counts from the end."""
    call = "substring(_s, _p, _n)" if length is not None else "substring(_s, _p)"
    return _sql(
        "CASE WHEN _s IS NULL OR _p IS NULL THEN NULL "
        f"WHEN _p = 0 OR _p > length(_s) OR -_p > length(_s) THEN '' ELSE {call} END",
        s=string,
        p=start,
        **({"n": length} if length is not None else {}),
    )


def _width_bucket(value: exp.Expr, *args: exp.Expr) -> exp.Expr:
    if len(args) == 1:
        return _sql("len(list_filter(_b, lambda __b: __b <= _x))", x=value, b=args[0])
    low, high, count = args
    return _sql(
        "CASE WHEN _n <= 0 THEN error('bucketCount must be greater than 0') "
        "WHEN _lo = _hi THEN error('bounds cannot equal each other') "
        "WHEN _lo < _hi THEN (CASE WHEN _x < _lo THEN 0 WHEN _x >= _hi THEN _n + 1 "
        "ELSE CAST(floor((_x - _lo) / (_hi - _lo) * _n) AS BIGINT) + 1 END) "
        "ELSE (CASE WHEN _x > _lo THEN 0 WHEN _x <= _hi THEN _n + 1 "
        "ELSE CAST(floor((_lo - _x) / (_lo - _hi) * _n) AS BIGINT) + 1 END) END",
        x=value,
        lo=low,
        hi=high,
        n=count,
    )


def _random(*args: exp.Expr) -> exp.Expr:
    if not args:
        return _sql("random()")
    if len(args) == 1:
        return _sql("CAST(floor(random() * _n) AS BIGINT)", n=args[0])
    return _sql("_m + CAST(floor(random() * (_n - _m)) AS BIGINT)", m=args[0], n=args[1])


def _from_base(string: exp.Expr, radix: exp.Expr) -> exp.Expr:
    digits = (
        "list_transform(str_split(lower(ltrim(_s, '-')), ''), lambda __c: "
        "CASE WHEN __c BETWEEN '0' AND '9' THEN ascii(__c) - 48 "
        "WHEN __c BETWEEN 'a' AND 'z' THEN ascii(__c) - 87 ELSE 99 END)"
    )
    return _sql(
        f"CASE WHEN list_max({digits}) >= _r THEN error('Not a valid base-' || _r || ' number: ' || _s) "
        f"ELSE (CASE WHEN starts_with(_s, '-') THEN -1 ELSE 1 END) * "
        f"list_reduce({digits}, lambda __a, __d: __a * _r + __d, CAST(0 AS BIGINT)) END",
        s=string,
        r=radix,
    )


# ---------------------------------------------------------------------------- URLs
#: RFC 3986 appendix B: scheme, authority, path, query, fragment.
_URI = r"'^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$'"
#: java.net.URI rejects these characters unescaped: the function then returns NULL.
_INVALID_URI = r"'[\s<>\"{}|\\^`]'"


def _uri_part(url: exp.Expr, part: str, **args: exp.Expr) -> exp.Expr:
    return _sql(
        f"CASE WHEN regexp_matches(_u, {_INVALID_URI}) THEN NULL ELSE {part} END", u=url, **args
    )


def _url_extract(group: int, decode: bool = True) -> Callable[[exp.Expr], exp.Expr]:
    def build(url: exp.Expr) -> exp.Expr:
        text = f"regexp_extract(_u, {_URI}, {group})"
        return _uri_part(url, f"url_decode({text})" if decode else text)

    return build


_AUTHORITY = f"regexp_extract(regexp_extract(_u, {_URI}, 4), '^([^@]*@)?([^:]*)(:(\\d*))?$', {{}})"


def _url_extract_host(url: exp.Expr) -> exp.Expr:
    return _uri_part(url, _AUTHORITY.format(2))


def _url_extract_port(url: exp.Expr) -> exp.Expr:
    return _uri_part(url, f"TRY_CAST(NULLIF({_AUTHORITY.format(4)}, '') AS BIGINT)")


def _url_extract_parameter(url: exp.Expr, name: exp.Expr) -> exp.Expr:
    query = f"regexp_extract(_u, {_URI}, 7)"
    pair = f"list_filter(str_split({query}, '&'), lambda __a: split_part(__a, '=', 1) = _n)[1]"
    return _uri_part(
        url,
        f"CASE WHEN {pair} IS NULL THEN NULL "
        f"ELSE url_decode(replace(substring({pair}, length(_n) + 2), '+', ' ')) END",
        n=name,
    )


# ---------------------------------------------------------------------------- the table
def _fixed(text: str, *names: str) -> Callable[..., exp.Expr]:
    """An expansion that is a single template over a fixed argument list."""

    def build(*args: exp.Expr) -> exp.Expr:
        if len(args) != len(names):
            raise TypeError(f"{len(args)} arguments")
        return _sql(text, **dict(zip(names, args, strict=True)))

    return build


_EXPANSIONS: dict[str, Callable[..., exp.Expr]] = {
    # aggregate
    "map_agg": _map_agg,
    "map_union": _map_union,
    "multimap_agg": _multimap_agg,
    "approx_most_frequent": _approx_most_frequent,
    "approx_percentile": _approx_percentile,
    "reduce_agg": _reduce_agg,
    "every": _fixed("bool_and(_x)", "x"),
    "count_if": _fixed("CAST(count_if(_x) AS BIGINT)", "x"),
    "sum": _sum,
    "skewness": _fixed(
        "CASE WHEN count(_x) < 3 THEN NULL "
        "ELSE skewness(_x) * (count(_x) - 2) / sqrt(count(_x) * (count(_x) - 1)) END",
        "x",
    ),
    # array
    "all_match": _match("false", "false", "true"),
    "any_match": _match("true", "true", "false"),
    "none_match": _match("true", "false", "true"),
    "array_distinct": _array_distinct,
    "array_except": _array_except,
    "array_intersect": _array_intersect,
    "array_union": _array_union,
    "array_max": _array_extreme("list_max"),
    "array_min": _array_extreme("list_min"),
    "array_position": _array_position,
    "array_remove": _fixed(
        "CASE WHEN _e IS NULL THEN NULL ELSE list_filter(_a, lambda __e: __e IS NULL OR __e <> _e) END",
        "a",
        "e",
    ),
    "array_sort": _array_sort,
    "arrays_overlap": _fixed(
        "CASE WHEN _a IS NULL OR _b IS NULL THEN NULL WHEN list_has_any(_a, _b) THEN true "
        "WHEN list_count(_a) < len(_a) OR list_count(_b) < len(_b) THEN NULL ELSE false END",
        "a",
        "b",
    ),
    "cardinality": _fixed("CAST(cardinality(_x) AS BIGINT)", "x"),
    "contains": _fixed(
        "CASE WHEN _a IS NULL OR _e IS NULL THEN NULL WHEN list_contains(_a, _e) THEN true "
        "WHEN list_count(_a) < len(_a) THEN NULL ELSE false END",
        "a",
        "e",
    ),
    "ngrams": _fixed(
        "CASE WHEN _n >= len(_a) THEN [_a] "
        "ELSE list_transform(range(1, len(_a) - _n + 2), lambda __i: _a[__i:__i + _n - 1]) END",
        "a",
        "n",
    ),
    "reduce": _reduce,
    "repeat": _fixed(
        "list_transform(range(_n), lambda __i: _e)",
        "e",
        "n",
    ),
    "reverse": _reverse,
    "sequence": _sequence,
    "shuffle": _fixed(
        "list_transform(list_sort(list_transform(_a, lambda __e: struct_pack(r := random(), e := __e))), "
        "lambda __s: __s.e)",
        "a",
    ),
    "slice": _slice,
    "trim_array": _fixed(
        "CASE WHEN _n < 0 OR _n > len(_a) THEN error('size must not be negative or greater than the array length') "
        "ELSE list_slice(_a, 1, len(_a) - _n) END",
        "a",
        "n",
    ),
    "zip_with": _zip_with,
    "zip": lambda *arrays: _sql(
        "list_zip(" + ", ".join(f"_a{i}" for i in range(len(arrays))) + ")",
        **{f"a{i}": a for i, a in enumerate(arrays)},
    ),
    "array_first": _fixed("_a[1]", "a"),
    "array_last": _fixed("_a[-1]", "a"),
    # map
    "multimap_from_entries": _multimap_from_entries,
    "map_filter": _map_filter,
    "map_zip_with": _map_zip_with,
    "transform_keys": _transform_keys,
    "transform_values": _transform_values,
    # JSON
    "is_json_scalar": _fixed(
        "json_type(json(_j)) NOT IN ('OBJECT', 'ARRAY')",
        "j",
    ),
    "json_array_contains": _fixed(
        "CASE WHEN json_valid(_j) AND json_type(_j) = 'ARRAY' "
        "THEN list_contains(list_transform(CAST(json(_j) AS JSON[]), lambda __e: CAST(__e AS VARCHAR)), CAST(to_json(_v) AS VARCHAR)) END",
        "j",
        "v",
    ),
    "json_array_get": _json_array_get,
    "json_array_length": _fixed(
        "CASE WHEN json_valid(_j) AND json_type(_j) = 'ARRAY' "
        "THEN CAST(json_array_length(_j) AS BIGINT) END",
        "j",
    ),
    "json_extract": _json_extract,
    "json_extract_scalar": _json_extract_scalar,
    "json_size": _json_size,
    # regular expressions
    "regexp_extract": _regexp_extract,
    "regexp_position": _regexp_position,
    "regexp_replace": _regexp_replace,
    # date and time
    "current_timezone": _fixed("'UTC'"),
    "with_timezone": _fixed("timezone(_z, CAST(_t AS TIMESTAMP))", "t", "z"),
    "to_iso8601": _fixed(
        "CASE typeof(_x) WHEN 'DATE' THEN strftime(_x, '%Y-%m-%d') "
        "WHEN 'TIMESTAMP WITH TIME ZONE' THEN strftime(_x, '%Y-%m-%dT%H:%M:%S.%gZ') "
        "ELSE strftime(_x, '%Y-%m-%dT%H:%M:%S.%g') END",
        "x",
    ),
    "to_milliseconds": _fixed("CAST(epoch_ms(_i) AS BIGINT)", "i"),
    "date_trunc": _date_trunc,
    "date_add": _date_add,
    "date_diff": _date_diff,
    "extract": _extract,
    "date_format": _date_format,
    "date_parse": _date_parse,
    "millisecond": _fixed("millisecond(_x) % 1000", "x"),
    "yow": _fixed("isoyear(_x)", "x"),
    "format_datetime": _format_datetime,
    "parse_datetime": _parse_datetime,
    # string
    "normalize": _fixed("nfc_normalize(_s)", "s"),
    "codepoint": _fixed("unicode(_s)", "s"),
    "hamming_distance": _fixed("CAST(hamming(_a, _b) AS BIGINT)", "a", "b"),
    "split": _split,
    "split_part": _fixed(
        "CASE WHEN _i < 1 THEN error('Index must be greater than zero') "
        "WHEN _i > len(str_split(_s, _d)) THEN NULL ELSE split_part(_s, _d, _i) END",
        "s",
        "d",
        "i",
    ),
    "split_to_map": _split_to_map,
    "split_to_multimap": _split_to_multimap,
    "strpos": _strpos,
    "substr": _substr,
    "substring": _substr,
    # math, bitwise
    "e": _fixed("exp(1)"),
    "width_bucket": _width_bucket,
    "random": _random,
    "infinity": _fixed("CAST('Infinity' AS DOUBLE)"),
    "nan": _fixed("CAST('NaN' AS DOUBLE)"),
    "from_base": _from_base,
    "to_base": _fixed(
        "CASE WHEN _x < 0 THEN '-' || lower(to_base(-_x, _r)) ELSE lower(to_base(_x, _r)) END",
        "x",
        "r",
    ),
    "is_finite": _fixed("isfinite(_x)", "x"),
    "is_infinite": _fixed("isinf(_x)", "x"),
    "bit_count": _fixed(
        "CAST(CASE WHEN _b = 64 THEN bit_count(CAST(_x AS BIGINT)) "
        "ELSE bit_count(CAST(_x AS BIGINT) & ((CAST(1 AS BIGINT) << _b) - 1)) END AS BIGINT)",
        "x",
        "b",
    ),
    "bitwise_left_shift": _fixed("CAST(_x AS BIGINT) << _s", "x", "s"),
    # Logical shift of the 64-bit two's complement (DuckDB's >> is arithmetic).
    "bitwise_right_shift": _fixed(
        "CASE WHEN _s = 0 THEN CAST(_x AS BIGINT) WHEN _s >= 64 THEN CAST(0 AS BIGINT) "
        "ELSE CAST((CAST(_x AS HUGEINT) + CASE WHEN _x < 0 THEN CAST(1 AS HUGEINT) << 64 ELSE 0 END) >> _s AS BIGINT) END",
        "x",
        "s",
    ),
    "bitwise_right_shift_arithmetic": _fixed(
        "CAST(_x AS BIGINT) >> _s",
        "x",
        "s",
    ),
    "sha1": _fixed("unhex(sha1(_x))", "x"),
    # URL
    "url_extract_protocol": _url_extract(2, decode=False),
    "url_extract_host": _url_extract_host,
    "url_extract_port": _url_extract_port,
    "url_extract_path": _url_extract(5),
    "url_extract_query": _url_extract(7),
    "url_extract_fragment": _url_extract(9),
    "url_extract_parameter": _url_extract_parameter,
    "url_encode": _fixed(
        "replace(replace(replace(url_encode(_s), '%20', '+'), '%2A', '*'), '~', '%7E')",
        "s",
    ),
    "url_decode": _fixed("url_decode(replace(_s, '+', ' '))", "s"),
}


def expansion_names() -> Sequence[str]:
    return sorted(_EXPANSIONS)
