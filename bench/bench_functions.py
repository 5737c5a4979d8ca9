"""Benchmark: what the Trino function layer (athena_local.functions) costs a query.

``python -m bench.bench_functions [--repeat 200] [--quick]`` (no stack needed)

Every Athena query translates its SQL once and opens one DuckDB connection. The function layer
adds to the translation (its own parse of the statement, the FUNCTION_NOT_FOUND check, the
expansions) and nothing to the connection. Measured in one process:

* **translate** - ``dialect.to_duckdb`` p50 per query, with the function layer and with it
  switched off (sqlglot's own parser, no check, no expansion: the same-run baseline), for the five
  query files and for queries that call expanded functions;
* **connect** - ``catalog.connect()`` p50 as the engine opens it, and the same connection with
  every expansion registered as a DuckDB macro instead (the design not taken), to show what
  registering functions per connection would have cost.

JSON in ``build/bench/functions.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from athena_local import catalog, dialect, functions, sql
from bench.bench_queries import REPO_ROOT
from bench.common import render_table

DB = "clickstream_pipeline_local_db"
OUT = REPO_ROOT / "build" / "bench" / "functions.json"

#: Analytics queries over the events table that use expanded functions.
WITH_FUNCTIONS = {
    "map_agg by type": (
        "SELECT map_agg(event_type, n) FROM (SELECT event_type, count(*) AS n FROM events GROUP BY 1)"
    ),
    "url + date_format": (
        "SELECT url_extract_host(referrer) AS host, date_format(event_timestamp, '%Y-%m-%d') AS day, "
        "count_if(regexp_like(page_url, '^/product/')) AS products FROM events GROUP BY 1, 2"
    ),
    "json + arrays": (
        "SELECT element_at(split(page_url, '/'), 2) AS section, array_join(array_distinct("
        "array_agg(country)), ',') AS countries, json_extract_scalar('{\"a\": 1}', '$.a') AS a "
        "FROM events GROUP BY 1"
    ),
}


def p50_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm caches (templates, parser tables)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def paired_p50_ms(text: str, repeat: int) -> tuple[float, float]:
    """Translation p50 with and without the function layer, the two interleaved run by run so
    that the load of a shared machine weighs on both alike."""
    with_layer: list[float] = []
    without: list[float] = []
    for i in range(repeat + 1):
        for layer_on in (True, False) if i % 2 else (False, True):
            started = time.perf_counter()
            if layer_on:
                dialect.to_duckdb(text, DB)
            else:
                with function_layer_off():
                    dialect.to_duckdb(text, DB)
            if i:  # the first round warms caches
                (with_layer if layer_on else without).append((time.perf_counter() - started) * 1000)
    return statistics.median(with_layer), statistics.median(without)


@contextmanager
def function_layer_off() -> Iterator[None]:
    """sqlglot's own parser, no FUNCTION_NOT_FOUND check, no expansion."""
    saved = functions.parse, functions.check, functions.expand

    def parse(text: str) -> list[exp.Expr | None]:
        return sqlglot.parse(text, read="athena")

    def check(tree: exp.Expr, text: str) -> None:
        return None

    def expand(tree: exp.Expr, text: str) -> exp.Expr:
        return tree

    functions.parse, functions.check, functions.expand = parse, check, expand  # type: ignore[assignment]
    try:
        yield
    finally:
        functions.parse, functions.check, functions.expand = saved


def macro_definitions() -> list[str]:
    """Every expansion that DuckDB accepts as a ``CREATE MACRO`` (its first arity that works):
    what registering the functions on each connection would run."""
    probe = catalog.connect()
    definitions = []
    for name in functions.expansion_names():
        for arity in range(0, 5):
            args = [exp.column(f"a{i}") for i in range(arity)]
            try:
                body = functions._EXPANSIONS[name](*args)
            except Exception:  # an arity or argument form the expansion refuses
                continue
            params = ", ".join(f"a{i}" for i in range(arity))
            definition = f"CREATE MACRO trino_{name}_{arity}({params}) AS {body.sql('duckdb')}"
            try:
                probe.execute(definition)
            except duckdb.Error:
                continue  # e.g. a unit or format that must be a constant
            definitions.append(definition)
            break
    probe.close()
    return definitions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="20 repetitions")
    args = ap.parse_args(argv)
    repeat = 20 if args.quick else args.repeat

    queries = {q.name: q.render(DB) for q in sql.list_queries()}
    queries |= {
        name: text.replace("FROM events", f"FROM {DB}.events")
        for name, text in WITH_FUNCTIONS.items()
    }
    rows: list[list[Any]] = []
    report: dict[str, Any] = {"repeat": repeat, "translate_ms": {}, "connect_ms": {}}
    for name, text in queries.items():
        with_layer, without = paired_p50_ms(text, repeat)
        report["translate_ms"][name] = {"function_layer": with_layer, "without": without}
        rows.append([name, with_layer, without, with_layer - without])
    print(f"translation p50 (ms), {repeat} runs each")
    print(render_table(["query", "with functions.py", "without", "added"], rows))

    definitions = macro_definitions()

    def connect() -> None:
        catalog.connect().close()

    def connect_with_macros() -> None:
        con = catalog.connect()
        con.execute(";\n".join(definitions))
        con.close()

    connect_ms = p50_ms(connect, max(repeat // 4, 10))
    macros_ms = p50_ms(connect_with_macros, max(repeat // 4, 10))
    report["connect_ms"] = {
        "connect": connect_ms,
        f"connect + {len(definitions)} macros": macros_ms,
    }
    print(f"\nconnection p50 (ms), {max(repeat // 4, 10)} runs each")
    print(
        render_table(
            ["connection", "p50 ms"],
            [
                ["catalog.connect() (what every query opens)", connect_ms],
                [f"+ {len(definitions)} macros registered (not done)", macros_ms],
            ],
        )
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
