"""One block of the decompressed object -> valid rows + quarantined records (pure, thread-safe).

This is the unit of work the pipeline runs on its worker threads; Arrow releases the GIL while
parsing, validating, casting and splitting by day, so blocks are processed in parallel.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from clickstream_common.schema import REASON_BAD_ENCODING
from transformer.config import TransformConfig
from transformer.decode import blank_undecodable_lines, count_newlines, is_valid_utf8
from transformer.dedup import fingerprints
from transformer.frame import Block, Framing, Span, frame_records
from transformer.model import QuarantineRecord
from transformer.parse import (
    TYPE_MISMATCH_RE2,
    diagnose,
    fast_parse,
    parse_by_records,
    parse_failed_block,
)
from transformer.partition import Day, split_by_day
from transformer.validate import validate


@dataclass(slots=True)
class BlockResult:
    """What a block produced. Line numbers and offsets in ``quarantine`` are block-relative
    (the pipeline shifts them once it knows how many lines came before)."""

    block: Block
    records: int
    newlines: int
    table: pa.Table
    quarantine: list[QuarantineRecord]
    spans: Framing | None
    row_spans: list[int] | None
    kept: pa.Array | None
    data: bytes | bytearray
    parsed_rows: int
    #: ``table`` split by event day, done here on the worker thread (the consumer re-splits
    #: only in the rare case that it removes duplicate rows from ``table``).
    parts: list[tuple[Day, pa.Table]]
    #: :func:`transformer.dedup.fingerprints` of ``table["event_id"]``, for the consumer's dedup.
    id_fingerprints: pa.UInt64Array

    def span_of_valid_row(self, row: int) -> Span | None:
        """The source span of row ``row`` of ``table`` (framing the block if not done yet);
        None in the pathological case where framing and reader disagree on the record count."""
        parsed_row = row if self.kept is None else self.kept[row].as_py()
        if self.row_spans is not None:
            assert self.spans is not None
            return self.spans[self.row_spans[parsed_row]]
        if self.spans is None:
            self.spans = frame_records(self.data)
        if len(self.spans) != self.parsed_rows:
            return None
        return self.spans[parsed_row]

    def text(self, span: Span) -> str:
        return self.data[span.start : span.end].decode("utf-8", "replace")


def process_block(block: Block, config: TransformConfig) -> BlockResult:
    """Decode-check, parse, validate one block; every record becomes a row or a quarantine entry."""
    data = block.data
    quarantine: list[QuarantineRecord] = []
    records = 0

    if not is_valid_utf8(data):
        data, bad_lines = blank_undecodable_lines(data)
        for line, offset, raw in bad_lines:
            quarantine.append(
                QuarantineRecord(
                    line=line,
                    offset=offset,
                    reason=REASON_BAD_ENCODING,
                    raw=raw.decode("utf-8", "replace"),
                    error="line is not valid UTF-8",
                    raw_bytes=raw,
                )
            )
        records += len(bad_lines)

    spans: Framing | None = None
    row_spans: list[int] | None = None
    table = fast_parse(data)
    if table is None:
        spans = frame_records(data, TYPE_MISMATCH_RE2)
        parsed = parse_failed_block(data, spans)
        table, row_spans = parsed.table(), parsed.row_spans
        for rej in parsed.rejected:
            quarantine.append(_entry(data, rej.span, rej.reason, rej.error))
        records += len(parsed.rejected)

    checked = validate(table, config)
    if checked.invalid:
        if spans is None:
            spans = frame_records(data)
            if len(spans) != table.num_rows:
                # The reader and the framer disagree on where records are: let the per-record
                # path produce a mapping that is right by construction.
                parsed = parse_by_records(data, spans)
                table, row_spans = parsed.table(), parsed.row_spans
                for rej in parsed.rejected:
                    quarantine.append(_entry(data, rej.span, rej.reason, rej.error))
                records += len(parsed.rejected)
                checked = validate(table, config)
        for row, reason in checked.invalid:
            span = spans[row if row_spans is None else row_spans[row]]
            text = data[span.start : span.end]
            if not text.startswith(b"{"):
                # Arrow reads a bare ``null`` record as an empty row; name it for what it is.
                found = diagnose(text)
                if found is not None:
                    quarantine.append(_entry(data, span, found[0], found[1]))
                    continue
            quarantine.append(_entry(data, span, reason, None))

    records += table.num_rows  # parsed rows, valid or not
    quarantine.sort(key=lambda q: q.offset)
    return BlockResult(
        block=block,
        records=records,
        newlines=spans.newlines if spans is not None else count_newlines(data),
        table=checked.table,
        quarantine=quarantine,
        spans=spans,
        row_spans=row_spans,
        kept=checked.kept,
        data=data,
        parsed_rows=table.num_rows,
        parts=split_by_day(checked.table),
        id_fingerprints=fingerprints(checked.table["event_id"]),
    )


def _entry(data: bytes | bytearray, span: Span, reason: str, error: str | None) -> QuarantineRecord:
    return QuarantineRecord(
        line=span.line,
        offset=span.start,
        reason=reason,
        raw=data[span.start : span.end].decode("utf-8", "replace"),
        error=error,
    )
