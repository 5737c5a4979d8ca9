"""Dedup by fingerprints is exact: same answers as a plain set of ids, whatever the ids are."""

from __future__ import annotations

from unittest.mock import patch

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import transformer.dedup as dedup
from transformer.dedup import DuplicateFilter, fingerprints


def reference(batches: list[list[str]]) -> list[list[int]]:
    """The obvious implementation: a set of the id strings."""
    seen: set[str] = set()
    out = []
    for batch in batches:
        dups = []
        for i, event_id in enumerate(batch):
            if event_id in seen:
                dups.append(i)
            else:
                seen.add(event_id)
        out.append(dups)
    return out


def run_filter(batches: list[list[str]]) -> list[list[int]]:
    f = DuplicateFilter()
    return [f.duplicates(pa.array(batch, pa.string())) for batch in batches]


# Short alphabets make repeats likely; mixed lengths and multi-byte text exercise the grouping.
ids = st.one_of(
    st.text(alphabet="ab", min_size=1, max_size=3),
    st.text(alphabet="é€😀x", min_size=1, max_size=9),
    st.uuids().map(str),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(ids, max_size=40), max_size=6))
def test_same_answers_as_a_set_of_strings(batches):
    assert run_filter(batches) == reference(batches)


def _colliding(array: pa.Array) -> pa.UInt64Array:
    return pa.repeat(pa.scalar(7, pa.uint64()), len(array))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(ids, max_size=30), max_size=5))
def test_exact_even_when_every_fingerprint_collides(batches):
    # Every id gets the same fingerprint: every row is a collision, so every answer comes from
    # the exact comparison of the ids.
    with patch.object(dedup, "fingerprints", _colliding):
        assert run_filter(batches) == reference(batches)


def test_fingerprints_depend_on_the_bytes_only():
    values = ["abc", "abcd", "x" * 36, "abc", "é", "abcd", "ab\x00", "ab"]
    whole = fingerprints(pa.array(values)).to_pylist()
    assert whole[0] == whole[3] and whole[1] == whole[5]
    assert len(set(whole)) == 6  # "ab\x00" and "ab" differ (the length is part of it)
    for start in range(len(values)):  # sliced arrays (unaligned data) give the same values
        assert fingerprints(pa.array(values).slice(start)).to_pylist() == whole[start:]
    chunked = pa.chunked_array([values[:3], values[3:]])
    assert fingerprints(chunked).to_pylist() == whole


def test_uuid_fingerprints_do_not_collide_in_practice():
    import uuid

    values = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(200_000)]
    assert len(set(fingerprints(pa.array(values)).to_pylist())) == len(values)


def test_null_ids_are_refused():
    with pytest.raises(ValueError):
        fingerprints(pa.array(["a", None]))
