"""Compare a query result with the truth the way the SQL defines it: tie-aware, order-aware.

The seed's queries do not define a unique answer:

* ``events_per_country`` has no ``ORDER BY`` - rows come in any order (DuckDB's parallel hash
  aggregate, like Athena's distributed one, changes it from run to run);
* ``ORDER BY cnt DESC`` leaves rows with equal counts in any order;
* ``ORDER BY views DESC LIMIT 10`` with a tie across the 10th place may return *different rows*,
  all correct.

Comparing with ``==`` against a Python-sorted list would pass or fail by luck. This module reads
the ``ORDER BY`` keys and the ``LIMIT`` from the SQL itself and accepts exactly the set of answers
the SQL allows. The truth is given *untruncated and unordered* (every group with its value).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from athena_local.dialect import parse_athena

Row = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """What the SQL promises about order: ``ORDER BY`` keys (name, descending) and ``LIMIT``."""

    keys: tuple[tuple[str, bool], ...]
    limit: int | None

    @property
    def ordered(self) -> bool:
        return bool(self.keys)


def order_spec(athena_sql: str) -> OrderSpec:
    """Extract the ordering contract of a single ``SELECT``."""
    expression = parse_athena(athena_sql)
    keys = []
    order = expression.args.get("order")
    for item in order.expressions if order else []:
        if not isinstance(item, exp.Ordered) or not isinstance(item.this, exp.Column):
            raise ValueError(f"ORDER BY {item.sql()} is not an output column name")
        keys.append((item.this.name, bool(item.args.get("desc"))))
    limit_node = expression.args.get("limit")
    limit = int(limit_node.expression.this) if limit_node is not None else None
    return OrderSpec(tuple(keys), limit)


def _sort_key(row: Row, spec: OrderSpec) -> tuple[tuple[int, Any], ...]:
    """Sortable key honouring DESC; NULLs sort last in both directions (Trino's default)."""
    key: list[tuple[int, Any]] = []
    for name, desc in spec.keys:
        value: Any = row[name]  # a column's values share one orderable type
        if value is None:
            key.append((1, 0))
        else:
            key.append((0, -value if desc else value))
    return tuple(key)


def _freeze(row: Row, columns: Sequence[str]) -> tuple[object, ...]:
    return tuple(row[c] for c in columns)


def mismatches(actual: Sequence[Row], truth: Sequence[Row], spec: OrderSpec) -> list[str]:
    """Why ``actual`` is not an answer the SQL allows for data whose full result is ``truth``.

    Empty list = acceptable. Rules: rows come from the truth (multiset), ``ORDER BY`` keys are
    non-decreasing in sort order, the row count is ``min(LIMIT, len(truth))``, and the multiset of
    sort keys equals the truth's best ``LIMIT`` keys - so every row strictly above the cut is
    present and only tied rows at the cut may differ.
    """
    problems: list[str] = []
    columns = list(truth[0].keys()) if truth else (list(actual[0].keys()) if actual else [])
    got = Counter(_freeze(r, columns) for r in actual)
    want = Counter(_freeze(r, columns) for r in truth)
    expected_len = len(truth) if spec.limit is None else min(spec.limit, len(truth))
    if len(actual) != expected_len:
        problems.append(f"expected {expected_len} rows, got {len(actual)}")
    extra = got - want
    if extra:
        problems.append(f"rows not in the truth (or too many of them): {sorted(extra, key=str)}")
    if spec.limit is None:
        missing = want - got
        if missing:
            problems.append(f"missing rows: {sorted(missing, key=str)}")
    if spec.ordered:
        keys = [_sort_key(r, spec) for r in actual]
        if keys != sorted(keys):
            problems.append(f"not ordered by {spec.keys}: {[k for k in keys]}")
        best = sorted(_sort_key(r, spec) for r in truth)[:expected_len]
        if sorted(keys) != best:
            problems.append(f"ORDER BY values {sorted(keys)} are not the best {best}")
    return problems
