"""Rows in the lenient read schema -> rows in the contract's Arrow schema, plus a reason for
every row that cannot be kept. Fully vectorized; no Python loop over rows.

Rules (first failing rule wins, in this order):
1. ``missing_field:<name>``: a required field is absent, null or the empty string.
2. ``bad_type:<name>``: ``event_timestamp`` is not ISO-8601 *with* a zone (``Z`` or ``+hh:mm``;
   a zoneless time is ambiguous), ``price`` is NaN/Infinity, ``quantity`` is not an integer in
   int32 range (``2.0`` is accepted as 2, ``1.5`` is not). Wrong JSON types (a string price)
   are caught earlier by the reader and diagnosed per record in :mod:`transformer.parse`.
3. ``unknown_event_type``: not in ``EVENT_TYPES``.
4. ``timestamp_out_of_range``: outside ``[config.min_timestamp, now + config.max_future]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from clickstream_common.schema import (
    EVENT_TYPES,
    FIELDS,
    REASON_TIMESTAMP_OUT_OF_RANGE,
    REASON_UNKNOWN_EVENT_TYPE,
    REQUIRED_FIELDS,
    arrow_schema,
    bad_type,
    missing_field,
)
from transformer.config import TransformConfig

TIMESTAMP = pa.timestamp("us", tz="UTC")
SCHEMA = arrow_schema()
_EVENT_TYPES = pa.array(EVENT_TYPES, pa.string())
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_FIELD_TYPES = {f.name: f.type for f in FIELDS}


@dataclass(frozen=True, slots=True)
class Validated:
    """``table``: the valid rows in ``SCHEMA``. ``invalid``: ``(row, reason)`` in input order.
    ``kept``: input row index of each valid row, or None when every row is valid."""

    table: pa.Table
    invalid: list[tuple[int, str]]
    kept: pa.Array | None


def parse_timestamps(strings: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Cast ISO-8601 strings to UTC microseconds; unparseable values become null and flagged.

    One cast for the whole array in the normal case; when it fails the array is bisected, so
    k bad values cost O(k log n) casts of shrinking slices rather than a Python loop.
    """
    try:
        return pc.cast(strings, TIMESTAMP), pa.array([False] * len(strings), pa.bool_())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(strings) == 1:
            try:  # sub-microsecond digits (".1234567Z") are valid ISO-8601: truncate to us
                nanos = pc.cast(strings, pa.timestamp("ns", tz="UTC"))
                return pc.cast(nanos, TIMESTAMP, safe=False), pa.array([False], pa.bool_())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return pa.nulls(1, TIMESTAMP), pa.array([strings[0].is_valid], pa.bool_())
        mid = len(strings) // 2
        left, lbad = parse_timestamps(strings.slice(0, mid))
        right, rbad = parse_timestamps(strings.slice(mid))
        return pa.concat_arrays([left, right]), pa.concat_arrays([lbad, rbad])


def _combine(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):  # combine_chunks copies even a single chunk
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column


def validate(table: pa.Table, config: TransformConfig) -> Validated:
    """Apply the rules above; return the valid rows converted to the contract schema."""
    n = table.num_rows
    if n == 0:
        return Validated(SCHEMA.empty_table(), [], None)
    checks: list[tuple[pa.Array, str]] = []

    for name in REQUIRED_FIELDS:
        col = _combine(table[name])
        missing = pc.is_null(col)
        if _FIELD_TYPES[name] in ("string", "timestamp"):
            missing = pc.or_(missing, pc.fill_null(pc.equal(col, ""), False))
        checks.append((missing, missing_field(name)))

    ts, ts_bad = parse_timestamps(_combine(table["event_timestamp"]))
    checks.append((ts_bad, bad_type("event_timestamp")))

    price = _combine(table["price"])
    checks.append((pc.fill_null(pc.invert(pc.is_finite(price)), False), bad_type("price")))

    qty = _combine(table["quantity"])
    qty_ok = pc.and_(
        pc.equal(pc.floor(qty), qty),
        pc.and_(pc.greater_equal(qty, _INT32_MIN), pc.less_equal(qty, _INT32_MAX)),
    )
    checks.append((pc.fill_null(pc.invert(qty_ok), False), bad_type("quantity")))

    etype = _combine(table["event_type"])
    unknown = pc.fill_null(pc.invert(pc.is_in(etype, value_set=_EVENT_TYPES)), False)
    checks.append((unknown, REASON_UNKNOWN_EVENT_TYPE))

    lo = pa.scalar(config.min_timestamp, TIMESTAMP)
    hi = pa.scalar(config.max_timestamp(), TIMESTAMP)
    out_of_range = pc.fill_null(pc.or_(pc.less(ts, lo), pc.greater(ts, hi)), False)
    checks.append((out_of_range, REASON_TIMESTAMP_OUT_OF_RANGE))

    bad_any = checks[0][0]
    for mask, _ in checks[1:]:
        bad_any = pc.or_(bad_any, mask)
    n_bad = pc.sum(bad_any).as_py() or 0

    invalid: list[tuple[int, str]] = []
    kept: pa.Array | None = None
    if n_bad:
        # First failing rule per row, vectorized: later rules are overwritten by earlier ones.
        rule = pa.nulls(n, pa.int8())
        for i in range(len(checks) - 1, -1, -1):
            rule = pc.if_else(checks[i][0], pa.scalar(i, pa.int8()), rule)
        bad_rows = pc.indices_nonzero(bad_any)
        reasons = [checks[i][1] for i in pc.take(rule, bad_rows).to_pylist()]
        invalid = list(zip(bad_rows.to_pylist(), reasons, strict=True))
        keep = pc.invert(bad_any)
        kept = pc.indices_nonzero(keep)
        table = table.filter(keep)
        ts = ts.filter(keep)
        qty = qty.filter(keep)

    columns = []
    for f in SCHEMA:
        if f.name == "event_timestamp":
            columns.append(ts)
        elif f.name == "quantity":
            columns.append(pc.cast(qty, pa.int32()))
        else:
            columns.append(table[f.name])
    result = pa.Table.from_arrays(columns, schema=SCHEMA)
    assert result.num_rows == n - n_bad
    return Validated(result, invalid, kept)
