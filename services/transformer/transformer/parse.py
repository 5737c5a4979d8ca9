"""JSON text -> Arrow rows, vectorized, with an exact per-record fallback.

The fast path hands a whole block to Arrow's JSON reader with an explicit, *lenient* read schema
(timestamps as strings, integers as float64), so the reader itself only fails on syntax and
JSON-type mismatches, and those errors name the row. When a block fails, its records are framed
and the block is re-parsed from the failing row onward: the good rows before a bad record are
parsed again as one slice, the bad record is diagnosed on its own. One bad record therefore
costs about one extra parse of the rows before it, never a per-line pass over the file.
Type coercion and range checks are vectorized in :mod:`transformer.validate`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.json as pj

from clickstream_common.schema import (
    FIELDS,
    REASON_MALFORMED_JSON,
    REASON_NOT_AN_OBJECT,
    REQUIRED_FIELDS,
    bad_type,
    missing_field,
)
from transformer.frame import Framing, Span

_READ_TYPES = {
    "string": pa.string(),
    "timestamp": pa.string(),  # parsed in validate: the reader's own errors carry no row
    "float64": pa.float64(),
    "int32": pa.float64(),  # 1.5 or 3e9 must not fail the whole block; checked in validate
}

#: The schema the JSON reader uses; every field nullable, unknown fields (dropped ones) ignored.
READ_SCHEMA = pa.schema([pa.field(f.name, _READ_TYPES[f.type]) for f in FIELDS])

_PARSE_OPTIONS = pj.ParseOptions(explicit_schema=READ_SCHEMA, unexpected_field_behavior="ignore")


def _type_mismatch_pattern() -> str:
    """RE2 for a contract field whose value starts like the wrong JSON type (a string field
    holding a number/object/bool, a number field holding a string/object/bool). Used only on
    blocks that already failed, to pick records to diagnose alone instead of letting each one
    fail a vectorized parse; it may over-match (nested keys), never at the cost of a record."""
    text = [f.name for f in FIELDS if f.type in ("string", "timestamp")]
    numbers = [f.name for f in FIELDS if f.type in ("float64", "int32")]
    return (
        rf'"(?:{"|".join(text)})"\s*:\s*[^"\sn]'
        rf'|"(?:{"|".join(numbers)})"\s*:\s*[^-0-9\sn]'
    )


#: See :func:`_type_mismatch_pattern`.
TYPE_MISMATCH_RE2 = _type_mismatch_pattern()
_ROW_RE = re.compile(r"in row (\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record the parser could not turn into a row: block-relative span, reason, detail."""

    span: Span
    reason: str
    error: str


def read_rows(data: bytes | bytearray | pa.Buffer) -> pa.Table:
    """Parse JSON records with the read schema in one call (raises ``pa.ArrowInvalid``)."""
    buf = data if isinstance(data, pa.Buffer) else pa.py_buffer(data)
    options = pj.ReadOptions(use_threads=False, block_size=max(buf.size + 1, 1 << 16))
    try:
        return pj.read_json(
            pa.BufferReader(buf), read_options=options, parse_options=_PARSE_OPTIONS
        )
    except pa.ArrowInvalid as exc:
        if "Empty JSON file" in str(exc):
            return READ_SCHEMA.empty_table()
        raise


def error_row(exc: Exception) -> int | None:
    """The 0-based row Arrow blames in a parse error, if it names one."""
    match = _ROW_RE.search(str(exc))
    return int(match.group(1)) if match else None


def diagnose(text: bytes | bytearray) -> tuple[str, str] | None:
    """Why a single record cannot be a row, using the same rules as the vectorized path.

    Returns ``(reason, detail)`` or None when the stdlib finds nothing wrong (the caller then
    lets Arrow decide on the record alone). Missing required fields are reported before type
    errors, like in :func:`transformer.validate.validate`.
    """
    try:
        obj = json.loads(text)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        return REASON_MALFORMED_JSON, str(exc)
    if not isinstance(obj, dict):
        return REASON_NOT_AN_OBJECT, f"top-level JSON value is {type(obj).__name__}"
    for name in REQUIRED_FIELDS:
        if obj.get(name) in (None, ""):
            return missing_field(name), f"{name} is absent, null or empty"
    for f in FIELDS:
        value = obj.get(f.name)
        if value is None:
            continue
        if f.type in ("string", "timestamp"):
            ok = isinstance(value, str)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            return bad_type(f.name), f"{f.name}: expected {f.type}, got {type(value).__name__}"
    return None


@dataclass(slots=True)
class RowParse:
    """Result of parsing a failed block record by record ranges."""

    tables: list[pa.Table] = field(default_factory=list)
    row_spans: list[int] = field(default_factory=list)  # span index of every row, in order
    rejected: list[Rejected] = field(default_factory=list)

    def table(self) -> pa.Table:
        if not self.tables:
            return READ_SCHEMA.empty_table()
        return pa.concat_tables(self.tables)


