"""Every input shape Firehose (or a misbehaving producer) can leave in the raw bucket."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from clickstream_common.schema import (
    REASON_BAD_COMPRESSION,
    REASON_BAD_ENCODING,
    REASON_MALFORMED_JSON,
)

from .helpers import line, make_event, ndjson

EVENTS = [make_event(i) for i in range(20)]
IDS = [e["event_id"] for e in EVENTS]


def written_ids(result) -> list[str]:
    return sorted(result.events()["event_id"].to_pylist())


def test_ndjson(run):
    r = run(ndjson(EVENTS))
    assert r.stats.records_in == 20
    assert r.stats.records_written == 20
    assert written_ids(r) == sorted(IDS)
    assert r.quarantine() == []


def test_concatenated_without_separator(run):
    r = run(b"".join(line(e) for e in EVENTS))
    assert (r.stats.records_in, r.stats.records_written) == (20, 20)
    assert written_ids(r) == sorted(IDS)


def test_concatenated_with_a_bad_record_in_the_middle(run):
    data = line(EVENTS[0]) + b'{"event_id":"x",,}' + line(EVENTS[1]) + b"\n" + line(EVENTS[2])
    r = run(data)
    assert r.stats.records_in == 4
    assert written_ids(r) == sorted(IDS[:3])
    [q] = r.quarantine()
    assert q["reason"] == REASON_MALFORMED_JSON
    assert q["raw"] == '{"event_id":"x",,}'
    assert q["line"] == 1
    assert q["offset"] == len(line(EVENTS[0]))


def test_concatenated_with_spaces_and_a_brace_pair_inside_a_string(run):
    tricky = make_event(99, search_query="a}{b")
    data = line(EVENTS[0]) + b" " + line(tricky) + line(EVENTS[1]) + b"\n"
    r = run(data)
    assert r.stats.records_written == 3
    assert "a}{b" in r.events()["search_query"].to_pylist()


def test_gzip_detected_by_magic_bytes_not_name(run):
    r = run(gzip.compress(ndjson(EVENTS)))
    assert r.stats.compressed
    assert r.stats.records_written == 20
    assert r.stats.bytes_in < r.stats.bytes_decoded


def test_multi_member_gzip(run):
    data = gzip.compress(ndjson(EVENTS[:10])) + gzip.compress(ndjson(EVENTS[10:]))
    r = run(data)
    assert written_ids(r) == sorted(IDS)


def test_truncated_gzip_keeps_what_was_decodable_and_quarantines_the_rest(run):
    body = ndjson([make_event(i) for i in range(3000)])
    data = gzip.compress(body)
    r = run(data[: len(data) // 2])
    reasons = r.reasons()
    assert reasons.count(REASON_BAD_COMPRESSION) == 1
    assert 0 < r.stats.records_written < 3000
    assert r.stats.records_in == r.stats.records_written + len(reasons)


def test_corrupt_gzip_is_content_error_not_exception(run):
    data = bytearray(gzip.compress(ndjson(EVENTS)))
    data[20:40] = b"\x00" * 20
    r = run(bytes(data))
    assert REASON_BAD_COMPRESSION in r.reasons()


def test_empty_object(run):
    r = run(b"")
    assert (r.stats.records_in, r.stats.records_written, r.stats.records_quarantined) == (0, 0, 0)
    assert r.event_files() == []
    assert [f for f in r.files() if not f.startswith("manifests/")] == []


def test_empty_gzip_and_whitespace_only(run):
    assert run(gzip.compress(b"")).stats.records_in == 0
    assert run(b"\n\n  \r\n\t\n").stats.records_in == 0


def test_trailing_partial_line(run):
    data = ndjson(EVENTS[:5]) + line(EVENTS[5])[:40]
    r = run(data)
    assert r.stats.records_written == 5
    [q] = r.quarantine()
    assert q["reason"] == REASON_MALFORMED_JSON
    assert q["line"] == 6
    assert q["raw"] == line(EVENTS[5])[:40].decode()


def test_last_line_without_newline_is_a_record(run):
    r = run(ndjson(EVENTS[:5]) + line(EVENTS[5]))
    assert r.stats.records_written == 6


def test_utf8_bom(run):
    r = run(b"\xef\xbb\xbf" + ndjson(EVENTS))
    assert r.stats.records_written == 20
    assert r.quarantine() == []


def test_gzip_with_bom_inside(run):
    r = run(gzip.compress(b"\xef\xbb\xbf" + ndjson(EVENTS)))
    assert r.stats.records_written == 20


def test_crlf_and_blank_lines(run):
    data = b"\r\n\r\n" + ndjson(EVENTS[:3]).replace(b"\n", b"\r\n\r\n   \n") + b"\n\n"
    r = run(data)
    assert (r.stats.records_in, r.stats.records_written) == (3, 3)


def test_line_numbers_count_blank_lines(run):
    data = ndjson(EVENTS[:2]) + b"\n\n" + b"not json\n" + ndjson(EVENTS[2:4])
    r = run(data)
    [q] = r.quarantine()
    assert q["line"] == 5
    assert q["offset"] == len(ndjson(EVENTS[:2])) + 2


def test_non_utf8_line_is_quarantined_with_original_bytes(run):
    bad = line(make_event(500, city="K\xf6ln")).replace(b"K\\u00f6ln", b"K\xf6ln")
    assert b"\xf6" in bad
    data = ndjson(EVENTS[:3]) + bad + b"\n" + ndjson(EVENTS[3:6])
    r = run(data)
    assert r.stats.records_written == 6
    [q] = r.quarantine()
    assert q["reason"] == REASON_BAD_ENCODING
    assert q["line"] == 4
    assert "K\ufffdln" in q["raw"]
    import base64

    assert base64.b64decode(q["raw_base64"]) == bad


def test_valid_non_ascii_text_is_kept(run):
    r = run(ndjson([make_event(1, city="Zürich", search_query="日本 😀")]))
    assert r.events()["city"].to_pylist() == ["Zürich"]
    assert r.events()["search_query"].to_pylist() == ["日本 😀"]


@pytest.mark.parametrize("block_size", [64, 1000, 4096])
def test_small_blocks_give_same_result_as_one_block(run, tmp_path, block_size):
    events = [make_event(i) for i in range(300)]
    parts = []
    for i, e in enumerate(events):
        parts.append(line(e) + (b"\n" if i % 7 else b"\r\n\n"))
        if i % 50 == 25:
            parts.append(b'{"broken": \n')
    data = b"".join(parts)
    one = run(data, root=tmp_path / "one")
    many = run(data, root=tmp_path / "many", block_size=block_size)
    assert (
        one.stats.to_dict()["quarantined_by_reason"]
        == many.stats.to_dict()["quarantined_by_reason"]
    )
    assert one.events().equals(many.events())
    assert one.quarantine() == many.quarantine()
    assert many.stats.records_in == 306


def test_huge_concatenated_stream_without_newlines_is_cut_in_blocks(run):
    events = [make_event(i) for i in range(2000)]
    data = b"".join(line(e) for e in events)
    r = run(data, block_size=16 * 1024)
    assert r.stats.records_written == 2000


def test_stream_input_like_s3_body(run):
    r = run(io.BytesIO(gzip.compress(ndjson(EVENTS))))  # type: ignore[arg-type]
    assert r.stats.records_written == 20


def test_raw_deflate_is_not_mistaken_for_gzip(run):
    r = run(zlib.compress(ndjson(EVENTS)))
    assert r.stats.records_written == 0
    assert r.stats.records_in >= 1


class _ShortReads(io.RawIOBase):
    """A socket-like stream: ``readinto`` returns at most 777 bytes per call."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        chunk = self._inner.read(min(len(buffer), 777))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class _ReadOnly:
    """A stream with ``read`` only (no ``readinto``)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)


def _awkward_input() -> bytes:
    """BOM, CRLF, blank lines, a line longer than a block, a bad record, no final newline."""
    parts = [b"\xef\xbb\xbf"]
    for i in range(400):
        e = make_event(i, search_query="x" * 3000) if i == 150 else make_event(i)
        parts.append(line(e) + (b"\n" if i % 9 else b"\r\n\n"))
        if i == 222:
            parts.append(b'{"broken": \n')
    parts.append(line(make_event(400)))
    return b"".join(parts)


@pytest.mark.parametrize("kind", ["bytesio", "short_reads", "read_only", "bytearray"])
@pytest.mark.parametrize("block_size", [1024, 4096, 1 << 20])
def test_every_kind_of_input_stream_gives_the_same_result_as_bytes(run, tmp_path, kind, block_size):
    data = _awkward_input()
    wrap = {
        "bytesio": io.BytesIO,
        "short_reads": _ShortReads,
        "read_only": _ReadOnly,
        "bytearray": bytearray,
    }[kind]
    expected = run(data, root=tmp_path / "bytes", block_size=1 << 20)
    got = run(wrap(data), root=tmp_path / kind, block_size=block_size)  # type: ignore[arg-type]
    assert got.stats.records_in == expected.stats.records_in == 402
    assert got.stats.bytes_in == len(data)
    assert got.events().equals(expected.events())
    assert got.quarantine() == expected.quarantine()
    [entry] = got.quarantine()
    assert entry["line"] == 223 + (222 // 9 + 1) + 1  # 1-based, blank lines counted


def test_line_chunks_end_at_newlines_without_regrouping():
    from transformer.decode import CountingReader
    from transformer.frame import iter_blocks

    data = b"".join(line(make_event(i)) + b"\n" for i in range(300))
    reader = CountingReader(io.BytesIO(data), 4096)
    chunks = list(reader.line_chunks())
    assert b"".join(chunks) == data
    assert all(c.endswith(b"\n") for c in chunks)
    assert reader.bytes_read == len(data)
    blocks = list(iter_blocks(iter(chunks), 4096))
    assert [b.data for b in blocks] == chunks  # each chunk is a block as it is: no copy


def test_read_buffers_are_reused_only_when_nothing_views_them():
    import pyarrow as pa

    from transformer.decode import CountingReader

    data = b"".join(line(make_event(i)) + b"\n" for i in range(300))
    reader = CountingReader(io.BytesIO(data), 4096)
    chunks = reader.line_chunks()
    first = next(chunks)
    expected_first = bytes(first)
    view = pa.py_buffer(first)  # e.g. a table that still points into the block
    reader.recycle(first)
    second = next(chunks)
    assert second is not first  # still viewed: not reused
    assert bytes(view) == expected_first  # and not overwritten
    del view
    got = [expected_first, bytes(second)]
    reader.recycle(second)
    third = next(chunks)
    assert third is second  # unviewed: reused
    got += [bytes(third), *(bytes(c) for c in chunks)]
    assert b"".join(got) == data
