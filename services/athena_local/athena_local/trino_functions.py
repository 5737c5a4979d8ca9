"""Athena's built-in functions (Trino's), and how the local Athena (DuckDB) runs each one.

Athena engine version 3 takes its functions from Trino (``docs.aws.amazon.com/athena/latest/ug/
functions-env3.html`` points at Trino's pages, topic by topic). This module lists them, one entry
per name, with the topic of Trino's documentation it comes from and examples taken from those
pages (or, where a page gives none, from the behaviour it describes). It is the single source of:

* which names exist: a call of any other name fails with Athena's ``FUNCTION_NOT_FOUND`` (as on
  Athena), and so does a Trino function the local engine does not emulate (:data:`Support.MISSING`);
* the coverage table in ``docs/athena-local.md`` (:func:`coverage_markdown`; a test checks that
  the page holds exactly what this module generates);
* the tests: every example runs through the local translation on real DuckDB and must give
  Trino's documented answer; every example of a function marked :data:`Support.LOCAL` must also
  show why: plain sqlglot + DuckDB fails or answers differently on at least one of them.

Each function is in one of three states (:class:`Support`):

* ``NATIVE``: sqlglot's Athena -> DuckDB translation (or DuckDB's function of the same name) gives
  Trino's answer on every example;
* ``LOCAL``: :mod:`athena_local.functions` expands the call into DuckDB SQL with Trino's semantics
  (NULL handling, 1-based indexes, Trino's format strings); the expansions live there;
* ``MISSING``: not emulated; the query fails with ``FUNCTION_NOT_FOUND`` naming the function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

_QUERY = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)


class Topic(StrEnum):
    """The page of Trino's documentation a function is described on."""

    AGGREGATE = "Aggregate"
    ARRAY = "Array"
    BINARY = "Binary"
    BITWISE = "Bitwise"
    COLOR = "Color"
    COMPARISON = "Comparison"
    CONDITIONAL = "Conditional"
    CONVERSION = "Conversion"
    DATETIME = "Date and time"
    GEOSPATIAL = "Geospatial"
    HYPERLOGLOG = "HyperLogLog"
    IPADDRESS = "IP address"
    JSON = "JSON"
    MACHINE_LEARNING = "Machine learning"
    MAP = "Map"
    MATH = "Math"
    QDIGEST = "Quantile digest"
    REGEXP = "Regular expression"
    ROW = "Row"
    SESSION = "Session"
    SETDIGEST = "Set digest"
    STRING = "String"
    TDIGEST = "T-Digest"
    TERADATA = "Teradata"
    URL = "URL"
    UUID = "UUID"
    WINDOW = "Window"
    ATHENA = "Athena only"


class Kind(StrEnum):
    SCALAR = "scalar"
    AGGREGATE = "aggregate"
    WINDOW = "window"


class Support(StrEnum):
    NATIVE = "sqlglot + DuckDB"
    LOCAL = "local expansion"
    MISSING = "not emulated"


class Fails:
    """Expected outcome of an example that Trino rejects (the local query must fail too)."""

    def __repr__(self) -> str:
        return "FAILS"


FAILS = Fails()


class NotEmulated:
    """Expected outcome of a call of an overload the local engine refuses (FUNCTION_NOT_FOUND)."""

    def __repr__(self) -> str:
        return "NOT_EMULATED"


NOT_EMULATED = NotEmulated()


@dataclass(frozen=True)
class Unordered:
    """An expected array whose order Trino leaves unspecified (compared as a multiset)."""

    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Example:
    """One call and what Trino returns for it.

    ``sql`` is an expression (run as ``SELECT <sql>``) or a whole ``SELECT``/``WITH`` query that
    returns one row and one column. ``expected`` is the Python value of Trino's answer: arrays
    as lists, maps as dicts, rows as tuples, ``timestamp`` as a naive and ``timestamp with time
    zone`` as an aware ``datetime``; or :data:`FAILS` (Trino rejects the call, so must the local
    engine); or :data:`NOT_EMULATED` (an overload the local engine refuses with
    ``FUNCTION_NOT_FOUND`` rather than answer differently).
    """

    sql: str
    expected: Any

    @property
    def query(self) -> str:
        return self.sql if _QUERY.match(self.sql) else f"SELECT {self.sql}"


@dataclass(frozen=True, slots=True)
class TrinoFunction:
    """One Trino function name (all its overloads)."""

    name: str
    topic: Topic
    kind: Kind
    native: bool
    examples: tuple[Example, ...]
    note: str

    @property
    def support(self) -> Support:
        from athena_local import functions

        if functions.is_local(self.name):
            return Support.LOCAL
        return Support.NATIVE if self.native else Support.MISSING


def _fn(
    name: str,
    topic: Topic,
    *examples: tuple[str, Any],
    kind: Kind = Kind.SCALAR,
    native: bool = False,
    note: str = "",
) -> TrinoFunction:
    return TrinoFunction(name, topic, kind, native, tuple(Example(s, e) for s, e in examples), note)


def _missing(
    topic: Topic, names: str, note: str = "", kind: Kind = Kind.SCALAR
) -> list[TrinoFunction]:
    """Functions of a topic that are not emulated (whitespace-separated names)."""
    return [TrinoFunction(n, topic, kind, False, (), note) for n in names.split()]


A, S, W = Kind.AGGREGATE, Kind.SCALAR, Kind.WINDOW
T = Topic
_AGG = "FROM (VALUES 1, 2, 3, 4) t(x)"
_XY = "FROM (VALUES (1, 2), (2, 4), (3, 5), (4, 4)) t(x, y)"
_TS = "TIMESTAMP '2022-10-20 05:10:07.123'"
_URL = "'http://www.example.com:8080/a/b?x=1&y=2#frag'"
_SENTENCE = "'I have 23 apples, 5 pears and 13 oranges'"


def _d(*args: int) -> Any:
    import datetime as dt

    return dt.date(*args)


def _ts(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    micro: int = 0,
    *,
    tz: bool = False,
) -> Any:
    import datetime as dt

    return dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC if tz else None)


