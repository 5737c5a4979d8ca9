"""Batch packing against Firehose's limits: 500 records, 4 MiB per call, 1,000 KiB per record."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.batching import (
    MAX_BYTES_PER_CALL,
    MAX_BYTES_PER_RECORD,
    MAX_RECORDS_PER_CALL,
    Batch,
    Batcher,
    Limits,
    Rejected,
    pack,
)

MiB = 1024 * 1024


def records(n: int, size: int) -> list[bytes]:
    """n distinct newline-terminated records of exactly ``size`` bytes."""
    out = []
    for i in range(n):
        head = f"{i:08d}".encode()
        out.append(head + b"x" * (size - len(head) - 1) + b"\n")
    return out


def batches(items: list[bytes], limits: Limits | None = None) -> list[Batch[bytes]]:
    out = list(pack(items, limits or Limits()))
    assert all(isinstance(b, Batch) for b in out)
    return out  # type: ignore[return-value]


def test_limits_are_firehose_limits() -> None:
    assert MAX_RECORDS_PER_CALL == 500
    assert MAX_BYTES_PER_CALL == 4 * MiB == 4_194_304
    assert MAX_BYTES_PER_RECORD == 1_000 * 1024 == 1_024_000


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, [1]),
        (499, [499]),
        (500, [500]),
        (501, [500, 1]),
        (1000, [500, 500]),
        (1234, [500, 500, 234]),
    ],
)
def test_record_count_limit(n: int, expected: list[int]) -> None:
    out = batches(records(n, 100))
    assert [len(b.items) for b in out] == expected
    assert [b.nbytes for b in out] == [100 * k for k in expected]


def test_exactly_4_mib_fits_in_one_call_and_one_more_byte_does_not() -> None:
    # 4 records at the per-record maximum + one that tops the call up to exactly 4 MiB.
    big = records(4, MAX_BYTES_PER_RECORD)
    filler = records(1, MAX_BYTES_PER_CALL - 4 * MAX_BYTES_PER_RECORD)
    assert sum(map(len, big + filler)) == 4 * MiB
    exact = batches(big + filler)
    assert [len(b.items) for b in exact] == [5]
    assert exact[0].nbytes == 4 * MiB

    one_more = records(1, 2)
    out = batches(big + filler + one_more)
    assert [len(b.items) for b in out] == [5, 1]
    assert [b.items for b in out] == [big + filler, one_more]


def test_bytes_limit_splits_before_the_count_limit() -> None:
    # 10,000-byte records: 419 fit in 4 MiB (4,190,000), the 420th would not (4,200,000).
    items = records(1000, 10_000)
    out = batches(items)
    assert [len(b.items) for b in out] == [419, 419, 162]
    assert all(b.nbytes <= MAX_BYTES_PER_CALL for b in out)
    assert [r for b in out for r in b.items] == items


def test_record_at_the_per_record_limit_is_sent_and_one_byte_over_is_rejected() -> None:
    ok = records(1, MAX_BYTES_PER_RECORD)[0]
    too_big = records(1, MAX_BYTES_PER_RECORD + 1)[0]
    small = records(3, 50)
    out = list(pack([small[0], ok, too_big, small[1], small[2]]))
    rejected = [o for o in out if isinstance(o, Rejected)]
    sent = [r for o in out if isinstance(o, Batch) for r in o.items]
    assert [(r.item, r.nbytes) for r in rejected] == [(too_big, MAX_BYTES_PER_RECORD + 1)]
    assert sent == [small[0], ok, small[1], small[2]]  # neither dropped nor reordered


def test_custom_limits_and_incremental_flush() -> None:
    b: Batcher[bytes] = Batcher(Limits(max_records=3, max_bytes=1000, max_record_bytes=500))
    a1, a2 = records(2, 10)
    assert b.add(a1) is None
    assert len(b) == 1
    flushed = b.flush()
    assert flushed is not None and flushed.items == [a1]
    assert b.flush() is None
    assert b.add(a2) is None
    assert len(b) == 1


def test_single_record_batches_when_max_records_is_one() -> None:
    items = records(3, 10)
    out = batches(items, Limits(max_records=1))
    assert [b.items for b in out] == [[i] for i in items]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_records": 0},
        {"max_records": 501},
        {"max_bytes": 4 * MiB + 1},
        {"max_record_bytes": 2_000, "max_bytes": 1_000},
        {"max_record_bytes": 0},
    ],
)
def test_limits_outside_firehose_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Limits(**kwargs)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=1200), max_size=300),
    max_records=st.integers(min_value=1, max_value=20),
    max_bytes=st.integers(min_value=1000, max_value=5000),
)
def test_packing_respects_limits_keeps_order_and_accounts_for_every_record(
    sizes: list[int], max_records: int, max_bytes: int
) -> None:
    limits = Limits(max_records=max_records, max_bytes=max_bytes, max_record_bytes=1000)
    items = [f"{i}:".encode().ljust(s, b"y")[:s] for i, s in enumerate(sizes)]
    items = [
        i if len(i) == s else i + b"y" * (s - len(i)) for i, s in zip(items, sizes, strict=True)
    ]
    out = list(pack(items, limits))
    seen = []
    for o in out:
        if isinstance(o, Rejected):
            assert o.nbytes > 1000
            seen.append(o.item)
        else:
            assert 1 <= len(o.items) <= max_records
            assert o.nbytes == sum(map(len, o.items)) <= max_bytes
            assert all(len(r) <= 1000 for r in o.items)
            seen.extend(o.items)
    assert sorted(seen) == sorted(items)
    assert [i for i in seen if len(i) <= 1000] == [i for i in items if len(i) <= 1000]
    # Greedy: a batch is only closed when the next record would not have fitted.
    good = [o for o in out if isinstance(o, Batch)]
    for cur, nxt in itertools.pairwise(good):
        assert len(cur.items) == max_records or cur.nbytes + len(nxt.items[0]) > max_bytes
