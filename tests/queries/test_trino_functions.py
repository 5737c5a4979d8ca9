"""Athena's (Trino's) functions on the local Athena: every documented example, on real DuckDB.

The examples live with the function list (:mod:`athena_local.trino_functions`, taken from Trino's
documentation). Each runs twice on a fresh DuckDB connection like the engine's (UTC session):

* through the local translation (:func:`athena_local.dialect.to_duckdb`): it must give Trino's
  answer (or fail where Trino fails, or fail with ``FUNCTION_NOT_FOUND`` for an overload the
  local engine refuses);
* through plain sqlglot (``transpile(read="athena", write="duckdb")``): this measures what the
  table claims. A function marked as working through sqlglot + DuckDB must pass there too; a
  function expanded locally must not (else the expansion is dead weight) - so when a sqlglot
  upgrade fixes a function, this test says to drop its expansion.

The coverage table of docs/athena-local.md is generated from the same list and checked here.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import math
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot

from athena_local import catalog, dialect, functions
from athena_local import trino_functions as tf
from athena_local.trino_functions import FAILS, NOT_EMULATED, Example, Support, TrinoFunction

DOCS = tf.DOCS_PAGE

FUNCTIONS = sorted(tf.catalog().values(), key=lambda f: f.name)
EXAMPLES = [(f, e) for f in FUNCTIONS for e in f.examples]


def _id(item: tuple[TrinoFunction, Example]) -> str:
    f, example = item
    return f"{f.name}:{f.examples.index(example)}"


def local_sql(example: Example) -> str:
    return dialect.to_duckdb(example.query, "db", schema={}).duckdb_sql


def plain_sql(example: Example) -> str:
    # sqlglot warns (on the logger) about arguments DuckDB has no place for, then drops them
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    return sqlglot.transpile(example.query, read="athena", write="duckdb")[0]


_CONNECTION: list[duckdb.DuckDBPyConnection] = []


def value(duckdb_sql: str) -> Any:
    """The single value of a one-row, one-column result, read through Arrow like the engine (one
    UTC connection for the module: a connection costs ~20 ms and the examples are many)."""
    if not _CONNECTION:
        _CONNECTION.append(catalog.connect())
    table = _CONNECTION[0].sql(duckdb_sql).to_arrow_table()
    assert (table.num_rows, table.num_columns) == (1, 1), duckdb_sql
    got = table.column(0).to_pylist()[0]
    if (
        isinstance(got, int)
        and not isinstance(got, bool)
        and not pa.types.is_signed_integer(table.schema.field(0).type)
    ):
        # Trino's integers are signed (bigint, integer...): an unsigned or 128-bit DuckDB result
        # would reach Athena clients with another type in ColumnInfo
        return Unsigned(got)
    return got


@dataclass(frozen=True)
class Unsigned:
    """An integer DuckDB returned as an unsigned or 128-bit type (never equal to Trino's)."""

    value: int


def _normalise(got: Any, expected: Any) -> Any:
    """Arrow's Python values in the example's shapes: maps as dicts, rows as tuples."""
    if isinstance(expected, dict) and isinstance(got, list):
        got = dict(got)
    if isinstance(expected, dict) and isinstance(got, dict):
        return {k: _normalise(v, expected.get(k)) for k, v in got.items()}
    if isinstance(expected, tuple) and isinstance(got, dict):
        return tuple(got.values())
    if isinstance(expected, list) and isinstance(got, list):
        return [
            _normalise(v, expected[i] if i < len(expected) else None) for i, v in enumerate(got)
        ]
    return got


def same(got: Any, expected: Any) -> bool:
    """Equal as Trino's answer: same shape and type, floats to 1e-9."""
    if isinstance(expected, tf.Unordered):
        return isinstance(got, list) and sorted(map(repr, got)) == sorted(map(repr, expected.items))
    got = _normalise(got, expected)
    if isinstance(expected, float):
        numeric = isinstance(got, float | decimal.Decimal | int) and not isinstance(got, bool)
        return numeric and math.isclose(float(got), expected, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(expected, bool) or expected is None:
        return got is expected
    if isinstance(expected, int):
        return isinstance(got, int) and not isinstance(got, bool) and got == expected
    if isinstance(expected, dt.datetime):
        return (
            isinstance(got, dt.datetime)
            and got == expected
            and (got.tzinfo is None) == (expected.tzinfo is None)
        )
    if isinstance(expected, dt.date):
        return type(got) is dt.date and got == expected
    return bool(got == expected) and type(got) is type(expected)


def outcome(translate: Any, example: Example) -> tuple[str, Any]:
    """("value", v), ("not_found", message) or ("error", message)."""
    try:
        return "value", value(translate(example))
    except dialect.FunctionNotFoundError as err:
        return "not_found", err.athena_message
    except (duckdb.Error, dialect.DialectError, sqlglot.errors.SqlglotError) as err:
        return "error", f"{type(err).__name__}: {err}"


def gives_trinos_answer(result: tuple[str, Any], expected: Any) -> bool:
    kind, got = result
    if expected is FAILS:
        return kind == "error"
    if expected is NOT_EMULATED:
        return kind == "not_found"
    return kind == "value" and same(got, expected)


# ---------------------------------------------------------------------------- every example
@pytest.mark.parametrize(("function", "example"), EXAMPLES, ids=[_id(i) for i in EXAMPLES])
def test_the_local_athena_gives_trinos_answer(function: TrinoFunction, example: Example) -> None:
    if function.support is Support.MISSING:
        pytest.skip("not emulated: covered by test_a_missing_function_fails_like_athena")
    result = outcome(local_sql, example)
    assert gives_trinos_answer(result, example.expected), (
        f"{example.query}\n  Trino: {example.expected!r}\n  local: {result[1]!r}\n"
        f"  DuckDB SQL: {_safe(local_sql, example)}"
    )


def _safe(translate: Any, example: Example) -> str:
    try:
        return str(translate(example))
    except Exception as err:
        return f"<{err}>"


def _plain_matches(example: Example) -> bool:
    result = outcome(plain_sql, example)
    if example.expected is NOT_EMULATED:
        return result[0] != "value"  # plain sqlglot answering means it silently ran something else
    return gives_trinos_answer(result, example.expected)


NATIVE = [f for f in FUNCTIONS if f.support is Support.NATIVE]
LOCAL = [f for f in FUNCTIONS if f.support is Support.LOCAL]


@pytest.mark.parametrize("function", NATIVE, ids=lambda f: f.name)
def test_a_function_marked_native_needs_no_expansion(function: TrinoFunction) -> None:
    """sqlglot + DuckDB alone give Trino's answer on every example (so the table is true)."""
    assert function.examples, f"{function.name}: a function claimed to work needs an example"
    wrong = [e.sql for e in function.examples if not _plain_matches(e)]
    assert not wrong, (
        f"{function.name}: plain sqlglot + DuckDB differ from Trino on {wrong}: expand it"
    )


@pytest.mark.parametrize("function", LOCAL, ids=lambda f: f.name)
def test_a_local_expansion_is_needed(function: TrinoFunction) -> None:
    """At least one example shows plain sqlglot + DuckDB failing or answering differently."""
    assert function.examples, f"{function.name}: an expanded function needs examples"
    assert not all(_plain_matches(e) for e in function.examples), (
        f"{function.name}: plain sqlglot + DuckDB pass every example: mark it native and drop "
        "its expansion (or add the example that shows the difference)"
    )


# ---------------------------------------------------------------------------- FUNCTION_NOT_FOUND
MISSING = [f for f in FUNCTIONS if f.support is Support.MISSING]


def _not_found(name: str) -> dialect.FunctionNotFoundError:
    """The error of a call of ``name`` with as many arguments as sqlglot's parser wants."""
    for args in ("", "1", "1, 2", "1, 2, 3", "1, 2, 3, 4", "'{}', 'lax $'"):
        try:
            dialect.to_duckdb(f"SELECT {name}({args})", "db", schema={})
        except dialect.FunctionNotFoundError as err:
            return err
        except dialect.DialectError:
            continue
        raise AssertionError(f"{name}({args}) translated without FUNCTION_NOT_FOUND")
    raise AssertionError(f"no call of {name} parses")


@pytest.mark.parametrize("function", MISSING, ids=lambda f: f.name)
def test_a_missing_function_fails_like_athena(function: TrinoFunction) -> None:
    err = _not_found(function.name)
    assert err.athena_message.startswith(
        f"FUNCTION_NOT_FOUND: line 1:8: Function '{function.name}' not registered"
    )
    assert "does not emulate" in err.athena_message


@pytest.mark.parametrize(
    "name", ["foo_bar", "list_value", "string_agg", "array_length", "strftime"]
)
def test_a_name_athena_does_not_have_fails_with_athenas_exact_message(name: str) -> None:
    """DuckDB's own functions included: Athena would not run them either."""
    with pytest.raises(dialect.FunctionNotFoundError) as err:
        dialect.to_duckdb(f"SELECT 1 AS a,\n  {name}('x', 'y') AS b", "db", schema={})
    assert (
        err.value.athena_message
        == f"FUNCTION_NOT_FOUND: line 2:3: Function '{name}' not registered"
    )


def test_function_not_found_names_the_first_unknown_call_in_the_text() -> None:
    with pytest.raises(dialect.FunctionNotFoundError, match="line 1:8: Function 'nope'"):
        dialect.to_duckdb("SELECT nope(1) + other_nope(2)", "db", schema={})


def test_syntax_functions_are_checked_too() -> None:
    """sqlglot parses some calls with their own grammar (CAST, EXTRACT, DECODE...)."""
    with pytest.raises(dialect.FunctionNotFoundError, match="Function 'decode' not registered"):
        dialect.to_duckdb("SELECT decode(1, 1, 'one')", "db", schema={})
    assert "CAST" in dialect.to_duckdb("SELECT CAST(1 AS varchar)", "db", schema={}).duckdb_sql


def test_an_overload_that_is_not_emulated_is_named() -> None:
    with pytest.raises(dialect.FunctionNotFoundError) as err:
        dialect.to_duckdb("SELECT date_format(current_timestamp, 'x' || '%Y')", "db", schema={})
    assert err.value.athena_message.startswith(
        "FUNCTION_NOT_FOUND: line 1:8: Function 'date_format'"
    )
    assert "not a constant string" in err.value.athena_message


# ---------------------------------------------------------------------------- on the events table
def test_expansions_work_on_table_columns_and_nest(parquet_dir: Any) -> None:
    from athena_local.catalog import LocalDirSource
    from athena_local.runner import Runner

    from .conftest import event

    root = parquet_dir(
        [
            event("2024-12-25T10:00:00Z", event_type="page_view", page_url="/p/1?ref=mail"),
            event("2024-12-25T11:00:00Z", event_type="search", page_url="/search?q=red+shoes"),
            event("2024-12-25T12:00:00Z", event_type="page_view", page_url="/p/2"),
        ]
    )
    with Runner.open(LocalDirSource(root), database="db") as runner:
        translation = runner.translate_sql(
            "SELECT map_agg(event_type, n) AS by_type, "
            "array_join(array_sort(map_keys(map_agg(event_type, n))), ',') AS types "
            "FROM (SELECT event_type, count(*) AS n FROM events GROUP BY event_type)"
        )
        row = runner.con.sql(translation.duckdb_sql).fetchall()[0]
        assert dict(row[0]) == {"page_view": 2, "search": 1}
        assert row[1] == "page_view,search"
        params = runner.translate_sql(
            "SELECT url_extract_parameter(page_url, 'q') AS q, element_at(split(page_url, '/'), 2) AS first "
            "FROM events WHERE strpos(page_url, 'search') > 0"
        )
        assert runner.con.sql(params.duckdb_sql).fetchall() == [("red shoes", "search?q=red+shoes")]


def test_a_lambda_parameter_does_not_capture_a_column_of_the_same_name() -> None:
    """Expansions name their own lambda parameters __e, __i...: a user's column called e stays."""
    sql = dialect.to_duckdb(
        "SELECT array_distinct(e) FROM (VALUES (ARRAY[2, 1, 2])) t(e)", "db", schema={}
    ).duckdb_sql
    assert value(sql) == [2, 1]


# ---------------------------------------------------------------------------- converters
@pytest.mark.parametrize(
    ("trino", "duckdb_path"),
    [
        ("$.a.b", "$.a.b"),
        ("$.a[0]", "$.a[0]"),
        ("$[-1]", "$[#-1]"),
        ('$["book name"]', '$."book name"'),
        ("$.store[book]", "$.store.book"),
        ("$['x y']", '$."x y"'),
    ],
)
def test_trino_json_paths_become_duckdb_paths(trino: str, duckdb_path: str) -> None:
    assert functions.duckdb_json_path(trino) == duckdb_path


@pytest.mark.parametrize(
    ("java", "re2"), [("$1", "\\1"), ("\\$", "$"), ("a\\\\b", "a\\\\b"), ("x$2y", "x\\2y")]
)
def test_java_replacements_become_re2(java: str, re2: str) -> None:
    assert functions.java_replacement(java) == re2


@pytest.mark.parametrize(
    ("joda", "strftime"),
    [
        ("yyyy-MM-dd HH:mm:ss", "%Y-%m-%d %H:%M:%S"),
        ("EEEE d MMMM yy", "%A %-d %B %y"),
        ("'at' h a", "at %-I %p"),
    ],
)
def test_joda_patterns_become_strftime(joda: str, strftime: str) -> None:
    assert functions.joda_format(joda) == strftime


# ---------------------------------------------------------------------------- the docs
def test_the_docs_hold_the_generated_coverage_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert tf.BEGIN in text and tf.END in text, f"{DOCS} lacks the coverage table markers"
    start, end = text.index(tf.BEGIN), text.index(tf.END) + len(tf.END)
    assert text[start:end] == tf.coverage_markdown(), (
        f"{DOCS}'s function table is stale: run `.venv/bin/python -m athena_local.trino_functions`"
    )


def test_every_name_is_listed_once_and_lower_case() -> None:
    names = [f.name for f in tf._FUNCTIONS]
    assert len(names) == len(set(names))
    assert all(n == n.lower() for n in names)
    assert set(functions.expansion_names()) <= set(names), "an expansion of a name the table lacks"