# fmt: off
_FUNCTIONS: list[TrinoFunction] = [
    # ------------------------------------------------------------------ aggregate
    _fn("any_value", T.AGGREGATE, ("SELECT any_value(x) FROM (VALUES NULL, 7) t(x)", 7), kind=A, native=True),
    _fn("arbitrary", T.AGGREGATE, ("SELECT arbitrary(x) FROM (VALUES NULL, 7) t(x)", 7), kind=A, native=True),
    _fn("array_agg", T.AGGREGATE, ("SELECT array_agg(x ORDER BY x) FROM (VALUES 2, NULL, 1) t(x)", [1, 2, None]), kind=A, native=True),
    _fn("avg", T.AGGREGATE, ("SELECT avg(x) FROM (VALUES 1, 2, NULL) t(x)", 1.5), kind=A, native=True),
    _fn("bool_and", T.AGGREGATE, ("SELECT bool_and(x) FROM (VALUES true, false) t(x)", False), kind=A, native=True),
    _fn("bool_or", T.AGGREGATE, ("SELECT bool_or(x) FROM (VALUES true, false) t(x)", True), kind=A, native=True),
    _fn("every", T.AGGREGATE, ("SELECT every(x) FROM (VALUES true, false) t(x)", False), kind=A),
    _fn("count", T.AGGREGATE, ("SELECT count(x) FROM (VALUES 1, NULL) t(x)", 1), ("SELECT count(*) FROM (VALUES 1, NULL) t(x)", 2), kind=A, native=True),
    _fn("count_if", T.AGGREGATE, (f"SELECT count_if(x > 1) {_AGG}", 3),
        ("SELECT count_if(x > 1) FILTER (WHERE x < 4) FROM (VALUES 1, 2, 3, 4) t(x)", 2), kind=A),
    _fn("geometric_mean", T.AGGREGATE, ("SELECT geometric_mean(x) FROM (VALUES 1, 4) t(x)", 2.0), kind=A, native=True),
    _fn("listagg", T.AGGREGATE, ("SELECT listagg(v, ',') WITHIN GROUP (ORDER BY v) FROM (VALUES 'a', 'c', 'b') t(v)", "a,b,c"), kind=A, native=True),
    _fn("max", T.AGGREGATE, (f"SELECT max(x) {_AGG}", 4), (f"SELECT max(x, 2) {_AGG}", [4, 3]), kind=A, native=True),
    _fn("min", T.AGGREGATE, (f"SELECT min(x) {_AGG}", 1), (f"SELECT min(x, 2) {_AGG}", [1, 2]), kind=A, native=True),
    _fn("max_by", T.AGGREGATE, ("SELECT max_by(k, v) FROM (VALUES ('a', 1), ('b', 3), ('c', 2)) t(k, v)", "b"),
        ("SELECT max_by(k, v, 2) FROM (VALUES ('a', 1), ('b', 3), ('c', 2)) t(k, v)", ["b", "c"]), kind=A, native=True),
    _fn("min_by", T.AGGREGATE, ("SELECT min_by(k, v) FROM (VALUES ('a', 1), ('b', 3), ('c', 2)) t(k, v)", "a"),
        ("SELECT min_by(k, v, 2) FROM (VALUES ('a', 1), ('b', 3), ('c', 2)) t(k, v)", ["a", "c"]), kind=A, native=True),
    _fn("sum", T.AGGREGATE, (f"SELECT sum(CAST(x AS integer)) {_AGG}", 10), ("SELECT sum(x) FROM (VALUES 1.5E0, 2.0E0) t(x)", 3.5),
        (f"SELECT sum(CAST(x AS integer)) {_AGG} WHERE x > 9", None),
        ("SELECT max(s) FROM (SELECT sum(CAST(x AS integer)) OVER (ORDER BY x) AS s FROM (VALUES 1, 2, 3) t(x))", 6),
        ("SELECT sum(CAST(x AS integer)) FILTER (WHERE x > 1) FROM (VALUES 1, 2, 3) t(x)", 5), kind=A,
        note="A sum of integers of unknown type (e.g. from VALUES) is a 128-bit integer (decimal(38,0)) rather than a bigint."),
    _fn("bitwise_and_agg", T.AGGREGATE, ("SELECT bitwise_and_agg(x) FROM (VALUES 5, 3) t(x)", 1), kind=A, native=True),
    _fn("bitwise_or_agg", T.AGGREGATE, ("SELECT bitwise_or_agg(x) FROM (VALUES 5, 3) t(x)", 7), kind=A, native=True),
    _fn("bitwise_xor_agg", T.AGGREGATE, ("SELECT bitwise_xor_agg(x) FROM (VALUES 5, 3) t(x)", 6), kind=A, native=True),
    _fn("grouping", T.AGGREGATE, ("SELECT max(g) FROM (SELECT grouping(x) AS g FROM (VALUES 1, 2) t(x) GROUP BY ROLLUP (x))", 1), kind=A, native=True),
    _fn("histogram", T.AGGREGATE, ("SELECT histogram(x) FROM (VALUES 'a', 'b', 'a', NULL) t(x)", {"a": 2, "b": 1}), kind=A, native=True),
    _fn("map_agg", T.AGGREGATE,
        ("SELECT map_agg(k, v) FROM (VALUES ('a', 1), ('b', 2), (NULL, 3)) t(k, v)", {"a": 1, "b": 2}),
        ("SELECT cardinality(map_agg(k, v)) FROM (VALUES ('a', 1), ('a', 2), ('b', 3), ('a', 1)) t(k, v)", 2),
        ("SELECT map_agg(k, v) FROM (VALUES ('a', CAST(NULL AS integer))) t(k, v)", {"a": None}),
        ("SELECT map_agg(k, v) FROM (VALUES ('a', 1)) t(k, v) WHERE v > 1", None),
        ("SELECT map_agg(k, v) FILTER (WHERE v > 1) FROM (VALUES ('a', 1), ('b', 2), (NULL, 3)) t(k, v)", {"b": 2}),
        ("SELECT cardinality(m) FROM (SELECT map_agg(k, v) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS m "
         "FROM (VALUES ('a', 1), ('b', 2)) t(k, v)) ORDER BY 1 DESC LIMIT 1", 2),
        kind=A, note="A key seen several times keeps one of its values (Trino: an arbitrary one; locally the smallest)."),
    _fn("map_union", T.AGGREGATE,
        ("SELECT map_union(m) FROM (VALUES MAP(ARRAY['a'], ARRAY[1]), MAP(ARRAY['b'], ARRAY[2])) t(m)", {"a": 1, "b": 2}),
        ("SELECT cardinality(map_union(m)) FROM (VALUES MAP(ARRAY['a'], ARRAY[1]), MAP(ARRAY['a'], ARRAY[2])) t(m)", 1),
        kind=A),
    _fn("multimap_agg", T.AGGREGATE,
        ("SELECT multimap_agg(k, v) FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) t(k, v)", {"a": [1, 3], "b": [2]}), kind=A),
    _fn("approx_distinct", T.AGGREGATE,
        ("SELECT approx_distinct(x) FROM (VALUES 1, 2, 2, NULL) t(x)", 2),
        ("SELECT approx_distinct(x) FROM (VALUES CAST(NULL AS integer)) t(x)", 0),
        ("SELECT approx_distinct(x, 0.0040625) FROM (VALUES 1, 2, 2) t(x)", 2),
        kind=A, native=True, note="DuckDB's HyperLogLog; the standard-error argument is accepted and ignored."),
    _fn("approx_most_frequent", T.AGGREGATE,
        ("SELECT approx_most_frequent(2, x, 10) FROM (VALUES 'a', 'b', 'a', 'c', 'a', 'b') t(x)", {"a": 3, "b": 2}),
        kind=A, note="Exact counts (a valid answer of the approximation)."),
    _fn("approx_percentile", T.AGGREGATE,
        ("SELECT approx_percentile(x, 0.5) FROM (VALUES 1, 2, 3, 4, 5) t(x)", 3),
        ("SELECT approx_percentile(x, ARRAY[0.0, 1.0]) FROM (VALUES 1, 2, 3, 4, 5) t(x)", [1, 5]),
        ("SELECT approx_percentile(x, w, 0.5) FROM (VALUES (1, 1), (10, 3)) t(x, w)", NOT_EMULATED),
        kind=A, note="DuckDB's T-Digest; the weighted overloads (x, w, percentage) are not emulated."),
    _fn("reduce_agg", T.AGGREGATE,
        ("SELECT reduce_agg(value, 0, (a, b) -> a + b, (a, b) -> a + b) FROM (VALUES (1), (2), (3), (4), (5)) AS t(value)", 15),
        kind=A),
    _fn("corr", T.AGGREGATE, (f"SELECT corr(y, x) {_XY}", 0.7181848464596079), kind=A, native=True),
    _fn("covar_pop", T.AGGREGATE, (f"SELECT covar_pop(y, x) {_XY}", 0.875), kind=A, native=True),
    _fn("covar_samp", T.AGGREGATE, (f"SELECT covar_samp(y, x) {_XY}", 1.1666666666666667), kind=A, native=True),
    _fn("kurtosis", T.AGGREGATE, ("SELECT kurtosis(x) FROM (VALUES 1.0E0, 2.0E0, 3.0E0, 10.0E0) t(x)", 3.2279999999999998), kind=A, native=True),
    _fn("skewness", T.AGGREGATE, ("SELECT skewness(x) FROM (VALUES 1.0E0, 2.0E0, 3.0E0, 10.0E0) t(x)", 1.0182337649086284),
        ("SELECT skewness(x) FROM (VALUES 1.0E0, 2.0E0) t(x)", None), kind=A),
    _fn("regr_intercept", T.AGGREGATE, (f"SELECT regr_intercept(y, x) {_XY}", 2.0), kind=A, native=True),
    _fn("regr_slope", T.AGGREGATE, (f"SELECT regr_slope(y, x) {_XY}", 0.7), kind=A, native=True),
    _fn("stddev", T.AGGREGATE, (f"SELECT stddev(x) {_AGG}", 1.2909944487358056), kind=A, native=True),
    _fn("stddev_samp", T.AGGREGATE, (f"SELECT stddev_samp(x) {_AGG}", 1.2909944487358056), kind=A, native=True),
    _fn("stddev_pop", T.AGGREGATE, (f"SELECT stddev_pop(x) {_AGG}", 1.118033988749895), kind=A, native=True),
    _fn("variance", T.AGGREGATE, (f"SELECT variance(x) {_AGG}", 1.6666666666666667), kind=A, native=True),
    _fn("var_samp", T.AGGREGATE, (f"SELECT var_samp(x) {_AGG}", 1.6666666666666667), kind=A, native=True),
    _fn("var_pop", T.AGGREGATE, (f"SELECT var_pop(x) {_AGG}", 1.25), kind=A, native=True),
    *_missing(T.AGGREGATE, "checksum numeric_histogram", kind=A),
    *_missing(T.AGGREGATE, "collect fusion intersection", "Multiset functions.", kind=A),
    # ------------------------------------------------------------------ array
    _fn("all_match", T.ARRAY, ("all_match(ARRAY[5, 7], x -> x > 4)", True), ("all_match(ARRAY[5, NULL], x -> x > 4)", None),
        ("all_match(ARRAY[5, NULL, 1], x -> x > 4)", False)),
    _fn("any_match", T.ARRAY, ("any_match(ARRAY[1, 5], x -> x > 4)", True), ("any_match(ARRAY[1, NULL], x -> x > 4)", None),
        ("any_match(ARRAY[1, 2], x -> x > 4)", False)),
    _fn("none_match", T.ARRAY, ("none_match(ARRAY[1, 2], x -> x > 4)", True), ("none_match(ARRAY[1, NULL], x -> x > 4)", None),
        ("none_match(ARRAY[5, NULL], x -> x > 4)", False)),
    _fn("array_distinct", T.ARRAY, ("array_distinct(ARRAY[3, 1, 3, NULL, 1, NULL])", [3, 1, None])),
    _fn("array_except", T.ARRAY, ("array_except(ARRAY[3, 1, 3, 2], ARRAY[2])", [3, 1]), ("array_except(ARRAY[1, NULL], ARRAY[NULL])", [1])),
    _fn("array_intersect", T.ARRAY, ("array_intersect(ARRAY[1, 2, 3, 2], ARRAY[3, 2, 4])", [2, 3]),
        ("array_intersect(ARRAY[1, 2], ARRAY[3, 2, 1])", [2, 1]), ("array_intersect(ARRAY[3, 1, NULL], ARRAY[NULL, 3])", [3, None])),
    _fn("array_union", T.ARRAY, ("array_union(ARRAY[1, 2, 2], ARRAY[3, 1])", [1, 2, 3])),
    _fn("array_join", T.ARRAY, ("array_join(ARRAY[1, NULL, 2], ',')", "1,2"), ("array_join(ARRAY['a', NULL, 'c'], ',', 'x')", "a,x,c"), native=True),
    _fn("array_max", T.ARRAY, ("array_max(ARRAY[1, 3, 2])", 3), ("array_max(ARRAY[1, NULL, 3])", None)),
    _fn("array_min", T.ARRAY, ("array_min(ARRAY[2, 1, 3])", 1), ("array_min(ARRAY[1, NULL, 3])", None)),
    _fn("array_position", T.ARRAY, ("array_position(ARRAY[10, 20, 30], 20)", 2), ("array_position(ARRAY[10, 20], 30)", 0),
        ("array_position(ARRAY[10, NULL], NULL)", None)),
    _fn("array_remove", T.ARRAY, ("array_remove(ARRAY[1, 2, 1, 3], 1)", [2, 3]), ("array_remove(ARRAY[1, NULL, 2], 1)", [None, 2])),
    _fn("array_sort", T.ARRAY, ("array_sort(ARRAY[3, NULL, 1, 2])", [1, 2, 3, None]),
        ("array_sort(ARRAY[3, 2, 5], (x, y) -> IF(x < y, 1, IF(x = y, 0, -1)))", NOT_EMULATED),
        note="The comparator overload array_sort(array, (x, y) -> ...) is not emulated."),
    _fn("arrays_overlap", T.ARRAY, ("arrays_overlap(ARRAY[1, 2], ARRAY[2, 3])", True), ("arrays_overlap(ARRAY[1, NULL], ARRAY[2])", None),
        ("arrays_overlap(ARRAY[1], ARRAY[2])", False)),
    _fn("cardinality", T.ARRAY, ("cardinality(ARRAY[1, 2, 3])", 3), ("cardinality(MAP(ARRAY['a'], ARRAY[1]))", 1)),
    _fn("concat", T.STRING, ("concat('a', 'b', 'c')", "abc"), ("concat('a', NULL)", None), ("concat(ARRAY[1], ARRAY[2, 3])", [1, 2, 3]), native=True),
    _fn("contains", T.ARRAY, ("contains(ARRAY[1, 2], 2)", True), ("contains(ARRAY[1, 2], 3)", False),
        ("contains(ARRAY[1, NULL], 3)", None), ("contains(ARRAY[1, 2], NULL)", None)),
    _fn("element_at", T.ARRAY, ("element_at(ARRAY[1, 2, 3], 2)", 2), ("element_at(ARRAY[1, 2, 3], 5)", None),
        ("element_at(ARRAY[1, 2, 3], -1)", 3), ("element_at(MAP(ARRAY['a'], ARRAY[1]), 'a')", 1),
        ("element_at(MAP(ARRAY['a'], ARRAY[1]), 'b')", None), native=True,
        note="element_at(array, 0) is NULL locally; Athena fails (SQL array indices start at 1)."),
    _fn("filter", T.ARRAY, ("filter(ARRAY[5, -6, NULL, 7], x -> x > 0)", [5, 7]), native=True),
    _fn("flatten", T.ARRAY, ("flatten(ARRAY[ARRAY[1, 2], ARRAY[3]])", [1, 2, 3]), native=True),
    _fn("ngrams", T.ARRAY, ("ngrams(ARRAY['foo', 'bar', 'baz', 'foo'], 2)", [["foo", "bar"], ["bar", "baz"], ["baz", "foo"]]),
        ("ngrams(ARRAY['foo', 'bar', 'baz', 'foo'], 5)", [["foo", "bar", "baz", "foo"]])),
    _fn("reduce", T.ARRAY, ("reduce(ARRAY[5, 20, 50], 0, (s, x) -> s + x, s -> s)", 75),
        ("reduce(ARRAY[5, 20, NULL, 50], 0, (s, x) -> s + x, s -> s)", None),
        ("reduce(ARRAY[5, 20, 50], 0, (s, x) -> s + x, s -> s * 2)", 150),
        ("reduce(ARRAY[], 0, (s, x) -> s + x, s -> s)", 0)),
    _fn("repeat", T.ARRAY, ("repeat('ab', 3)", ["ab", "ab", "ab"]), ("repeat(1, 0)", [])),
    _fn("reverse", T.ARRAY, ("reverse(ARRAY[1, 2, 3])", [3, 2, 1]), ("reverse('abc')", "cba")),
    _fn("sequence", T.ARRAY, ("sequence(1, 5)", [1, 2, 3, 4, 5]), ("sequence(5, 1)", [5, 4, 3, 2, 1]),
        ("sequence(1, 10, 3)", [1, 4, 7, 10]),
        ("sequence(DATE '2020-01-01', DATE '2020-01-03')", [_d(2020, 1, 1), _d(2020, 1, 2), _d(2020, 1, 3)])),
    _fn("shuffle", T.ARRAY, ("array_sort(shuffle(ARRAY[3, 1, 2]))", [1, 2, 3])),
    _fn("slice", T.ARRAY, ("slice(ARRAY[1, 2, 3, 4], 2, 2)", [2, 3]), ("slice(ARRAY[1, 2, 3, 4], -2, 2)", [3, 4]),
        ("slice(ARRAY[1, 2, 3, 4], 3, 5)", [3, 4])),
    _fn("trim_array", T.ARRAY, ("trim_array(ARRAY[1, 2, 3, 4], 1)", [1, 2, 3]), ("trim_array(ARRAY[1, 2, 3, 4], 2)", [1, 2])),
    _fn("transform", T.ARRAY, ("transform(ARRAY[5, NULL, 6], x -> coalesce(x, 0) + 1)", [6, 1, 7]), native=True),
    _fn("zip", T.ARRAY, ("zip(ARRAY[1, 2], ARRAY['1b', NULL, '3b'])", [(1, "1b"), (2, None), (None, "3b")])),
    _fn("zip_with", T.ARRAY, ("zip_with(ARRAY[1, 2], ARRAY[3, 4], (x, y) -> x + y)", [4, 6]),
        ("zip_with(ARRAY['a'], ARRAY['d', NULL, 'f'], (x, y) -> coalesce(x, y))", ["a", None, "f"])),
    _fn("array_first", T.ARRAY, ("array_first(ARRAY[1, 2])", 1)),
    _fn("array_last", T.ARRAY, ("array_last(ARRAY[1, 2])", 2)),
    *_missing(T.ARRAY, "array_histogram combinations contains_sequence euclidean_distance dot_product"),
    # ------------------------------------------------------------------ map
    _fn("map", T.MAP, ("map(ARRAY[1, 3], ARRAY[2, 4])", {1: 2, 3: 4}), ("map()", {}), native=True),
    _fn("map_from_entries", T.MAP, ("map_from_entries(ARRAY[(1, 'x'), (2, 'y')])", {1: "x", 2: "y"}), native=True),
    _fn("multimap_from_entries", T.MAP, ("multimap_from_entries(ARRAY[(1, 'x'), (2, 'y'), (1, 'z')])", {1: ["x", "z"], 2: ["y"]})),
    _fn("map_entries", T.MAP, ("map_entries(MAP(ARRAY[1, 2], ARRAY['x', 'y']))", [(1, "x"), (2, "y")]), native=True),
    _fn("map_concat", T.MAP, ("map_concat(MAP(ARRAY['a'], ARRAY[1]), MAP(ARRAY['a', 'b'], ARRAY[2, 3]))", {"a": 2, "b": 3}), native=True),
    _fn("map_filter", T.MAP, ("map_filter(MAP(ARRAY[10, 20, 30], ARRAY['a', NULL, 'c']), (k, v) -> v IS NOT NULL)", {10: "a", 30: "c"})),
    _fn("map_keys", T.MAP, ("map_keys(MAP(ARRAY['a', 'b'], ARRAY[1, 2]))", Unordered(("a", "b"))), native=True),
    _fn("map_values", T.MAP, ("map_values(MAP(ARRAY['a', 'b'], ARRAY[1, 2]))", Unordered((1, 2))), native=True),
    _fn("map_zip_with", T.MAP, ("map_zip_with(MAP(ARRAY[1, 2, 3], ARRAY['a', 'b', 'c']), MAP(ARRAY[1, 2, 3], ARRAY['d', 'e', 'f']), (k, v1, v2) -> concat(v1, v2))",
                                {1: "ad", 2: "be", 3: "cf"}),
        ("map_zip_with(MAP(ARRAY['k1', 'k2'], ARRAY[1, 2]), MAP(ARRAY['k2', 'k3'], ARRAY[4, 9]), (k, v1, v2) -> coalesce(v1, 0) + coalesce(v2, 0))",
         {"k1": 1, "k2": 6, "k3": 9})),
    _fn("transform_keys", T.MAP, ("transform_keys(MAP(ARRAY[1, 2, 3], ARRAY['a', 'b', 'c']), (k, v) -> k + 1)", {2: "a", 3: "b", 4: "c"})),
    _fn("transform_values", T.MAP, ("transform_values(MAP(ARRAY[1, 2, 3], ARRAY[10, 20, 30]), (k, v) -> v + k)", {1: 11, 2: 22, 3: 33})),
    # ------------------------------------------------------------------ JSON
    _fn("is_json_scalar", T.JSON, ("is_json_scalar('1')", True), ("is_json_scalar('[1, 2, 3]')", False)),
    _fn("json_array_contains", T.JSON, ("json_array_contains('[1, 2, 3]', 2)", True), ("json_array_contains('[1, 2, 3]', 5)", False)),
    _fn("json_array_get", T.JSON, ("json_array_get('[\"a\", [3, 9], \"c\"]', 0)", "a"), ("json_array_get('[\"a\", [3, 9], \"c\"]', 1)", "[3,9]"),
        ("json_array_get('[\"c\", [3, 9], \"a\"]', -1)", "a"), ("json_array_get('[]', 0)", None), ("json_array_get('[\"a\", \"b\", \"c\"]', 10)", None)),
    _fn("json_array_length", T.JSON, ("json_array_length('[1, 2, 3]')", 3), ("json_array_length('{\"a\": 1}')", None)),
    _fn("json_extract", T.JSON, ("json_extract('{\"a\": {\"b\": 1}}', '$.a')", '{"b":1}'), ("json_extract('{\"a\": [1, 2]}', '$.a[1]')", "2"),
        ("json_extract('{\"a\": \"x\"}', '$.a')", '"x"'), ("json_extract('{\"a\": 1}', '$.b')", None),
        ("json_extract('not json', '$.a')", None)),
    _fn("json_extract_scalar", T.JSON, ("json_extract_scalar('[1, 2, 3]', '$[2]')", "3"), ("json_extract_scalar('{\"a\": \"x\"}', '$.a')", "x"),
        ("json_extract_scalar('{\"a\": {\"b\": 1}}', '$.a')", None), ("json_extract_scalar('{\"a\": true}', '$.a')", "true"),
        ("json_extract_scalar('{\"a\": null}', '$.a')", None), ("json_extract_scalar('not json', '$.a')", None)),
    _fn("json_format", T.JSON, ("json_format(JSON '[1, 2, 3]')", "[1,2,3]"), ("json_format(json_parse('{\"a\": 1, \"b\": 2}'))", '{"a":1,"b":2}'),
        ("json_format(JSON '\"a\"')", '"a"'), native=True),
    _fn("json_parse", T.JSON, ("json_parse('[1, 2, 3]')", "[1,2,3]"), ("json_parse('\"abc\"')", '"abc"'), ("json_parse('not_json')", FAILS), native=True),
    _fn("json_object", T.JSON, ("json_object('key1' : 1, 'key2' : true)", '{"key1":1,"key2":true}'), native=True),
    _fn("json_array", T.JSON, ("json_array(1, true, 'a')", '[1,true,"a"]'), native=True),
    _fn("json_size", T.JSON, ("json_size('{\"x\": {\"a\": 1, \"b\": 2}}', '$.x')", 2), ("json_size('{\"x\": [1, 2, 3]}', '$.x')", 3),
        ("json_size('{\"x\": {\"a\": 1, \"b\": 2}}', '$.x.a')", 0), ("json_size('{\"x\": 1}', '$.y')", None)),
    *_missing(T.JSON, "json_exists json_query json_value", "SQL/JSON path functions: sqlglot maps them to DuckDB calls that "
              "do not understand the lax/strict path modes and answer NULL."),
    *_missing(T.JSON, "json_scalar json"),
    # ------------------------------------------------------------------ regular expressions
    _fn("regexp_count", T.REGEXP, (r"regexp_count('1a 2b 14m', '\s*[a-z]+\s*')", 3), native=True),
    _fn("regexp_extract", T.REGEXP, (r"regexp_extract('1a 2b 14m', '\d+')", "1"), (r"regexp_extract('1a 2b 14m', '(\d+)([a-z]+)', 2)", "a"),
        (r"regexp_extract('abc', '\d+')", None),
        note="Patterns run on DuckDB's RE2, not Java's regex: no backreferences or lookaround."),
    _fn("regexp_extract_all", T.REGEXP, (r"regexp_extract_all('1a 2b 14m', '\d+')", ["1", "2", "14"]),
        (r"regexp_extract_all('1a 2b 14m', '(\d+)([a-z]+)', 2)", ["a", "b", "m"]), native=True),
    _fn("regexp_like", T.REGEXP, (r"regexp_like('1a 2b 14m', '\d+b')", True), (r"regexp_like('abc', '^b')", False), native=True),
    _fn("regexp_position", T.REGEXP, (rf"regexp_position({_SENTENCE}, '\b\d+\b')", 8), (rf"regexp_position({_SENTENCE}, '\b\d+\b', 5)", 8),
        (rf"regexp_position({_SENTENCE}, '\b\d+\b', 12)", 19), (rf"regexp_position({_SENTENCE}, '\b\d+\b', 12, 2)", 31),
        (rf"regexp_position({_SENTENCE}, '\b\d+\b', 12, 3)", -1)),
    _fn("regexp_replace", T.REGEXP, (r"regexp_replace('1a 2b 14m', '\d+[ab] ')", "14m"),
        (r"regexp_replace('1a 2b 14m', '(\d+)([ab]) ', '3c$2 ')", "3ca 3cb 14m"),
        note="The lambda overload regexp_replace(string, pattern, function) is not emulated."),
    _fn("regexp_split", T.REGEXP, (r"regexp_split('1a 2b 14m', '\s*[a-z]+\s*')", ["1", "2", "14", ""]), native=True),
    # ------------------------------------------------------------------ date and time
    _fn("current_timezone", T.DATETIME, ("current_timezone()", "UTC")),
    _fn("date", T.DATETIME, ("date('2020-05-11')", _d(2020, 5, 11)), ("date(TIMESTAMP '2020-05-11 10:00:00')", _d(2020, 5, 11)), native=True),
    _fn("last_day_of_month", T.DATETIME, ("last_day_of_month(DATE '2020-02-10')", _d(2020, 2, 29)), native=True),
    _fn("from_iso8601_timestamp", T.DATETIME, ("from_iso8601_timestamp('2020-05-11T11:15:05.055+01:00')", _ts(2020, 5, 11, 10, 15, 5, 55000, tz=True)),
        ("from_iso8601_timestamp('2020-05-11')", _ts(2020, 5, 11, tz=True)), native=True,
        note="The instant is Athena's; it is shown in UTC rather than in the zone of the input."),
    _fn("from_iso8601_date", T.DATETIME, ("from_iso8601_date('2020-05-11')", _d(2020, 5, 11)), native=True,
        note="Calendar dates only (not week dates such as 2020-W10)."),
    _fn("with_timezone", T.DATETIME, ("with_timezone(TIMESTAMP '2022-11-01 09:08:07.321', 'America/Los_Angeles')",
                                      _ts(2022, 11, 1, 16, 8, 7, 321000, tz=True)),
        note="The instant is Athena's; it is shown in UTC."),
    _fn("from_unixtime", T.DATETIME, ("from_unixtime(0)", _ts(1970, 1, 1, tz=True)), ("from_unixtime(1.5E0)", _ts(1970, 1, 1, 0, 0, 1, 500000, tz=True)),
        ("from_unixtime(0, 'Asia/Tokyo')", _ts(1970, 1, 1, tz=True)), native=True,
        note="With a zone argument the instant is Athena's; it is shown in UTC."),
    _fn("now", T.DATETIME, ("CAST(now() AS DATE) = current_date", True), native=True),
    _fn("to_iso8601", T.DATETIME, ("to_iso8601(DATE '2020-05-11')", "2020-05-11"), ("to_iso8601(TIMESTAMP '2020-05-11 11:15:05')", "2020-05-11T11:15:05.000"),
        ("to_iso8601(from_unixtime(0))", "1970-01-01T00:00:00.000Z")),
    _fn("to_milliseconds", T.DATETIME, ("to_milliseconds(INTERVAL '1' DAY)", 86400000)),
    _fn("to_unixtime", T.DATETIME, ("to_unixtime(TIMESTAMP '1970-01-01 00:00:10')", 10.0), native=True),
    _fn("date_trunc", T.DATETIME, ("date_trunc('day', TIMESTAMP '2022-10-20 05:10:00')", _ts(2022, 10, 20)),
        ("date_trunc('month', DATE '2022-10-20')", _d(2022, 10, 1)), ("date_trunc('week', TIMESTAMP '2001-08-22 03:04:05.321')", _ts(2001, 8, 20))),
    _fn("date_add", T.DATETIME, ("date_add('second', 86, TIMESTAMP '2020-03-01 00:00:00')", _ts(2020, 3, 1, 0, 1, 26)),
        ("date_add('day', -1, TIMESTAMP '2020-03-01 00:00:00')", _ts(2020, 2, 29)),
        ("date_add('month', 1, DATE '2012-10-31')", _d(2012, 11, 30))),
    _fn("date_diff", T.DATETIME, ("date_diff('second', TIMESTAMP '2020-03-01 00:00:00', TIMESTAMP '2020-03-02 00:00:00')", 86400),
        ("date_diff('day', DATE '2020-03-01', DATE '2020-03-02')", 1),
        ("date_diff('day', TIMESTAMP '2024-01-01 23:00:00', TIMESTAMP '2024-01-02 01:00:00')", 0)),
    _fn("date_format", T.DATETIME, ("date_format(TIMESTAMP '2022-10-20 05:10:00', '%m-%d-%Y %H')", "10-20-2022 05"),
        (f"date_format({_TS}, '%a %b %c %e %f %h %i %j %k %l %M %p %r %s %T %W %y %%')",
         "Thu Oct 10 20 123000 05 10 293 5 5 October AM 05:10:07 AM 07 05:10:07 Thursday 22 %"),
        (f"date_format({_TS}, '%v %x')", "42 2022"), (f"date_format({_TS}, '%D')", FAILS), (f"date_format({_TS}, '%U')", FAILS),
        (f"date_format({_TS}, '%u')", FAILS)),
    _fn("date_parse", T.DATETIME, ("date_parse('2022/10/20/05', '%Y/%m/%d/%H')", _ts(2022, 10, 20, 5)),
        ("date_parse('20 Oct 2022 5:07 PM', '%e %b %Y %l:%i %p')", _ts(2022, 10, 20, 17, 7)),
        ("date_parse('01/01/69', '%m/%d/%y')", _ts(2069, 1, 1)), ("date_parse('01/01/70', '%m/%d/%y')", _ts(1970, 1, 1)),
        ("date_parse('2022-10-20', '%Y/%m/%d')", FAILS)),
    _fn("format_datetime", T.DATETIME, (f"format_datetime({_TS}, 'yyyy-MM-dd HH:mm:ss.SSS')", "2022-10-20 05:10:07.123"),
        (f"format_datetime({_TS}, 'EEE, d MMM yy h:mm a')", "Thu, 20 Oct 22 5:10 AM"),
        note="Joda-Time patterns: the letters G C Y x w e k K z Z are not emulated."),
    _fn("parse_datetime", T.DATETIME, ("parse_datetime('2022-10-20 05:10', 'yyyy-MM-dd HH:mm')", _ts(2022, 10, 20, 5, 10, tz=True)),
        note="Joda-Time patterns as for format_datetime; the result is in UTC."),
    _fn("day", T.DATETIME, (f"day({_TS})", 20), native=True),
    _fn("day_of_month", T.DATETIME, (f"day_of_month({_TS})", 20), native=True),
    _fn("day_of_week", T.DATETIME, (f"day_of_week({_TS})", 4), ("day_of_week(DATE '2022-10-23')", 7), native=True),
    _fn("dow", T.DATETIME, (f"dow({_TS})", 4), native=True),
    _fn("day_of_year", T.DATETIME, (f"day_of_year({_TS})", 293), native=True),
    _fn("doy", T.DATETIME, (f"doy({_TS})", 293), native=True),
    _fn("hour", T.DATETIME, (f"hour({_TS})", 5), native=True),
    _fn("minute", T.DATETIME, (f"minute({_TS})", 10), native=True),
    _fn("second", T.DATETIME, (f"second({_TS})", 7), native=True),
    _fn("millisecond", T.DATETIME, (f"millisecond({_TS})", 123)),
    _fn("month", T.DATETIME, (f"month({_TS})", 10), native=True),
    _fn("quarter", T.DATETIME, (f"quarter({_TS})", 4), native=True),
    _fn("week", T.DATETIME, (f"week({_TS})", 42), ("week(DATE '2021-01-01')", 53), native=True),
    _fn("week_of_year", T.DATETIME, (f"week_of_year({_TS})", 42), native=True),
    _fn("year", T.DATETIME, (f"year({_TS})", 2022), native=True),
    _fn("year_of_week", T.DATETIME, ("year_of_week(DATE '2021-01-01')", 2020), native=True),
    _fn("yow", T.DATETIME, ("yow(DATE '2021-01-01')", 2020)),
    _fn("extract", T.DATETIME, ("extract(YEAR FROM TIMESTAMP '2022-10-20 05:10:00')", 2022), ("extract(DOW FROM DATE '2022-10-23')", 7), native=True),
    _fn("timezone_hour", T.DATETIME, ("timezone_hour(from_unixtime(0))", 0), native=True),
    _fn("timezone_minute", T.DATETIME, ("timezone_minute(from_unixtime(0))", 0), native=True),
    *_missing(T.DATETIME, "at_timezone from_iso8601_timestamp_nanos from_unixtime_nanos human_readable_seconds "
              "parse_duration timezone"),
    # ------------------------------------------------------------------ string
    _fn("chr", T.STRING, ("chr(65)", "A"), native=True),
    _fn("codepoint", T.STRING, ("codepoint('A')", 65)),
    _fn("concat_ws", T.STRING, ("concat_ws(',', 'a', NULL, 'b')", "a,b"), ("concat_ws(NULL, 'a')", None),
        ("concat_ws(',', ARRAY['a', NULL, 'b'])", "a,b"), native=True),
    _fn("ends_with", T.STRING, ("ends_with('abc', 'bc')", True), native=True),
    _fn("starts_with", T.STRING, ("starts_with('abc', 'ab')", True), native=True),
    _fn("from_utf8", T.STRING, ("from_utf8(to_utf8('abc'))", "abc"), native=True),
    _fn("to_utf8", T.STRING, ("to_utf8('ab')", b"ab"), native=True),
    _fn("hamming_distance", T.STRING, ("hamming_distance('abc', 'abd')", 1)),
    _fn("length", T.STRING, ("length('abc')", 3), native=True),
    _fn("levenshtein_distance", T.STRING, ("levenshtein_distance('kitten', 'sitting')", 3), native=True),
    _fn("lower", T.STRING, ("lower('AbC')", "abc"), native=True),
    _fn("upper", T.STRING, ("upper('AbC')", "ABC"), native=True),
    _fn("lpad", T.STRING, ("lpad('hello', 7, 'x')", "xxhello"), ("lpad('hello', 3, 'x')", "hel"), native=True),
    _fn("rpad", T.STRING, ("rpad('hi', 5, 'xy')", "hixyx"), native=True),
    _fn("ltrim", T.STRING, ("ltrim('  a ')", "a "), native=True),
    _fn("rtrim", T.STRING, ("rtrim(' a  ')", " a"), native=True),
    _fn("trim", T.STRING, ("trim('  a  ')", "a"), ("trim('!' FROM '!foo!')", "foo"), native=True),
    _fn("normalize", T.STRING, ("normalize('e' || chr(769)) = chr(233)", True), note="NFC only (the default form)."),
    _fn("position", T.STRING, ("position('b' IN 'abc')", 2), native=True),
    _fn("overlay", T.STRING, ("overlay('Txxxxas' PLACING 'hom' FROM 2 FOR 4)", "Thomas"), native=True),
    _fn("replace", T.STRING, ("replace('abcb', 'b')", "ac"), ("replace('abc', 'b', 'x')", "axc"), native=True),
    _fn("split", T.STRING, ("split('a,b,c', ',')", ["a", "b", "c"]), ("split('a,b,c', ',', 2)", ["a", "b,c"])),
    _fn("split_part", T.STRING, ("split_part('a,b,c', ',', 2)", "b"), ("split_part('a,b,c', ',', 4)", None)),
    _fn("split_to_map", T.STRING, ("split_to_map('a=1,b=2', ',', '=')", {"a": "1", "b": "2"})),
    _fn("split_to_multimap", T.STRING, ("split_to_multimap('a=1,b=2,a=3', ',', '=')", {"a": ["1", "3"], "b": ["2"]})),
    _fn("strpos", T.STRING, ("strpos('abcb', 'b')", 2), ("strpos('abc', 'x')", 0), ("strpos('abcb', 'b', 2)", 4),
        ("strpos('abcb', 'b', -1)", 4)),
    _fn("substr", T.STRING, ("substr('hello', 2, 3)", "ell"), ("substr('hello', -3)", "llo"), ("substr('hello', 0)", "")),
    _fn("substring", T.STRING, ("substring('hello', 2, 3)", "ell"), ("substring('hello', -3)", "llo"), ("substring('hello', 0)", "")),
    _fn("translate", T.STRING, ("translate('abcd', 'a', 'z')", "zbcd"), ("translate('abcd', 'ac', 'z')", "zbd"), native=True),
    *_missing(T.STRING, "format luhn_check soundex title_case word_stem random_string"),
    # ------------------------------------------------------------------ math
    _fn("abs", T.MATH, ("abs(-5)", 5), native=True),
    _fn("cbrt", T.MATH, ("cbrt(27)", 3.0), native=True),
    _fn("ceil", T.MATH, ("ceil(1.2E0)", 2.0), native=True),
    _fn("ceiling", T.MATH, ("ceiling(1.2E0)", 2.0), native=True),
    _fn("floor", T.MATH, ("floor(1.8E0)", 1.0), native=True),
    _fn("degrees", T.MATH, ("degrees(pi())", 180.0), native=True),
    _fn("radians", T.MATH, ("radians(180)", 3.141592653589793), native=True),
    _fn("e", T.MATH, ("e()", 2.718281828459045)),
    _fn("pi", T.MATH, ("pi()", 3.141592653589793), native=True),
    _fn("exp", T.MATH, ("exp(0)", 1.0), native=True),
    _fn("ln", T.MATH, ("ln(1)", 0.0), native=True),
    _fn("log", T.MATH, ("log(2, 8)", 3.0), native=True),
    _fn("log2", T.MATH, ("log2(8)", 3.0), native=True),
    _fn("log10", T.MATH, ("log10(100)", 2.0), native=True),
    _fn("mod", T.MATH, ("mod(-5, 3)", -2), native=True),
    _fn("pow", T.MATH, ("pow(2, 3)", 8.0), native=True),
    _fn("power", T.MATH, ("power(2, 3)", 8.0), native=True),
    _fn("round", T.MATH, ("round(2.5E0)", 3.0), ("round(-2.5E0)", -3.0), ("round(1.2345E0, 2)", 1.23), native=True),
    _fn("sign", T.MATH, ("sign(-3)", -1), native=True),
    _fn("sqrt", T.MATH, ("sqrt(4)", 2.0), native=True),
    _fn("truncate", T.MATH, ("truncate(1.9E0)", 1.0), native=True),
    _fn("width_bucket", T.MATH, ("width_bucket(5.3E0, 0.2E0, 10.6E0, 5)", 3), ("width_bucket(-1, 0, 10, 5)", 0), ("width_bucket(11, 0, 10, 5)", 6)),
    _fn("rand", T.MATH, ("rand() < 1", True), native=True),
    _fn("random", T.MATH, ("random() < 1", True),
        ("SELECT bool_and(r = floor(r) AND r >= 0 AND r < 10) FROM (SELECT random(10) AS r FROM UNNEST(sequence(1, 50)) AS t(i))", True)),
    _fn("acos", T.MATH, ("acos(1)", 0.0), native=True),
    _fn("asin", T.MATH, ("asin(0)", 0.0), native=True),
    _fn("atan", T.MATH, ("atan(0)", 0.0), native=True),
    _fn("atan2", T.MATH, ("atan2(0, 1)", 0.0), native=True),
    _fn("cos", T.MATH, ("cos(0)", 1.0), native=True),
    _fn("cosh", T.MATH, ("cosh(0)", 1.0), native=True),
    _fn("sin", T.MATH, ("sin(0)", 0.0), native=True),
    _fn("sinh", T.MATH, ("sinh(0)", 0.0), native=True),
    _fn("tan", T.MATH, ("tan(0)", 0.0), native=True),
    _fn("tanh", T.MATH, ("tanh(0)", 0.0), native=True),
    _fn("infinity", T.MATH, ("infinity() > 1E308", True)),
    _fn("nan", T.MATH, ("is_nan(nan())", True)),
    _fn("is_nan", T.MATH, ("is_nan(0.0E0 / 0.0E0)", True), ("is_nan(1.0E0)", False), native=True),
    _fn("is_finite", T.MATH, ("is_finite(1.0E0)", True)),
    _fn("is_infinite", T.MATH, ("is_infinite(1.0E0 / 0.0E0)", True)),
    _fn("from_base", T.MATH, ("from_base('ff', 16)", 255), ("from_base('-101', 2)", -5)),
    _fn("to_base", T.MATH, ("to_base(255, 16)", "ff"), ("to_base(-5, 2)", "-101")),
    *_missing(T.MATH, "beta_cdf inverse_beta_cdf inverse_normal_cdf normal_cdf t_cdf t_pdf wilson_interval_lower "
              "wilson_interval_upper cosine_distance cosine_similarity"),
    # ------------------------------------------------------------------ bitwise
    _fn("bit_count", T.BITWISE, ("bit_count(9, 64)", 2)),
    _fn("bitwise_and", T.BITWISE, ("bitwise_and(19, 25)", 17), native=True),
    _fn("bitwise_or", T.BITWISE, ("bitwise_or(19, 25)", 27), native=True),
    _fn("bitwise_xor", T.BITWISE, ("bitwise_xor(19, 25)", 10), native=True),
    _fn("bitwise_not", T.BITWISE, ("bitwise_not(-12)", 11), native=True),
    _fn("bitwise_left_shift", T.BITWISE, ("bitwise_left_shift(1, 2)", 4)),
    _fn("bitwise_right_shift", T.BITWISE, ("bitwise_right_shift(8, 3)", 1), ("bitwise_right_shift(-8, 62)", 3)),
    _fn("bitwise_right_shift_arithmetic", T.BITWISE, ("bitwise_right_shift_arithmetic(-8, 2)", -2)),
    # ------------------------------------------------------------------ binary
    _fn("to_hex", T.BINARY, ("to_hex(to_utf8('abc'))", "616263"), native=True),
    _fn("from_hex", T.BINARY, ("from_hex('616263')", b"abc"), native=True),
    _fn("to_base64", T.BINARY, ("to_base64(to_utf8('abc'))", "YWJj"), native=True),
    _fn("from_base64", T.BINARY, ("from_base64('YWJj')", b"abc"), native=True),
    _fn("md5", T.BINARY, ("to_hex(md5(to_utf8('abc')))", "900150983CD24FB0D6963F7D28E17F72"), native=True),
    _fn("sha1", T.BINARY, ("to_hex(sha1(to_utf8('abc')))", "A9993E364706816ABA3E25717850C26C9CD0D89D")),
    _fn("sha256", T.BINARY, ("to_hex(sha256(to_utf8('abc')))", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"), native=True),
    *_missing(T.BINARY, "crc32 from_base32 from_base64url from_big_endian_32 from_big_endian_64 from_ieee754_32 "
              "from_ieee754_64 hmac_md5 hmac_sha1 hmac_sha256 hmac_sha512 murmur3 sha512 spooky_hash_v2_32 "
              "spooky_hash_v2_64 to_base32 to_base64url to_big_endian_32 to_big_endian_64 to_ieee754_32 "
              "to_ieee754_64 xxhash64"),
    # ------------------------------------------------------------------ conditional, comparison, conversion
    _fn("coalesce", T.CONDITIONAL, ("coalesce(NULL, 1)", 1), native=True),
    _fn("if", T.CONDITIONAL, ("if(1 > 2, 'a', 'b')", "b"), ("if(1 > 2, 'a')", None), native=True),
    _fn("nullif", T.CONDITIONAL, ("nullif(1, 1)", None), native=True),
    _fn("try", T.CONDITIONAL, ("try(CAST('x' AS integer))", None), native=True),
    _fn("greatest", T.COMPARISON, ("greatest(1, 3, 2)", 3), ("greatest(1, NULL)", None), native=True),
    _fn("least", T.COMPARISON, ("least(1, 3, 2)", 1), ("least(1, NULL)", None), native=True),
    _fn("row", T.ROW, ("ROW(1, 'a')", (1, "a")), ("CAST(ROW(1, 'a') AS ROW(x integer, y varchar)).y", "a"), native=True),
    _fn("cast", T.CONVERSION, ("cast('1' AS integer)", 1), native=True),
    _fn("try_cast", T.CONVERSION, ("try_cast('x' AS integer)", None), native=True),
    *_missing(T.CONVERSION, "typeof", "DuckDB's type names are not Trino's."),
    # ------------------------------------------------------------------ window
    _fn("row_number", T.WINDOW, ("SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY x) AS r FROM (VALUES 1, 1, 2) t(x))", 3), kind=W, native=True),
    _fn("rank", T.WINDOW, ("SELECT max(r) FROM (SELECT rank() OVER (ORDER BY x) AS r FROM (VALUES 1, 1, 2) t(x))", 3), kind=W, native=True),
    _fn("dense_rank", T.WINDOW, ("SELECT max(r) FROM (SELECT dense_rank() OVER (ORDER BY x) AS r FROM (VALUES 1, 1, 2) t(x))", 2), kind=W, native=True),
    _fn("percent_rank", T.WINDOW, ("SELECT max(r) FROM (SELECT percent_rank() OVER (ORDER BY x) AS r FROM (VALUES 1, 1, 2) t(x))", 1.0), kind=W, native=True),
    _fn("cume_dist", T.WINDOW, ("SELECT min(r) FROM (SELECT cume_dist() OVER (ORDER BY x) AS r FROM (VALUES 1, 1, 2) t(x))", 2 / 3), kind=W, native=True),
    _fn("ntile", T.WINDOW, ("SELECT max(r) FROM (SELECT ntile(2) OVER (ORDER BY x) AS r FROM (VALUES 1, 1, 2) t(x))", 2), kind=W, native=True),
    _fn("first_value", T.WINDOW, ("SELECT max(r) FROM (SELECT first_value(x) OVER (ORDER BY x) AS r FROM (VALUES 1, 2) t(x))", 1), kind=W, native=True),
    _fn("last_value", T.WINDOW, ("SELECT max(r) FROM (SELECT last_value(x) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS r FROM (VALUES 1, 2) t(x))", 2), kind=W, native=True),
    _fn("nth_value", T.WINDOW, ("SELECT max(r) FROM (SELECT nth_value(x, 2) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS r FROM (VALUES 1, 2, 3) t(x))", 2), kind=W, native=True),
    _fn("lag", T.WINDOW, ("SELECT max(r) FROM (SELECT lag(x) OVER (ORDER BY x) AS r FROM (VALUES 1, 2) t(x))", 1), kind=W, native=True),
    _fn("lead", T.WINDOW, ("SELECT max(r) FROM (SELECT lead(x, 1, 0) OVER (ORDER BY x) AS r FROM (VALUES 1, 2) t(x))", 2), kind=W, native=True),
    # ------------------------------------------------------------------ URL
    _fn("url_extract_host", T.URL, (f"url_extract_host({_URL})", "www.example.com"), ("url_extract_host('/a/b?x=1')", ""),
        ("url_extract_host('http://a b')", None)),
    _fn("url_extract_port", T.URL, (f"url_extract_port({_URL})", 8080), ("url_extract_port('https://example.com/')", None)),
    _fn("url_extract_path", T.URL, (f"url_extract_path({_URL})", "/a/b"), ("url_extract_path('/a/b?x=1')", "/a/b"),
        ("url_extract_path('https://example.com')", "")),
    _fn("url_extract_protocol", T.URL, ("url_extract_protocol('http://localhost:8080/req_path')", "http"),
        ("url_extract_protocol('ftp://path/file')", "ftp"), ("url_extract_protocol('/a/b')", "")),
    _fn("url_extract_query", T.URL, (f"url_extract_query({_URL})", "x=1&y=2"), ("url_extract_query('https://example.com/a')", ""),
        ("url_extract_query('/s?q=a%20b')", "q=a b")),
    _fn("url_extract_fragment", T.URL, (f"url_extract_fragment({_URL})", "frag"), ("url_extract_fragment('https://example.com/a')", "")),
    _fn("url_extract_parameter", T.URL, (f"url_extract_parameter({_URL}, 'y')", "2"), (f"url_extract_parameter({_URL}, 'z')", None),
        ("url_extract_parameter('/search?q=red+shoes&q=x', 'q')", "red shoes")),
    _fn("url_encode", T.URL, ("url_encode('a b&c/é')", "a+b%26c%2F%C3%A9")),
    _fn("url_decode", T.URL, ("url_decode('a+b%26c%2F%C3%A9')", "a b&c/é")),
    # ------------------------------------------------------------------ UUID
    _fn("uuid", T.UUID, ("length(CAST(uuid() AS varchar))", 36), native=True),
    # ------------------------------------------------------------------ not emulated: whole topics
    *_missing(T.SESSION, "current_groups version"),
    *_missing(T.TERADATA, "char2hexint index to_char to_date to_timestamp"),
    *_missing(T.HYPERLOGLOG, "approx_set empty_approx_set merge"),
    *_missing(T.QDIGEST, "qdigest_agg value_at_quantile values_at_quantiles", kind=A),
    *_missing(T.TDIGEST, "tdigest_agg", kind=A),
    *_missing(T.SETDIGEST, "make_set_digest merge_set_digest intersection_cardinality jaccard_index hash_counts"),
    *_missing(T.COLOR, "bar color render rgb"),
    *_missing(T.MACHINE_LEARNING, "classify features learn_classifier learn_libsvm_classifier learn_libsvm_regressor "
              "learn_regressor regress evaluate_classifier_predictions"),
    *_missing(T.IPADDRESS, "is_subnet_of ip_prefix ip_subnet_max ip_subnet_min ip_subnet_range"),
    *_missing(T.ATHENA, "invoker_principal"),
    *_missing(T.GEOSPATIAL, "bing_tile bing_tile_at bing_tile_coordinates bing_tile_polygon bing_tile_quadkey "
              "bing_tile_zoom_level bing_tiles_around convex_hull_agg from_encoded_polyline from_geojson_geometry "
              "geometry_collect_agg geometry_from_hadoop_shape geometry_invalid_reason geometry_nearest_points "
              "geometry_to_bing_tiles geometry_union geometry_union_agg great_circle_distance line_interpolate_point "
              "line_interpolate_points line_locate_point simplify_geometry spatial_partitioning spatial_partitions "
              "st_area st_asbinary st_asewkb st_asewkt st_astext st_boundary st_buffer st_centroid st_collect "
              "st_contains st_convexhull st_coorddim st_crosses st_difference st_dimension st_disjoint st_distance "
              "st_endpoint st_envelope st_envelopeaspts st_equals st_exteriorring st_force2d st_force3d "
              "st_geometries st_geometryfromtext st_geometryn st_geometrytype st_geomfrombinary st_geomfromewkt "
              "st_geomfromkml st_interiorringn st_interiorrings st_intersection st_intersects st_isclosed "
              "st_isempty st_isring st_issimple st_isvalid st_length st_linefromtext st_linemerge st_linestring "
              "st_makeline st_makepolygon st_minimumboundingcircle st_multi st_multipoint st_normalize "
              "st_numgeometries st_numinteriorring st_numpoints st_orientedenvelope st_overlaps st_point st_pointn "
              "st_pointonsurface st_points st_polygon st_polygonize st_reduceprecision st_relate st_setsrid "
              "st_srid st_startpoint st_symdifference st_touches st_transform st_union st_voronoipolygons "
              "st_within st_x st_xmax st_xmin st_y st_ymax st_ymin st_z to_encoded_polyline to_geojson_geometry "
              "to_geometry to_spherical_geography"),
]
# fmt: on


@cache
def catalog() -> dict[str, TrinoFunction]:
    """Every function by lower-case name (a name appears once)."""
    by_name: dict[str, TrinoFunction] = {}
    for f in _FUNCTIONS:
        if f.name in by_name:
            raise ValueError(f"{f.name} is listed twice")
        by_name[f.name] = f
    return by_name


def lookup(name: str) -> TrinoFunction | None:
    return catalog().get(name.lower())


def by_support(support: Support) -> list[TrinoFunction]:
    return [f for f in catalog().values() if f.support is support]


# ---------------------------------------------------------------------------- docs
#: The page that holds the coverage table (between BEGIN and END).
DOCS_PAGE = Path(__file__).resolve().parents[3] / "docs" / "athena-local.md"
BEGIN = "<!-- BEGIN_TRINO_FUNCTIONS: generated by python -m athena_local.trino_functions -->"
END = "<!-- END_TRINO_FUNCTIONS -->"


def _names(functions: Iterable[TrinoFunction]) -> str:
    return ", ".join(f"`{f.name}`" for f in sorted(functions, key=lambda f: f.name)) or "-"


def coverage_markdown() -> str:
    """The coverage table of ``docs/athena-local.md`` (between :data:`BEGIN` and :data:`END`)."""
    functions = sorted(catalog().values(), key=lambda f: (f.topic, f.name))
    topics = list(
        dict.fromkeys(f.topic for f in sorted(functions, key=lambda f: list(Topic).index(f.topic)))
    )
    lines = [
        BEGIN,
        "",
        "| Topic | sqlglot + DuckDB | Local expansion | Not emulated (`FUNCTION_NOT_FOUND`) |",
        "|-------|------------------|-----------------|-------------------------------------|",
    ]
    for topic in topics:
        of_topic = [f for f in functions if f.topic is topic]
        if all(f.support is Support.MISSING for f in of_topic) and len(of_topic) > 12:
            cells = ["-", "-", f"all {len(of_topic)}"]
        else:
            cells = [_names(f for f in of_topic if f.support is s) for s in Support]
        lines.append(f"| {topic} | " + " | ".join(cells) + " |")
    totals = {s: len(by_support(s)) for s in Support}
    lines += [
        "",
        f"{len(functions)} functions: {totals[Support.NATIVE]} through sqlglot + DuckDB, "
        f"{totals[Support.LOCAL]} by local expansion, {totals[Support.MISSING]} not emulated.",
        "",
        "| Function | What differs from Athena |",
        "|----------|--------------------------|",
    ]
    for f in sorted(functions, key=lambda f: f.name):
        if f.note and f.support is not Support.MISSING:
            lines.append(f"| `{f.name}` | {f.note} |")
    lines += ["", END]
    return "\n".join(lines)


def write_docs(path: Path, check: bool = False) -> bool:
    """Put :func:`coverage_markdown` between the markers of ``path``; True when it changed (or,
    with ``check``, would change)."""
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: no {BEGIN} ... {END} markers")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + coverage_markdown() + text[end:]
    if updated != text and not check:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv: list[str] | None = None) -> int:
    """``python -m athena_local.trino_functions [--check] [DOC]``: regenerate the coverage table."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("doc", nargs="?", type=Path, default=DOCS_PAGE)
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    args = parser.parse_args(argv)
    changed = write_docs(args.doc, check=args.check)
    if args.check and changed:
        print(
            f"{args.doc}: the Trino function table is stale: run python -m athena_local.trino_functions"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
