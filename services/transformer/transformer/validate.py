"""Rows in the lenient read schema -> rows in the contract's Arrow schema, plus a reason for
every row that cannot be kept. Fully vectorized; no Python loop over rows.

Rules (first failing rule wins, in this order):
1. ``missing_field:<name>``: a required field is absent, null or the empty string.
2. ``bad_type:<name>``, for each field in contract order, by the contract's type of the field:
   a ``timestamp`` is not ISO-8601 *with* a zone (``Z`` or ``+hh:mm``; a zoneless time is
   ambiguous), a ``float64`` is NaN/Infinity, an ``int32`` is not an integer in int32 range
   (``2.0`` is accepted as 2, ``1.5`` is not). A new field of one of these types needs no code
   here. Wrong JSON types (a string price) are caught earlier by the reader and diagnosed per
   record in :mod:`transformer.parse`.
3. ``unknown_event_type``: not in ``EVENT_TYPES``.
4. ``timestamp_out_of_range``: outside ``[config.min_timestamp, now + config.max_future]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from clickstream_common.schema import (
    EVENT_TIME_FIELD,
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
_FIELD_TYPES: dict[str, str] = {f.name: f.type for f in FIELDS}


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


def _finite_float(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A ``float64`` field: NaN and +/-Infinity are not numbers an analyst can sum."""
    return values, pc.fill_null(pc.invert(pc.is_finite(values)), False)


def _int32(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """An ``int32`` field, read as float64: integral (``2.0`` is 2) and within int32 range."""
    ok = pc.and_(
        pc.equal(pc.floor(values), values),
        pc.and_(pc.greater_equal(values, _INT32_MIN), pc.less_equal(values, _INT32_MAX)),
    )
    # Cast to int32 only after the bad rows are filtered out (the cast would fail on them).
    return values, pc.fill_null(pc.invert(ok), False)


#: Contract type -> ``values -> (converted values, bad-type mask)``; strings need no check.
_TYPE_CHECKS: dict[str, Callable[[pa.Array], tuple[pa.Array, pa.Array]]] = {
    "timestamp": parse_timestamps,
    "float64": _finite_float,
    "int32": _int32,
}


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

    converted: dict[str, pa.Array] = {}
    for f in FIELDS:
        check = _TYPE_CHECKS.get(f.type)
        if check is not None:
            converted[f.name], bad = check(_combine(table[f.name]))
            checks.append((bad, bad_type(f.name)))
    ts = converted[EVENT_TIME_FIELD]

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
        converted = {name: values.filter(keep) for name, values in converted.items()}

    columns = [
        pc.cast(converted[f.name], f.type) if f.name in converted else table[f.name] for f in SCHEMA
    ]
    result = pa.Table.from_arrays(columns, schema=SCHEMA)
    assert result.num_rows == n - n_bad
    return Validated(result, invalid, kept)
