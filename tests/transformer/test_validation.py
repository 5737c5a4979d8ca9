"""Every quarantine reason, the rules at their edges, and the quarantine entry format."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from clickstream_common.schema import (
    DROPPED_FIELDS,
    FIELD_NAMES,
    REASON_DUPLICATE_EVENT_ID,
    REASON_MALFORMED_JSON,
    REASON_NOT_AN_OBJECT,
    REASON_TIMESTAMP_OUT_OF_RANGE,
    REASON_UNKNOWN_EVENT_TYPE,
    REQUIRED_FIELDS,
    bad_type,
    missing_field,
)

from .helpers import SOURCE, line, make_event, ndjson

GOOD = [make_event(i) for i in range(5)]


def run_one(run, raw: bytes):
    """Process GOOD + one extra record in the middle; return (result, quarantine entries)."""
    data = ndjson(GOOD[:2]) + raw + b"\n" + ndjson(GOOD[2:])
    r = run(data)
    return r, r.quarantine()


CASES = [
    (b'{"event_id": "a", "event_type":', REASON_MALFORMED_JSON),
    (b"garbage", REASON_MALFORMED_JSON),
    (line(make_event(90))[:-1] + b',"event_id":"again"}', REASON_MALFORMED_JSON),  # dup key
    (b"[1, 2, 3]", REASON_NOT_AN_OBJECT),
    (b'"just a string"', REASON_NOT_AN_OBJECT),
    (b"42", REASON_NOT_AN_OBJECT),
    (b"null", REASON_NOT_AN_OBJECT),
    (b"{}", missing_field("event_id")),
    (line(make_event(90, price="abc")), bad_type("price")),
    (line(make_event(90, price="12.5")), bad_type("price")),
    (line(make_event(90, price=True)), bad_type("price")),
    (
        b'{"event_id":"n1","event_type":"purchase","event_timestamp":"2024-12-25T10:00:00Z",'
        b'"user_id":"u","session_id":"s","page_url":"/","price":NaN}',
        bad_type("price"),
    ),
    (line(make_event(90, quantity=1.5)), bad_type("quantity")),
    (line(make_event(90, quantity=3_000_000_000)), bad_type("quantity")),
    (line(make_event(90, quantity="2")), bad_type("quantity")),
    (line(make_event(90, user_id=12345)), bad_type("user_id")),
    (line(make_event(90, city={"name": "Berlin"})), bad_type("city")),
    (line(make_event(90, event_timestamp="yesterday")), bad_type("event_timestamp")),
    (line(make_event(90, event_timestamp="2024-13-01T00:00:00Z")), bad_type("event_timestamp")),
    (line(make_event(90, event_timestamp="2024-12-25T10:00:00")), bad_type("event_timestamp")),
    (line(make_event(90, event_timestamp=1735121730)), bad_type("event_timestamp")),
    (line(make_event(90, event_type="hover")), REASON_UNKNOWN_EVENT_TYPE),
    (line(make_event(90, event_type="PAGE_VIEW")), REASON_UNKNOWN_EVENT_TYPE),
    (line(make_event(90, event_timestamp="1999-12-31T23:59:59Z")), REASON_TIMESTAMP_OUT_OF_RANGE),
    (line(make_event(90, event_timestamp="2025-01-16T12:00:01Z")), REASON_TIMESTAMP_OUT_OF_RANGE),
]


@pytest.mark.parametrize(
    ("raw", "reason"), CASES, ids=[f"{r}-{i}" for i, (_, r) in enumerate(CASES)]
)
def test_reason(run, raw, reason):
    r, quarantine = run_one(run, raw)
    assert [q["reason"] for q in quarantine] == [reason]
    q = quarantine[0]
    assert q["raw"] == raw.decode()
    assert q["line"] == 3
    assert q["offset"] == len(ndjson(GOOD[:2]))
    assert q["source_bucket"] == SOURCE.bucket
    assert q["source_key"] == SOURCE.key
    assert r.stats.records_written == 5
    assert r.stats.quarantined_by_reason == {reason: 1}


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
@pytest.mark.parametrize("how", ["absent", "null", "empty"])
def test_missing_required_field(run, field, how):
    event = make_event(90)
    if how == "absent":
        del event[field]
    else:
        event[field] = None if how == "null" else ""
    _, quarantine = run_one(run, line(event))
    assert [q["reason"] for q in quarantine] == [missing_field(field)]


def test_missing_field_wins_over_bad_type_in_both_paths(run):
    # bad JSON type (reader fails -> per-record diagnosis) and NaN (vectorized rule)
    a = make_event(90, price="abc")
    del a["user_id"]
    b = b'{"event_id":"n1","event_type":"purchase","event_timestamp":"2024-12-25T10:00:00Z","session_id":"s","page_url":"/","price":NaN}'
    r = run(ndjson([a]) + b + b"\n")
    assert r.reasons() == [missing_field("user_id")] * 2


def test_optional_fields_may_be_absent_or_null(run):
    e = {k: v for k, v in make_event(1).items() if k in REQUIRED_FIELDS}
    e["referrer"] = None
    r = run(ndjson([e]))
    assert r.stats.records_written == 1
    row = r.events().to_pylist()[0]
    assert row["price"] is None and row["referrer"] is None and row["quantity"] is None


def test_integral_float_quantity_and_int_price_are_coerced(run):
    r = run(ndjson([make_event(1, quantity=2.0, price=5), make_event(2, quantity=1e2)]))
    rows = r.events().sort_by("event_id").to_pylist()
    assert [x["quantity"] for x in rows] == [2, 100]
    assert rows[0]["price"] == 5.0


def test_timestamp_offsets_are_converted_to_utc_and_partitioned_by_utc_day(run):
    events = [
        make_event(1, event_timestamp="2024-12-26T01:30:00+02:00"),  # 2024-12-25 23:30 UTC
        make_event(2, event_timestamp="2024-12-25T23:30:00-02:00"),  # 2024-12-26 01:30 UTC
        make_event(3, event_timestamp="2024-12-25T23:59:59.999999Z"),
        make_event(4, event_timestamp="2024-12-26T00:00:00Z"),
    ]
    r = run(ndjson(events))
    by_id = {row["event_id"]: row["event_timestamp"] for row in r.events().to_pylist()}
    assert by_id[events[0]["event_id"]] == datetime(2024, 12, 25, 23, 30, tzinfo=UTC)
    assert by_id[events[1]["event_id"]] == datetime(2024, 12, 26, 1, 30, tzinfo=UTC)
    paths = {f.parent.relative_to(r.root / "events").as_posix(): f for f in r.event_files()}
    assert sorted(paths) == ["year=2024/month=12/day=25", "year=2024/month=12/day=26"]
    import pyarrow.parquet as pq

    day25 = pq.read_table(paths["year=2024/month=12/day=25"], partitioning=None)
    assert sorted(day25["event_id"].to_pylist()) == sorted(
        [events[0]["event_id"], events[2]["event_id"]]
    )


def test_timestamp_window_edges(run):
    events = [
        make_event(1, event_timestamp="2000-01-01T00:00:00Z"),
        make_event(2, event_timestamp="2025-01-16T12:00:00Z"),  # now + 1 day exactly
    ]
    assert run(ndjson(events)).stats.records_written == 2


def test_timestamp_window_is_configurable(run):
    r = run(ndjson(GOOD), min_timestamp=datetime(2024, 12, 25, 10, 0, 2, tzinfo=UTC))
    assert r.reasons() == [REASON_TIMESTAMP_OUT_OF_RANGE] * 2


def test_duplicate_event_ids_are_quarantined_and_first_one_kept(run):
    dup = make_event(1, city="Second")
    r = run(ndjson([*GOOD, dup, dup]))
    assert r.stats.records_in == 7
    assert r.stats.records_written == 5
    assert r.stats.duplicates == 2
    assert r.reasons() == [REASON_DUPLICATE_EVENT_ID] * 2
    assert [q["line"] for q in r.quarantine()] == [6, 7]
    assert r.quarantine()[0]["event_id"] == dup["event_id"]
    cities = dict(
        zip(r.events()["event_id"].to_pylist(), r.events()["city"].to_pylist(), strict=True)
    )
    assert cities[dup["event_id"]] == "Berlin"


class _ReadOnly:
    """A stream with ``read`` only (like a socket-backed body)."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)


