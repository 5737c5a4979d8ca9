"""``make shell`` / ``clickstream-query --shell``: an interactive SQL prompt on ``<database>.events``.

Why our own prompt rather than the DuckDB CLI: the ``duckdb-cli`` wheel on PyPI lags the DuckDB
the project pins (requirements/dev.txt), and a bare DuckDB prompt would skip what makes a local
answer trustworthy - the Athena dialect guard and the cost estimate. Each statement (ended by
``;``) is Athena SQL and runs through :mod:`athena_local.adhoc` exactly like ``--sql``;
``.duckdb <sql>`` runs raw DuckDB SQL when you need to look behind the view. Errors print one
line and the prompt continues. Read from a pipe (``echo "SELECT ...;" | make shell``) it prints
no prompts and exits non-zero if any statement failed.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

import duckdb

from athena_local import adhoc, sql
from athena_local import format as fmt
from athena_local.dialect import DialectError
from athena_local.runner import Runner

HELP = """\
Athena SQL on {table}, each statement ended by ';' (FROM events works too).
  .schema          columns of {table}
  .duckdb SQL      run raw DuckDB SQL (no Athena dialect guard, no cost estimate)
  .help            this text
  .quit            leave (or Ctrl-D)"""


def run(
    runner: Runner,
    *,
    with_cost: bool = True,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    interactive: bool | None = None,
) -> int:
    """Read statements until EOF or ``.quit``; 0 unless a piped statement failed."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if interactive is None:
        interactive = stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
    table = f"{runner.database}.events"
    print(
        f"{table} over {runner.source.label} ({len(runner.files)} Parquet files). "
        "Type .help for help.",
        file=stdout if interactive else sys.stderr,
    )
    failed = False
    buffer: list[str] = []
    while True:
        line = _read(stdin, "...> " if buffer else "sql> ", interactive)
        if line is None:
            break
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            command, _, rest = stripped.partition(" ")
            if command in (".quit", ".exit"):
                break
            failed |= not _command(runner, command, rest.strip(), stdout, table)
            continue
        buffer.append(line)
        if stripped.endswith(";"):
            failed |= not _statement(runner, "\n".join(buffer), with_cost, stdout)
            buffer = []
    if "".join(buffer).strip():  # a last statement without ';'
        failed |= not _statement(runner, "\n".join(buffer), with_cost, stdout)
    return 1 if failed and not interactive else 0


def _read(stdin: TextIO, prompt: str, interactive: bool) -> str | None:
    if interactive and stdin is sys.stdin:
        try:
            return input(prompt)
        except EOFError:
            print(file=sys.stdout)
            return None
    line = stdin.readline()
    return line.rstrip("\n") if line else None


def _statement(runner: Runner, text: str, with_cost: bool, stdout: TextIO) -> bool:
    try:
        result = runner.run(adhoc.query_file(text, runner.database, "sql"), with_cost=with_cost)
    except (DialectError, sql.QueryFileError, duckdb.Error) as err:
        print(f"error: {adhoc.one_line(err)}", file=stdout)
        return False
    print(fmt.to_text_table(result.table), file=stdout)
    footer = f"{result.table.num_rows} rows · {result.seconds * 1000:.0f} ms in DuckDB"
    if result.cost:
        footer += f" · {result.cost.summary()}"
    print(footer, file=stdout)
    for warning in result.translation.warnings:
        print(f"warning: {warning}", file=stdout)
    return True


def _command(runner: Runner, command: str, rest: str, stdout: TextIO, table: str) -> bool:
    try:
        if command == ".help":
            print(HELP.format(table=table), file=stdout)
        elif command == ".schema":
            rows = runner.con.execute(f"DESCRIBE {table}").fetchall()
            for name, column_type, *_ in rows:
                print(f"  {name:<16} {column_type}", file=stdout)
        elif command == ".duckdb" and rest:
            result = runner.con.sql(rest.rstrip(";"))
            if result is not None:
                print(fmt.to_text_table(result.to_arrow_table()), file=stdout)
        else:
            print(f"error: unknown command {command!r} (.help lists them)", file=stdout)
            return False
    except duckdb.Error as err:
        print(f"error: {adhoc.one_line(err)}", file=stdout)
        return False
    return True
