"""``make report``: one static HTML page with an inline SVG bar chart per query.

Self-contained on purpose: no JavaScript, no CDN, no fonts to fetch - it opens offline, can be
attached to a ticket, and renders the same everywhere. Each section shows what the query answers,
the chart, the Athena cost estimate, the SQL, and the rows.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from athena_local.format import rows_of
from athena_local.runner import QueryResult

MAX_BARS = 25
BAR_HEIGHT = 22
#: Width budget of one label character at 12 px: DejaVu Sans digits (0.636 em, the widest of the
#: usual fallback fonts), so a label measured with it never runs past the chart's left edge.
CHAR_WIDTH = 7.7
MIN_LABEL_WIDTH = 60
MAX_LABEL_WIDTH = 460
PLOT_WIDTH = 420
VALUE_WIDTH = 80
PALETTE = ("#2563eb", "#0891b2", "#7c3aed", "#db2777", "#ea580c")

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;
max-width:1000px;color:#111827;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}
.meta{color:#6b7280;margin-top:0}
section{border:1px solid #e5e7eb;border-radius:8px;padding:1rem 1.25rem;margin:1.5rem 0}
h2{font-size:1.15rem;margin:.1rem 0 .3rem}
.what{margin:0 0 .75rem;color:#374151}
.cost{font-size:.85rem;color:#065f46;background:#ecfdf5;border-radius:4px;padding:.3rem .5rem;
display:inline-block;margin:.5rem 0}
svg{max-width:100%;height:auto}
svg text{font-size:12px;font-family:inherit}
pre{background:#f9fafb;padding:.6rem;border-radius:4px;overflow-x:auto;font-size:12px}
table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #e5e7eb;padding:2px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
summary{cursor:pointer;color:#374151}
"""


def chart_series(table: pa.Table) -> tuple[list[str], list[float]]:
    """Labels (the non-numeric columns joined) and values (the last numeric column)."""
    numeric = [
        i
        for i, f in enumerate(table.schema)
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
    ]
    if not numeric:
        return [], []
    value_index = numeric[-1]
    labels, values = [], []
    for row in rows_of(table):
        parts = ["NULL" if v is None else str(v) for i, v in enumerate(row) if i not in numeric]
        labels.append(" / ".join(parts) or "(all)")
        value = row[value_index]  # an integer or floating column (or NULL)
        values.append(float(value) if isinstance(value, int | float) else 0.0)
    return labels, values


def bar_chart_svg(labels: Sequence[str], values: Sequence[float], color: str) -> str:
    """A horizontal bar chart as inline SVG (largest first, at most :data:`MAX_BARS` bars).

    The label column is as wide as the longest label needs (labels are right-aligned against the
    bars, so a fixed budget cut long ones off on the left), up to :data:`MAX_LABEL_WIDTH`;
    longer labels are shortened with an ellipsis and keep their full text in a tooltip."""
    pairs = sorted(zip(labels, values, strict=True), key=lambda p: -p[1])[:MAX_BARS]
    if not pairs:
        return '<p class="what">(no rows)</p>'
    top = max(v for _, v in pairs) or 1.0
    shown_labels = [fit_label(label) for label, _ in pairs]
    label_width = label_column_width(shown_labels)
    chart_width = label_width + PLOT_WIDTH + VALUE_WIDTH
    height = BAR_HEIGHT * len(pairs) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{chart_width}" height="{height}" '
        f'viewBox="0 0 {chart_width} {height}" role="img">'
    ]
    for i, ((label, value), shown) in enumerate(zip(pairs, shown_labels, strict=True)):
        y = 5 + i * BAR_HEIGHT
        width = max(1.0, PLOT_WIDTH * value / top)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{html.escape(shown)}'
            f"<title>{html.escape(label)}</title></text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{width:.1f}" height="{BAR_HEIGHT - 6}" '
            f'rx="3" fill="{color}"><title>{html.escape(label)}: {value:,.0f}</title></rect>'
            f'<text x="{label_width + width + 6:.1f}" y="{y + 15}">{value:,.0f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def label_column_width(labels: Sequence[str]) -> int:
    """Pixels for the right-aligned label column: the longest label plus the gap to the bars."""
    longest = max((len(label) for label in labels), default=0)
    return int(min(MAX_LABEL_WIDTH, max(MIN_LABEL_WIDTH, longest * CHAR_WIDTH + 12)))


def fit_label(label: str) -> str:
    """The label, shortened with an ellipsis to what the widest label column holds."""
    limit = int((MAX_LABEL_WIDTH - 12) // CHAR_WIDTH)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _rows_table(table: pa.Table) -> str:
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) for f in table.schema]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.column_names)
    body = []
    for row in rows_of(table):
        cells = "".join(
            f"<td{' class=n' if num else ''}>{html.escape('NULL' if v is None else str(v))}</td>"
            for v, num in zip(row, numeric, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _section(result: QueryResult, color: str) -> str:
    labels, values = chart_series(result.table)
    more = f" (chart shows the top {MAX_BARS} of {len(labels)})" if len(labels) > MAX_BARS else ""
    cost = f'<div class="cost">{html.escape(result.cost.summary())}</div>' if result.cost else ""
    return (
        f'<section id="{html.escape(result.name)}"><h2>{html.escape(result.name)}</h2>'
        f'<p class="what">{html.escape(result.query.description)}{html.escape(more)}</p>'
        f"{bar_chart_svg(labels, values, color)}{cost}"
        f"<details><summary>SQL (Athena)</summary><pre>{html.escape(result.query.body)}</pre>"
        f"</details><details><summary>{result.table.num_rows} rows, "
        f"{result.seconds * 1000:.0f} ms in DuckDB</summary>{_rows_table(result.table)}"
        "</details></section>"
    )


def render_html(results: Sequence[QueryResult], source_label: str, database: str) -> str:
    """The whole page."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections = "".join(_section(r, PALETTE[i % len(PALETTE)]) for i, r in enumerate(results))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Clickstream query report</title>"
        f'<meta name="viewport" content="width=device-width"><style>{_CSS}</style></head><body>'
        "<h1>Clickstream query report</h1>"
        f'<p class="meta">{html.escape(database)}.events from {html.escape(source_label)} · '
        f"{stamp} · same SQL as the Athena named queries</p>{sections}</body></html>"
    )


def write_report(
    path: Path, results: Sequence[QueryResult], source_label: str, database: str
) -> Path:
    """Write the page (creating parent directories) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(results, source_label, database), encoding="utf-8")
    return path