def _offset_stream(data: bytes) -> io.BytesIO:
    """A seekable stream positioned after a prefix that is not part of the object."""
    stream = io.BytesIO(b"NOT PART OF THE OBJECT" + data)
    stream.seek(len(b"NOT PART OF THE OBJECT"))
    return stream


@pytest.mark.parametrize("kind", ["bytes", "seekable stream", "read-only stream"])
def test_duplicates_across_blocks_and_with_invalid_rows_around(run, kind):
    events = [make_event(i) for i in range(200)]
    data = ndjson(events[:100]) + b"bad\n" + line(make_event(500, event_type="nope")) + b"\n"
    data += ndjson(events[50:])  # 50 duplicates, in later blocks
    wrap = {"bytes": bytes, "seekable stream": _offset_stream, "read-only stream": _ReadOnly}
    r = run(wrap[kind](data), block_size=2048)
    assert r.stats.bytes_in == len(data)
    assert r.stats.records_written == 200
    assert r.stats.duplicates == 50
    dup_lines = [q["line"] for q in r.quarantine() if q["reason"] == REASON_DUPLICATE_EVENT_ID]
    assert dup_lines == list(range(103, 153))
    assert sorted(r.events()["event_id"].to_pylist()) == sorted(e["event_id"] for e in events)


