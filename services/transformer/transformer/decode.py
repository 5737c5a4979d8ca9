"""Bytes of a raw object -> decompressed bytes, and UTF-8 checks per block.

Firehose may or may not GZIP its output, and object names do not say which, so compression is
detected by the magic bytes. Decompression streams (bounded memory) and accepts multi-member
GZIP (concatenated gzip files are valid and some writers produce them). A corrupt or truncated
stream is a *content* problem: everything before the damage is still yielded and the damage is
reported by :class:`CorruptCompressionError` after the last good chunk.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
READ_SIZE = 4 << 20


class Readable(Protocol):
    """What the pipeline needs from its input: a file, an S3 StreamingBody, a BytesIO."""

    def read(self, size: int = ..., /) -> bytes: ...


class CorruptCompressionError(Exception):
    """Raised (after all decodable data was yielded) when a GZIP stream is damaged."""

    def __init__(self, message: str, compressed_offset: int) -> None:
        super().__init__(message)
        self.compressed_offset = compressed_offset


class CountingReader:
    """Reads fixed-size chunks from a stream or bytes and counts the raw bytes seen."""

    def __init__(self, source: bytes | bytearray | memoryview | Readable, read_size: int) -> None:
        self._source = source
        self._read_size = read_size
        self.bytes_read = 0

    def chunks(self) -> Iterator[bytes]:
        if isinstance(self._source, bytes | bytearray | memoryview):
            data = memoryview(self._source)
            for i in range(0, len(data), self._read_size):
                chunk = bytes(data[i : i + self._read_size])
                self.bytes_read += len(chunk)
                yield chunk
            return
        while True:
            chunk = self._source.read(self._read_size)
            if not chunk:
                return
            self.bytes_read += len(chunk)
            yield chunk


def _peek(chunks: Iterator[bytes], n: int) -> tuple[bytes, Iterator[bytes]]:
    """First ``n`` bytes of the stream (fewer if it is shorter) and an iterator over all of it."""
    head = b""
    buffered: list[bytes] = []
    for chunk in chunks:
        buffered.append(chunk)
        head += chunk[: n - len(head)]
        if len(head) >= n:
            break

    def rest() -> Iterator[bytes]:
        yield from buffered
        yield from chunks

    return head, rest()


def _gunzip(chunks: Iterable[bytes], out_size: int) -> Iterator[bytes]:
    """Stream-decompress one or more concatenated GZIP members, ``out_size`` bytes at a time."""
    decomp = zlib.decompressobj(wbits=31)
    fed = 0
    in_member = False
    for chunk in chunks:
        fed += len(chunk)
        data = chunk
        while data:
            in_member = True
            try:
                out = decomp.decompress(data, out_size)
            except zlib.error as exc:
                raise CorruptCompressionError(f"corrupt gzip stream: {exc}", fed) from None
            if out:
                yield out
            if decomp.eof:
                data = decomp.unused_data
                decomp = zlib.decompressobj(wbits=31)
                in_member = False
            else:
                data = decomp.unconsumed_tail
    if in_member:
        tail = decomp.flush()
        if tail:
            yield tail
        raise CorruptCompressionError("truncated gzip stream", fed)


def decoded_chunks(
    source: bytes | bytearray | memoryview | Readable, read_size: int = READ_SIZE
) -> tuple[bool, Iterator[bytes], CountingReader]:
    """Return ``(compressed, chunks, reader)``: the object's decompressed bytes, BOM removed.

    ``reader.bytes_read`` counts the raw (possibly compressed) bytes once iteration is done.
    """
    reader = CountingReader(source, read_size)
    head, chunks = _peek(reader.chunks(), 3)
    compressed = head.startswith(GZIP_MAGIC)
    stream = _gunzip(chunks, read_size) if compressed else chunks
    return compressed, _strip_bom(stream), reader


def _strip_bom(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Drop a UTF-8 byte order mark at the very start of the object (some SDKs write one)."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= len(UTF8_BOM):
            break
    if head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM) :]
    if head:
        yield head
    yield from chunks


def is_valid_utf8(block: bytes) -> bool:
    """Validate UTF-8 without copying (Arrow's SIMD validator, ~20 GB/s vs ~1.5 GB/s decode)."""
    offsets = pa.array([0, len(block)], pa.int64()).buffers()[1]
    arr = pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(block))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def blank_undecodable_lines(block: bytes) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """Replace each line that is not valid UTF-8 by spaces of the same length.

    Returns the cleaned block and ``(line_index, byte_offset, original_line)`` of every blanked
    line. Blanking (rather than cutting) keeps offsets and line numbers of everything else
    unchanged, and the JSON reader skips whitespace-only lines.

    Vectorized (this runs on worker threads, so Python loops would serialize them on the GIL):
    Arrow splits the lines, keeps those with non-ASCII bytes, and the bad ones are found by
    bisecting Arrow's UTF-8 validation over that subset.
    """
    offsets = pa.array([0, len(block)], pa.int64()).buffers()[1]
    whole = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), 1, [None, offsets, pa.py_buffer(block)]
    )
    lines = pc.list_flatten(pc.split_pattern(whole, b"\n"))
    text = lines.view(pa.large_string())  # reinterpreted, not validated: only ASCII is checked
    non_ascii = pc.indices_nonzero(pc.invert(pc.string_is_ascii(text)))
    if len(non_ascii) == 0:
        return block, []
    suspects = pc.take(text, non_ascii)
    bad_rows = [non_ascii[i].as_py() for i in _invalid_utf8(suspects, 0)]
    if not bad_rows:
        return block, []
    lengths = pc.binary_length(lines)
    starts = pc.subtract(pc.cumulative_sum(pc.add(lengths, 1)), pc.add(lengths, 1))
    out = bytearray(block)
    bad: list[tuple[int, int, bytes]] = []
    for row in bad_rows:
        start, size = starts[row].as_py(), lengths[row].as_py()
        bad.append((row, start, block[start : start + size]))
        out[start : start + size] = b" " * size
    return bytes(out), bad


def _invalid_utf8(strings: pa.Array, base: int) -> list[int]:
    """Indices (plus ``base``) of the elements that are not valid UTF-8, by bisection."""
    try:
        strings.validate(full=True)
    except pa.ArrowInvalid:
        if len(strings) == 1:
            return [base]
        mid = len(strings) // 2
        return _invalid_utf8(strings.slice(0, mid), base) + _invalid_utf8(
            strings.slice(mid), base + mid
        )
    return []