#: Records of a failed block are re-parsed in chunks of about this many bytes: a chunk without
#: a bad record costs one parse; a chunk with one costs ~1.5 parses plus two reader calls
#: (~0.25 ms fixed cost each), which balances well for error rates around 0.1-1%.
RETRY_CHUNK_BYTES = 512 * 1024


class _Survivors:
    """The records of a framing that are left after the prescreen, indexable like spans."""

    def __init__(self, framing: Framing, keep: list[int]) -> None:
        self.framing = framing
        self.keep = keep

    def __len__(self) -> int:
        return len(self.keep)

    def __getitem__(self, i: int) -> Span:
        return self.framing[self.keep[i]]


def parse_failed_block(data: bytes | bytearray, framing: Framing) -> RowParse:
    """Parse a block whose fast parse failed; every record ends up a row or a :class:`Rejected`.

    1. Records that cannot be one object (``suspect``: truncated, HTML, arrays) or that look
       like a JSON-type error (:data:`TYPE_MISMATCH_RE2`) are diagnosed alone; the bad ones are
       blanked, so they cost no reader call.
    2. The rest is parsed in one call; if that still fails, in ~512 KB chunks by
       :func:`parse_by_records`: Arrow names the row of an error, the rows before it are parsed
       as one slice, the bad one is diagnosed alone.
    """
    rejected: list[Rejected] = []
    dropped: set[int] = set()
    for k in framing.suspect:
        span = framing[k]
        found = diagnose(data[span.start : span.end])
        if found is not None:
            rejected.append(Rejected(span, *found))
            dropped.add(k)
    if dropped:
        buf = bytearray(data)
        for k in dropped:
            span = framing[k]
            buf[span.start : span.end] = b" " * (span.end - span.start)
        data = buf  # parsed as it is: no second copy
        keep = [k for k in range(len(framing)) if k not in dropped]
    else:
        keep = list(range(len(framing)))
    try:  # the prescreen usually caught every bad record: then one parse does it
        table = read_rows(data)
    except pa.ArrowInvalid:
        table = None
    if table is not None and table.num_rows == len(keep):
        return RowParse([table], keep, sorted(rejected, key=lambda rej: rej.span.start))
    per_chunk = max(32, round(RETRY_CHUNK_BYTES * len(keep) / max(1, len(data))))
    parsed = parse_by_records(data, _Survivors(framing, keep), per_chunk)
    parsed.row_spans = [keep[i] for i in parsed.row_spans]
    parsed.rejected = sorted(rejected + parsed.rejected, key=lambda rej: rej.span.start)
    return parsed


def parse_by_records(
    data: bytes | bytearray, spans: Framing | _Survivors | list[Span], per_chunk: int | None = None
) -> RowParse:
    """Parse ``spans`` in chunks of ``per_chunk`` records; on an error Arrow attributes to a
    row, parse the rows before it as one slice and diagnose the bad one alone; on an error
    without a row (or a record-count disagreement), bisect. Every span ends up a row or a
    :class:`Rejected`, whatever the reader does: correct by construction."""
    out = RowParse()
    buf = pa.py_buffer(data)

    def add(table: pa.Table, first: int) -> None:
        out.tables.append(table)
        out.row_spans.extend(range(first, first + table.num_rows))

    def single(k: int) -> None:
        span = spans[k]
        text = data[span.start : span.end]
        found = diagnose(text)
        if found is None:
            try:
                table = read_rows(text)
            except pa.ArrowInvalid as exc:
                found = (REASON_MALFORMED_JSON, str(exc))
            else:
                if table.num_rows == 1:
                    add(table, k)
                    return
                found = (REASON_MALFORMED_JSON, f"{table.num_rows} JSON values in one record")
        out.rejected.append(Rejected(span, found[0], found[1]))

    def parse_range(i: int, j: int) -> None:
        while i < j:
            start = spans[i].start
            try:
                table = read_rows(buf.slice(start, spans[j - 1].end - start))
            except pa.ArrowInvalid as exc:
                r = error_row(exc)
                if r is not None and r < j - i:
                    if r:
                        parse_range(i, i + r)
                    single(i + r)
                    i += r + 1
                    continue
                _bisect(i, j)
                return
            if table.num_rows == j - i:
                add(table, i)
                return
            _bisect(i, j)  # framing and reader disagree on record count: settle it per record
            return

    def _bisect(i: int, j: int) -> None:
        if j - i == 1:
            single(i)
            return
        mid = (i + j) // 2
        parse_range(i, mid)
        parse_range(mid, j)

    step = per_chunk or max(1, len(spans))
    for first in range(0, len(spans), step):
        parse_range(first, min(first + step, len(spans)))
    return out


def fast_parse(data: bytes | bytearray) -> pa.Table | None:
    """Parse a whole block in one vectorized call; None if any record in it is bad."""
    try:
        return read_rows(data)
    except pa.ArrowInvalid:
        return None
