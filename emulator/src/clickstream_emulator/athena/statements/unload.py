"""UNLOAD (SELECT ...) TO 's3://...' WITH (format = ..., compression = ..., partitioned_by = ...).

The query's rows are written as Parquet under the TO location, which must be empty (partitioned
output aside, as on Athena), and the data manifest ``<result location><id>-manifest.csv`` lists the
files - PyAthena's ``unload=True`` cursors and awswrangler's ``unload_approach`` read exactly that.
Athena's default format is Parquet with GZIP; other formats fail naming themselves.
"""

from __future__ import annotations

import re

from clickstream_emulator.athena import writer
from clickstream_emulator.athena.ports import Catalog, Context
from clickstream_emulator.athena.relations import Execution, run_query
from clickstream_emulator.athena.results import USER, Outcome, QueryFailed, not_supported
from clickstream_emulator.athena.statement import Statement, parse
from clickstream_emulator.athena.statements import properties
from clickstream_emulator.athena.statements.writes import wrote

_TO = re.compile(r"^\s*TO\s+'((?:[^']|'')*)'\s*(?:WITH\s*\((.*)\))?\s*$", re.IGNORECASE | re.DOTALL)
_KNOWN = {"format", "compression", "compression_level", "partitioned_by", "field_delimiter"}


def _split(rest: str) -> tuple[str, str]:
    """``(<query>) TO ...`` -> the query and what follows its closing parenthesis."""
    text = rest.strip()
    if not text.startswith("("):
        raise QueryFailed("SYNTAX_ERROR: line 1:8: mismatched input. Expecting: '('", USER)
    depth, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
            continue
        if char in ("'", '"'):
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[1:index], text[index + 1 :]
    raise QueryFailed("SYNTAX_ERROR: line 1:8: the UNLOAD query's parenthesis is not closed", USER)


def run(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    query_sql, tail = _split(statement.rest)
    target = _TO.match(tail)
    if target is None:
        raise QueryFailed(
            "SYNTAX_ERROR: line 1:1: UNLOAD needs TO 's3://...' [WITH (property = value, ...)]",
            USER,
        )
    location = target.group(1).replace("''", "'")
    props = properties.from_text(target.group(2) or "", "UNLOAD")
    unknown = set(props) - _KNOWN
    if unknown:
        raise not_supported(f"UNLOAD property {sorted(unknown)[0]!r}")
    fmt = str(props.get("format", "PARQUET")).upper()
    if fmt != "PARQUET":
        raise not_supported(f"UNLOAD format '{fmt}' (Parquet is written)")
    compression = str(props.get("compression", "GZIP")).upper()
    if compression not in writer.CODECS:
        raise not_supported(f"UNLOAD compression '{compression}'")
    if not location.startswith("s3://"):
        raise QueryFailed(f"INVALID_INPUT: UNLOAD location {location!r} is not an s3:// location")
    partitioned_by = [str(p) for p in props.get("partitioned_by") or []]
    if not partitioned_by and cat.list_paths(location):
        raise QueryFailed(
            f"HIVE_PATH_ALREADY_EXISTS: Target directory for UNLOAD already exists: {location}",
            USER,
        )
    query = parse(query_sql)
    arrow, run_ = run_query(cat, query.tree, query.sql, ctx.database, execution, ctx.cutoff_bytes)
    missing = [p for p in partitioned_by if p not in arrow.column_names]
    if missing:
        raise QueryFailed(
            f"COLUMN_NOT_FOUND: line 1:1: partitioned_by column '{missing[0]}' is not in the query",
            USER,
        )
    execution.check()
    written = writer.write_parquet(
        cat.filesystem(), location, arrow, ctx.query_id, partitioned_by, compression
    )
    return wrote("DML", "UNLOAD", run_, arrow.num_rows, written)
