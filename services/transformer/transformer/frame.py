"""Cutting the decompressed stream into blocks, and blocks into records.

Blocks end at a newline so no record is split between two vectorized parses; a stream with no
newlines at all (Firehose records concatenated as ``}{``) is cut after a ``}{`` once it is
much larger than a block, so memory stays bounded for that shape too.

Records are only framed one by one (:func:`frame_records`) when a block needs it: when it
contains a bad record, or a record that must be quarantined with its text. The fast path
never looks at single records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import pyarrow.compute as pc

from transformer.decode import whole_block

_DECODER = json.JSONDecoder()
_WS = re.compile(rb"[ \t\r\n]*")
_JSON_WS = " \t\r"
_NEXT_RECORD_RE2 = r"\}[ \t\r]*\{"  # the same pattern for Arrow (RE2, runs without the GIL)
_NEXT_RECORD = re.compile(rb"\}[ \t\r]*\{")


@dataclass(frozen=True, slots=True)
class Block:
    """A run of whole lines (or whole concatenated records) of the decompressed object."""

    index: int
    offset: int
    data: bytes | bytearray


class Span(NamedTuple):
    """One record inside a block: ``data[start:end]``, on block-relative line ``line``."""

    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Framing:
    """The records of a block as parallel lists (cheap to build from Arrow, cheap to index).

    ``suspect``: indices of records that cannot be one JSON object (they do not start with
    ``{`` and end with ``}``): truncated writes, HTML error pages, bare arrays. They are
    diagnosed on their own instead of making the vectorized reader fail.
    """

    lines: list[int]
    starts: list[int]
    ends: list[int]
    suspect: list[int]
    newlines: int = 0  #: ``\\n`` characters in the block (saves the caller a count)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> Span:
        return Span(self.lines[i], self.starts[i], self.ends[i])

    def __iter__(self) -> Iterator[Span]:
        return (Span(*t) for t in zip(self.lines, self.starts, self.ends, strict=True))


def iter_blocks(chunks: Iterable[bytes | bytearray], block_size: int) -> Iterator[Block]:
    """Regroup decompressed chunks into blocks of at least ``block_size`` bytes ending in
    ``\\n`` (the last block may end anywhere). Copies each byte at most once, and not at all
    for a chunk that already is a block (ends in a newline, at least half a block long: what
    :meth:`transformer.decode.CountingReader.line_chunks` produces)."""
    pending: list[bytes | bytearray] = []
    pending_len = 0
    offset = 0
    index = 0
    for chunk in chunks:
        if not pending and chunk.endswith(b"\n") and 2 * len(chunk) >= block_size:
            yield Block(index, offset, chunk)
            offset += len(chunk)
            index += 1
            continue
        if pending_len + len(chunk) < block_size:
            pending.append(chunk)
            pending_len += len(chunk)
            continue
        cut = chunk.rfind(b"\n") + 1
        if cut == 0:
            pending.append(chunk)
            pending_len += len(chunk)
            if pending_len < 4 * block_size:
                continue
            joined = b"".join(pending)
            boundary = _last_record_boundary(joined, block_size)
            if boundary is None:
                pending = [joined]
                continue  # one enormous record: keep reading (bounded by the record itself)
            pending, chunk, cut = [], joined, boundary
        block: bytes | bytearray
        if pending:
            block = b"".join([*pending, memoryview(chunk)[:cut]])
        else:
            block = chunk if cut == len(chunk) else chunk[:cut]
        rest = chunk[cut:]
        pending, pending_len = ([rest], len(rest)) if rest else ([], 0)
        yield Block(index, offset, block)
        offset += len(block)
        index += 1
    if pending:
        yield Block(index, offset, b"".join(pending))


def _last_record_boundary(buf: bytes, block_size: int) -> int | None:
    """For a newline-free stream: just after the last ``}{`` in the final ``block_size`` bytes."""
    last = None
    for last in _NEXT_RECORD.finditer(buf, max(0, len(buf) - block_size)):  # noqa: B007
        pass
    return last.start() + 1 if last is not None else None


def frame_records(data: bytes | bytearray, suspect_pattern: str | None = None) -> Framing:
    """All records of a block, in order, as the JSON reader counts them (vectorized with Arrow;
    ``data`` must be valid UTF-8, see :func:`transformer.decode.blank_undecodable_lines`).

    Whitespace-only lines are not records. A line holding several JSON values (``}{``) is split
    with the stdlib decoder; a damaged part of such a line becomes one record that ends just
    before the next ``{`` that follows a ``}``, so the good records around it survive.
    Lines matching ``suspect_pattern`` (an RE2 regex, e.g. a field with a value of the wrong
    JSON type) are marked suspect too; a false match only costs a closer look.
    """
    if not data:
        return Framing([], [], [], [])
    lines = pc.list_flatten(pc.split_pattern(whole_block(data, text=True), "\n"))
    lengths = pc.binary_length(lines)
    line_start = pc.subtract(pc.cumulative_sum(pc.add(lengths, 1)), pc.add(lengths, 1))
    left = pc.ascii_ltrim(lines, characters=_JSON_WS)
    trimmed = pc.ascii_rtrim(left, characters=_JSON_WS)
    start = pc.add(line_start, pc.subtract(lengths, pc.binary_length(left)))
    size = pc.binary_length(trimmed)
    keep = pc.greater(size, 0)
    single_object = pc.and_(pc.starts_with(trimmed, "{"), pc.ends_with(trimmed, "}"))
    if suspect_pattern:
        single_object = pc.and_(
            single_object, pc.invert(pc.match_substring_regex(trimmed, suspect_pattern))
        )
    idx = pc.indices_nonzero(keep)
    line_list = idx.to_pylist()
    starts = pc.take(start, idx).to_pylist()
    ends = pc.take(pc.add(start, size), idx).to_pylist()
    suspect_mask = pc.take(pc.invert(single_object), idx)
    multi = pc.take(pc.match_substring_regex(trimmed, _NEXT_RECORD_RE2), idx)
    if not pc.any(multi).as_py():
        suspects = pc.indices_nonzero(suspect_mask).to_pylist()
        return Framing(line_list, starts, ends, suspects, len(lines) - 1)
    # Rare: concatenated records on one line -> split those lines in Python.
    multi_list = multi.to_pylist()
    out = Framing([], [], [], [], len(lines) - 1)
    suspect_list = suspect_mask.to_pylist()
    for k, line_no in enumerate(line_list):
        if multi_list[k]:
            for span in _split_line(data, starts[k], ends[k], line_no):
                text = data[span.start : span.end]
                _append(out, span, not (text.startswith(b"{") and text.endswith(b"}")))
        else:
            _append(out, Span(line_no, starts[k], ends[k]), suspect_list[k])
    return out


def _append(framing: Framing, span: Span, suspect: bool) -> None:
    if suspect:
        framing.suspect.append(len(framing.starts))
    framing.lines.append(span.line)
    framing.starts.append(span.start)
    framing.ends.append(span.end)


def _split_line(data: bytes | bytearray, start: int, stop: int, line_no: int) -> list[Span]:
    # latin-1 maps bytes 1:1 to characters, so decoder indices are byte offsets; UTF-8
    # multi-byte sequences only occur inside JSON strings where any character is allowed.
    raw = data[start:stop]
    text = raw.decode("latin-1")
    spans = []
    idx = 0
    n = len(text)
    while idx < n:
        blank = _WS.match(raw, idx)  # always matches (possibly the empty string)
        idx = blank.end() if blank else idx
        if idx >= n:
            break
        try:
            _, end = _DECODER.raw_decode(text, idx)
        except json.JSONDecodeError:
            nxt = _NEXT_RECORD.search(raw, idx)
            end = nxt.start() + 1 if nxt else n
        spans.append(Span(line_no, start + idx, start + end))
        idx = end
    return spans
