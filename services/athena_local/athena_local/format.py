"""Render an Arrow result as a text table, CSV or JSON (what the CLI prints)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence

import pyarrow as pa

FORMATS = ("table", "csv", "json")
NULL = "NULL"


def _cell(value: object) -> str:
    if value is None:
        return NULL
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _is_numeric(field: pa.Field) -> bool:
    return bool(pa.types.is_integer(field.type) or pa.types.is_floating(field.type))


def rows_of(table: pa.Table) -> list[tuple[object, ...]]:
    """The table as a list of row tuples (column order kept)."""
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(zip(*columns, strict=True)) if columns else []


def to_text_table(table: pa.Table) -> str:
    """A boxed, aligned text table; numbers right-aligned, NULL shown as NULL."""
    headers = table.column_names
    body = [[_cell(v) for v in row] for row in rows_of(table)]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [_is_numeric(f) for f in table.schema]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    out = [rule, line(headers), rule, *(line(r) for r in body), rule]
    out.append(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''})")
    return "\n".join(out)


def to_csv(table: pa.Table) -> str:
    """RFC 4180 CSV with a header row; NULL is an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in rows_of(table):
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return buffer.getvalue()


def to_records(table: pa.Table) -> list[dict[str, object]]:
    """JSON-ready records (timestamps as ISO-8601 strings)."""
    records = []
    for row in table.to_pylist():
        records.append(
            {
                k: v.isoformat() if isinstance(v, dt.datetime | dt.date) else v
                for k, v in row.items()
            }
        )
    return records


def to_json(table: pa.Table) -> str:
    """A JSON array of row objects."""
    return json.dumps(to_records(table), indent=2)


def render(table: pa.Table, fmt: str) -> str:
    """Dispatch on ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "table":
        return to_text_table(table)
    if fmt == "csv":
        return to_csv(table)
    if fmt == "json":
        return to_json(table)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