def test_invalid_first_occurrence_does_not_shadow_a_valid_duplicate(run):
    bad = make_event(1, event_type="nope")
    good = make_event(1)
    r = run(ndjson([bad, good]))
    assert r.stats.records_written == 1
    assert r.reasons() == [REASON_UNKNOWN_EVENT_TYPE]


def test_dropped_fields_are_not_written(run):
    r = run(ndjson(GOOD))
    assert r.events().column_names == list(FIELD_NAMES)
    assert not set(DROPPED_FIELDS) & set(r.events().column_names)


def test_unknown_extra_fields_are_ignored(run):
    r = run(ndjson([make_event(1, experiment={"id": 3}, new_field="x")]))
    assert r.stats.records_written == 1


@pytest.mark.parametrize(
    ("raw", "reason"), CASES, ids=[f"{r}-{i}" for i, (_, r) in enumerate(CASES)]
)
def test_reason_is_the_same_when_the_block_also_fails_to_parse(run, raw, reason):
    """The vectorized path and the per-record path must agree on every reason."""
    data = ndjson(GOOD[:2]) + raw + b"\n" + b'{"price": "not a number"' + b"\n" + ndjson(GOOD[2:])
    r = run(data)
    assert sorted(r.reasons()) == sorted([reason, REASON_MALFORMED_JSON])
    assert r.stats.records_written == 5


def test_nanosecond_timestamps_are_truncated_to_microseconds(run):
    r = run(ndjson([make_event(77, event_timestamp="2024-12-25T10:15:30.123456789Z"), *GOOD]))
    assert r.stats.records_written == 6
    ts = {row["event_id"]: row["event_timestamp"] for row in r.events().to_pylist()}
    assert ts[make_event(77)["event_id"]] == datetime(2024, 12, 25, 10, 15, 30, 123456, tzinfo=UTC)


def test_nested_keys_that_look_like_type_errors_are_not_quarantined(run):
    """The failed-block prescreen over-matches nested keys; such records must still be kept."""
    tricky = make_event(77, headers={"user_id": 5, "price": "x"}, debug={"quantity": "lots"})
    r = run(ndjson([*GOOD, tricky]) + b"broken\n" + line(make_event(78, price="abc")) + b"\n")
    assert r.stats.records_written == 6
    assert sorted(r.reasons()) == sorted([REASON_MALFORMED_JSON, bad_type("price")])
