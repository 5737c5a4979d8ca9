"""Property tests: any mix of good and corrupted records reconciles exactly and never raises."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transformer.model import SourceRef
from transformer.pipeline import process_object
from transformer.sink import LocalSink

from .helpers import config, line, make_event

SRC = SourceRef("raw", "raw/2024/12/25/10/prop")

CORRUPTIONS = {
    "truncate": lambda e: line(e)[: len(line(e)) // 2],
    "bad_price": lambda e: line({**e, "price": "abc"}),
    "bad_quantity": lambda e: line({**e, "quantity": 1.5}),
    "missing_user": lambda e: line({k: v for k, v in e.items() if k != "user_id"}),
    "unknown_type": lambda e: line({**e, "event_type": "wat"}),
    "old": lambda e: line({**e, "event_timestamp": "1990-01-01T00:00:00Z"}),
    "naive_ts": lambda e: line({**e, "event_timestamp": "2024-12-25T10:00:00"}),
    "array": lambda e: b"[1,2]",
    "latin1": lambda e: line(e).replace(b'"Berlin"', b'"K\xf6ln"'),
    "nested_city": lambda e: line({**e, "city": {"x": 1}}),
}
# Garbage without braces, whitespace or newlines: exactly one record, never valid. (A line that
# is exactly a UTF-8 BOM is not a record when it opens the object: it *is* the BOM.)
garbage = (
    st.binary(min_size=1, max_size=40)
    .map(lambda b: bytes(x for x in b if x not in b"{}\r\n\t \x0b\x0c") or b"?")
    .filter(lambda b: b != b"\xef\xbb\xbf")
)

item = st.one_of(
    st.tuples(st.just("good"), st.integers(0, 40)),
    st.tuples(st.sampled_from(sorted(CORRUPTIONS)), st.integers(0, 40)),
    st.tuples(st.just("garbage"), garbage),
)


def render(kind: str, arg) -> bytes:
    if kind == "good":
        return line(make_event(arg))
    if kind == "garbage":
        return arg
    return CORRUPTIONS[kind](make_event(arg))


def run(data: bytes, block_size: int):
    with TemporaryDirectory() as tmp:
        stats = process_object(data, SRC, LocalSink(Path(tmp)), config(block_size=block_size))
        quarantined = []
        for f in Path(tmp).rglob("*.jsonl"):
            quarantined += [json.loads(x) for x in f.read_text().splitlines()]
        import pyarrow.parquet as pq

        ids = []
        for f in Path(tmp).rglob("*.parquet"):
            ids += pq.read_table(f, partitioning=None)["event_id"].to_pylist()
        return stats, quarantined, ids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(item, max_size=60),
    sep=st.sampled_from([b"\n", b"\r\n", b"\n\n"]),
    block_size=st.sampled_from([64, 300, 4096, 1 << 20]),
    compress=st.booleans(),
)
def test_line_separated_mix_is_exactly_accounted(items, sep, block_size, compress):
    data = b"".join(render(k, a) + sep for k, a in items)
    stats, quarantined, ids = run(gzip.compress(data) if compress else data, block_size)
    expected_written, seen = [], set()
    for kind, arg in items:
        if kind == "good":
            event_id = make_event(arg)["event_id"]
            if event_id not in seen:
                seen.add(event_id)
                expected_written.append(event_id)
    assert stats.records_in == len(items)
    assert stats.reconciled
    assert sorted(ids) == sorted(expected_written)
    assert len(quarantined) == len(items) - len(expected_written)
    lines_per_item = sep.count(b"\n")
    assert sorted(q["line"] for q in quarantined) == sorted(
        i * lines_per_item + 1
        for i, (kind, arg) in enumerate(items)
        if kind != "good" or _is_dup(items, i)
    )


def _is_dup(items, i) -> bool:
    _, arg = items[i]
    return any(k == "good" and a == arg for k, a in items[:i])


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.one_of(item, st.tuples(st.just("raw"), st.binary(max_size=30))), max_size=40),
    seps=st.lists(st.sampled_from([b"", b"\n", b" ", b"\r\n", b"}{", b"\x00"]), min_size=1),
    block_size=st.sampled_from([32, 500, 1 << 20]),
)
def test_arbitrary_bytes_never_raise_and_always_reconcile(parts, seps, block_size):
    chunks = []
    for i, (kind, arg) in enumerate(parts):
        chunks.append(arg if kind == "raw" else render(kind, arg))
        chunks.append(seps[i % len(seps)])
    stats, quarantined, ids = run(b"".join(chunks), block_size)
    assert stats.reconciled
    assert stats.records_in == len(ids) + len(quarantined)
    assert len(ids) == len(set(ids))


def test_quarantine_lines_survive_unicode_line_separators() -> None:
    """Raw text with U+0085 / U+2028 must not split a quarantine record for text-mode readers."""
    data = b"\xc2\x85\n" + '{"event_id": "x", "note": "a\u2028b"'.encode() + b"\n"
    with TemporaryDirectory() as tmp:
        stats = process_object(data, SRC, LocalSink(Path(tmp)), config(block_size=32))
        (path,) = Path(tmp).rglob("*.jsonl")
        text = path.read_text()
        assert text.isascii()
        lines = text.splitlines()
    assert len(lines) == stats.records_quarantined == 2
    assert [json.loads(x)["raw"] for x in lines][1].endswith('"a\u2028b"')
