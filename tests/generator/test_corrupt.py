"""Bad records: exactly one defect each, the intended quarantine reason, every kind present."""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from collections.abc import Callable

import pytest

from clickstream_common import schema
from generator.corrupt import (
    KINDS,
    MISSING_FIELDS,
    OUT_OF_RANGE_TIMESTAMPS,
    UNKNOWN_EVENT_TYPES,
    WRONG_TYPES,
    Corruptor,
    corrupt,
)
from generator.events import encode
from generator.pipeline import GenConfig, generate_records


@pytest.fixture(scope="module")
def event() -> dict:
    rec = next(iter(generate_records(GenConfig(seed=1, start_ms=0, end_ms=10**9, count=1))))
    ev = json.loads(rec.data)
    ev["city"] = "São Paulo"  # non-ASCII: truncation must not split a UTF-8 sequence
    return ev


def diff(a: dict, b: dict) -> set[str]:
    return {k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>")}


def test_truncated_json_is_invalid_json_but_valid_utf8(event: dict) -> None:
    rng = random.Random(0)
    for _ in range(300):
        rec = corrupt(event, "truncated_json", 0, rng)
        assert rec.bad_reason == schema.REASON_MALFORMED_JSON and rec.meta is None
        assert rec.data.endswith(b"\n") and rec.data.count(b"\n") == 1
        text = rec.data.decode("utf-8")  # raises if a multi-byte character was cut
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        assert encode(event).startswith(rec.data[:-1])


@pytest.mark.parametrize("variant", range(6))
def test_each_other_kind_changes_exactly_one_field(event: dict, variant: int) -> None:
    rng = random.Random(variant)
    cases = {
        "wrong_type": WRONG_TYPES[variant % len(WRONG_TYPES)],
        "missing_field": (MISSING_FIELDS[variant % len(MISSING_FIELDS)], "<absent>"),
        "unknown_event_type": ("event_type", UNKNOWN_EVENT_TYPES[variant % 3]),
        "timestamp_out_of_range": ("event_timestamp", OUT_OF_RANGE_TIMESTAMPS[variant % 2]),
    }
    reasons = {
        "wrong_type": schema.bad_type(cases["wrong_type"][0]),
        "missing_field": schema.missing_field(cases["missing_field"][0]),
        "unknown_event_type": schema.REASON_UNKNOWN_EVENT_TYPE,
        "timestamp_out_of_range": schema.REASON_TIMESTAMP_OUT_OF_RANGE,
    }
    for kind, (field, value) in cases.items():
        rec = corrupt(event, kind, variant, rng)
        bad = json.loads(rec.data)
        assert diff(event, bad) == {field}, kind
        assert bad.get(field, "<absent>") == value
        assert rec.bad_reason == reasons[kind] and rec.bad_kind == kind


def test_wrong_type_values_cannot_be_coerced() -> None:
    for field, value in WRONG_TYPES:
        f = next(f for f in schema.FIELDS if f.name == field)
        with pytest.raises(ValueError):
            (float if f.type == "float64" else int)(value)


def test_unknown_kind_is_an_error(event: dict) -> None:
    with pytest.raises(ValueError):
        corrupt(event, "gremlins", 0, random.Random())


def test_corruptor_rotates_kinds_and_honours_the_ratio(event: dict) -> None:
    c = Corruptor(0.25, random.Random(3))
    picked = [c.corrupt_event(event) for _ in range(50) if c.wants()]
    assert 0 < len(picked) < 50
    kinds = [r.bad_kind for r in picked]
    assert kinds[: len(KINDS)] == list(KINDS)
    with pytest.raises(ValueError):
        Corruptor(1.5, random.Random())
    assert not any(Corruptor(0.0, random.Random()).wants() for _ in range(100))


def test_a_run_with_bad_ratio_has_every_kind_with_its_reason(generate: Callable) -> None:
    lines, m = generate("--count", "2000", "--seed", "4", "--bad-ratio", "0.1")
    assert set(m["bad_by_kind"]) == set(KINDS)
    assert sum(m["bad_by_kind"].values()) == m["bad"] > 100
    reasons = Counter(m["bad_by_reason"])
    assert reasons[schema.REASON_MALFORMED_JSON] == m["bad_by_kind"]["truncated_json"]
    assert reasons[schema.REASON_UNKNOWN_EVENT_TYPE] == m["bad_by_kind"]["unknown_event_type"]
    assert (
        sum(v for k, v in reasons.items() if k.startswith("missing_field:"))
        == (m["bad_by_kind"]["missing_field"])
    )
    assert (
        sum(v for k, v in reasons.items() if k.startswith("bad_type:"))
        == m["bad_by_kind"]["wrong_type"]
    )
    # bad records keep unique event ids: the transformer's dedup must not merge them
    ids = []
    for line in lines:
        with contextlib.suppress(json.JSONDecodeError, KeyError):
            ids.append(json.loads(line)["event_id"])
    assert len(ids) > 1900 and len(ids) == len(set(ids))
