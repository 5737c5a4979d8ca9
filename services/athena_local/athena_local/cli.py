"""``clickstream-query``: run the Athena query files locally on DuckDB.

Examples::

    clickstream-query top_pages                      # local S3 (bucket from Terraform outputs)
    clickstream-query --all --format csv
    clickstream-query user_sessions --source build/events --explain
    clickstream-query --all --report build/report/index.html
    clickstream-query --sql "SELECT count(*) AS n FROM events"   # ad-hoc SQL (or a .sql path, or -)
    clickstream-query --shell                                      # interactive prompt (make shell)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import duckdb

from athena_local import adhoc, shell, sql
from athena_local import format as fmt
from athena_local.catalog import NoEventsError, Source, parse_source, source_for
from athena_local.dialect import DialectError
from athena_local.glue_catalog import CatalogUnavailable, CatalogUnreachable, fetch_table
from athena_local.glue_table import CatalogTable, UnsupportedTableError
from athena_local.report import write_report
from athena_local.runner import QueryResult, Runner, resolve_database
from clickstream_common import target
from clickstream_common.outputs import OutputsNotFoundError
from clickstream_common.process import exit_now
from clickstream_common.schema import TABLE_NAME

PROG = "clickstream-query"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run the queries in queries/ (Athena SQL) on the transformed Parquet with "
        "DuckDB, as <glue_database>.events.",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("name", nargs="?", help="query name (file stem in queries/)")
    target.add_argument("--all", action="store_true", help="run every query")
    target.add_argument("--list", action="store_true", help="list the queries and exit")
    target.add_argument(
        "--sql",
        metavar="SQL",
        help="ad-hoc Athena SQL on events / <database>.events: the query text, a path to a "
        '.sql file, or - for stdin (e.g. --sql "SELECT count(*) AS n FROM events")',
    )
    target.add_argument(
        "--shell", action="store_true", help="interactive SQL prompt with the view defined"
    )
    parser.add_argument("--format", choices=fmt.FORMATS, default="table")
    parser.add_argument(
        "--source",
        default="s3",
        help="s3 (transformed bucket from Terraform outputs, default), s3://bucket/prefix/, "
        "a local directory (events/ or its parent), or arrow:DIR (local, via the S3 route)",
    )
    parser.add_argument("--database", help="schema name (default: glue_database output)")
    parser.add_argument(
        "--explain", action="store_true", help="show DuckDB SQL, plan and files read"
    )
    parser.add_argument("--report", type=Path, help="also write the HTML report to this path")
    parser.add_argument("--no-cost", action="store_true", help="skip the Athena cost estimate")
    return parser


def _print_result(result: QueryResult, output_format: str) -> None:
    footer = f"{result.seconds * 1000:.0f} ms in DuckDB"
    if result.cost:
        footer += f" · {result.cost.summary()}"
    if output_format == "table":
        print(f"== {result.name}: {result.query.description}")
        print(fmt.to_text_table(result.table))
        print(footer)
        print()
    else:
        print(fmt.render(result.table, output_format), end="" if output_format == "csv" else "\n")
        print(f"{result.name}: {footer}", file=sys.stderr)


def _print_explain(runner: Runner, query: str | sql.QueryFile) -> None:
    _, translation = runner.translate(query)
    name = query.name if isinstance(query, sql.QueryFile) else query
    print(f"-- {name}: DuckDB SQL (translated from Athena)")
    print(translation.duckdb_sql)
    for warning in translation.warnings:
        print(f"-- warning: {warning}")
    print(runner.plan(query))
    try:
        evidence = runner.scan_evidence(query)
    except ValueError:
        return
    print(f"-- files read: {evidence.files_read_count}/{evidence.files_total}")
    for path in evidence.files_read:
        print(f"--   {path}")
    print()


def open_table(
    spec: str | None, database: str | None, record: bool = False
) -> tuple[Source, CatalogTable | None]:
    """The source, and the Glue table when the default S3 source has a catalog beside it.

    A local directory (or an explicit ``s3://``) uses the built-in schema of the event contract.
    S3 sources talk to the stack of the Terraform outputs (:mod:`clickstream_common.target`);
    when it does not answer, that is the one error line.
    """
    from_outputs = spec in (None, "", "s3")
    stack = None
    if from_outputs or (spec or "").startswith("s3://"):
        stack = target.configure(PROG, names_from_outputs=from_outputs, check=False)
    source = parse_source(spec, record=record)  # the outputs' bucket: one line when missing
    if stack is not None:
        stack.check()
    if not from_outputs:
        return source, None
    db = resolve_database(database, source)
    try:
        table = fetch_table(db, TABLE_NAME)
    except CatalogUnavailable as err:
        print(f"{PROG}: note: {err}; the event contract's schema is used", file=sys.stderr)
        return source, None
    return source_for(table, record=record), table


def run(args: argparse.Namespace) -> int:
    if args.list:
        for q in sql.list_queries():
            print(f"{q.name:22} {q.description}")
        return 0
    if not args.name and not args.all and not args.report and not args.sql and not args.shell:
        build_parser().print_usage(sys.stderr)
        print(
            "clickstream-query: give a query NAME, --all, --sql, --shell or --list", file=sys.stderr
        )
        return 2
    text, origin = adhoc.read_sql(args.sql) if args.sql else ("", "")
    source, table = open_table(args.source, args.database, record=args.explain)
    with Runner.open(source, args.database, table=table) as runner:
        if args.shell:
            return shell.run(runner, with_cost=not args.no_cost)
        names: list[str | sql.QueryFile]
        if args.sql:
            names = [adhoc.query_file(text, runner.database, origin)]
        else:
            names = [args.name] if args.name else [q.name for q in sql.list_queries()]
        if args.explain:
            for name in names:
                _print_explain(runner, name)
            return 0
        results = [runner.run(name, with_cost=not args.no_cost) for name in names]
        if args.format == "json" and len(results) > 1:
            print(json.dumps({r.name: fmt.to_records(r.table) for r in results}, indent=2))
            for r in results:
                print(f"{r.name}: {r.cost.summary() if r.cost else ''}", file=sys.stderr)
        else:
            for r in results:
                _print_result(r, args.format)
        for r in results:
            for warning in r.translation.warnings:
                print(f"{r.name}: warning: {warning}", file=sys.stderr)
        if args.report:
            path = write_report(args.report, results, source.label, runner.database)
            print(f"report written to {path}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (
        DialectError,
        NoEventsError,
        OutputsNotFoundError,
        sql.QueryFileError,
        target.TargetError,
        CatalogUnreachable,
        UnsupportedTableError,
        OSError,
        duckdb.Error,
    ) as err:
        print(f"clickstream-query: error: {adhoc.one_line(err)}", file=sys.stderr)
        return 1


def console_main() -> NoReturn:
    """Console-script entry point: :func:`main`, then an exit that skips Arrow's native teardown
    (:mod:`clickstream_common.process`)."""
    exit_now(main())


if __name__ == "__main__":
    console_main()
