"""Units with sharp edges: block cutting, record framing, UTF-8 checks, dedup, day split."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from transformer.decode import blank_undecodable_lines, is_valid_utf8
from transformer.dedup import DuplicateFilter
from transformer.frame import frame_records, iter_blocks
from transformer.partition import Day, split_by_day

from .helpers import line, make_event


def test_blocks_end_at_newlines_and_cover_the_input():
    data = b"".join(line(make_event(i)) + b"\n" for i in range(100))
    chunks = [data[i : i + 333] for i in range(0, len(data), 333)]
    blocks = list(iter_blocks(chunks, 1000))
    assert b"".join(b.data for b in blocks) == data
    assert all(b.data.endswith(b"\n") for b in blocks)
    assert [b.offset for b in blocks] == [
        sum(len(x.data) for x in blocks[:i]) for i in range(len(blocks))
    ]


def test_newline_free_stream_is_cut_after_a_closing_brace():
    data = b"".join(line(make_event(i)) for i in range(100))
    blocks = list(iter_blocks([data[i : i + 500] for i in range(0, len(data), 500)], 1000))
    assert len(blocks) > 5
    assert b"".join(b.data for b in blocks) == data
    assert all(b.data.startswith(b"{") and b.data.endswith(b"}") for b in blocks)


def test_frame_records_lines_offsets_and_concatenation():
    data = b'{"a":1}\r\n\n  {"b":2}{"c":3}\n{bad}{"d":4}\n   \n{"e":5'
    spans = frame_records(data)
    texts = [data[s.start : s.end] for s in spans]
    assert texts == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b"{bad}", b'{"d":4}', b'{"e":5']
    assert [s.line for s in spans] == [0, 2, 2, 3, 3, 5]


def test_utf8_validation_and_blanking_keeps_offsets():
    assert is_valid_utf8("ünïcödé 😀".encode())
    assert not is_valid_utf8(b"ok\n\xff\xfe\n")
    data = b"good\nba\xffd\nalso good\n"
    cleaned, bad = blank_undecodable_lines(data)
    assert len(cleaned) == len(data)
    assert cleaned == b"good\n    \nalso good\n"
    assert bad == [(1, 5, b"ba\xffd")]


def test_dedup_across_calls():
    f = DuplicateFilter()
    assert f.duplicates(["a", "b"]) == []
    assert f.duplicates(["c", "a", "c", "d"]) == [1, 2]
    assert f.duplicates(["d"]) == [0]


def test_split_by_day_utc():
    ts = pa.array(
        [datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)],
        pa.timestamp("us", tz="UTC"),
    )
    parts = split_by_day(pa.table({"event_timestamp": ts, "x": [1, 2]}))
    assert [(d, t["x"].to_pylist()) for d, t in parts] == [
        (Day("2024", "12", "31"), [1]),
        (Day("2025", "01", "01"), [2]),
    ]


def test_dedup_takes_arrow_arrays_and_recovers_after_the_slow_path():
    f = DuplicateFilter()
    assert f.duplicates(pa.array(["a", "b"])) == []
    assert f.duplicates(pa.chunked_array([["c", "a"], ["c", "d"]])) == [1, 2]
    assert f.duplicates(pa.array(["e", "f"])) == []  # the fast path again
    assert f.duplicates(pa.array(["f", "b", "g", "g", "d"])) == [0, 1, 3, 4]
    assert f.duplicates(pa.array(["h"])) == []
