"""Deliberately malformed records, so the transformer's quarantine path runs end to end.

Each corrupted record has exactly ONE defect and carries the quarantine reason the transformer
must give it (the reason strings come from ``clickstream_common.schema``), so tests can check
"quarantined by reason" exactly against the manifest. Kinds rotate round-robin so even a small
run contains every kind. Which records are corrupted is drawn from a separate random stream,
so the good traffic of a seed is the same whatever ``--bad-ratio`` is.
"""

from __future__ import annotations

import random
from typing import Any

from clickstream_common import schema
from generator.events import Record, encode

KIND_TRUNCATED_JSON = "truncated_json"
KIND_WRONG_TYPE = "wrong_type"
KIND_MISSING_FIELD = "missing_field"
KIND_UNKNOWN_EVENT_TYPE = "unknown_event_type"
KIND_TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"

KINDS: tuple[str, ...] = (
    KIND_TRUNCATED_JSON,
    KIND_WRONG_TYPE,
    KIND_MISSING_FIELD,
    KIND_UNKNOWN_EVENT_TYPE,
    KIND_TIMESTAMP_OUT_OF_RANGE,
)

#: (field, value that cannot be coerced to the field's column type).
WRONG_TYPES: tuple[tuple[str, str], ...] = (("price", "abc"), ("quantity", "two"))
#: Required fields we remove (not event_id/event_type/event_timestamp: their absence could
#: legitimately be reported under another reason by a stricter validator).
MISSING_FIELDS: tuple[str, ...] = ("user_id", "session_id", "page_url")
UNKNOWN_EVENT_TYPES: tuple[str, ...] = ("hover", "ad_click", "video_play")
#: Far outside any sane window: an SDK with an unset clock and one with a broken year.
OUT_OF_RANGE_TIMESTAMPS: tuple[str, ...] = ("1900-01-01T00:00:00.000Z", "2999-01-01T00:00:00.000Z")

assert not set(UNKNOWN_EVENT_TYPES) & set(schema.EVENT_TYPES)
assert set(MISSING_FIELDS) <= set(schema.REQUIRED_FIELDS)


def corrupt(event: dict[str, Any], kind: str, variant: int, rng: random.Random) -> Record:
    """Return a bad record of ``kind`` built from a good ``event`` (which is not modified)."""
    ev = dict(event)
    if kind == KIND_TRUNCATED_JSON:
        # Cut the text (not the bytes: a cut inside a UTF-8 sequence would be a different
        # defect, bad_encoding). Any strict prefix of a JSON object is invalid JSON.
        text = encode(ev).decode()[:-1]
        cut = rng.randint(1, len(text) - 2)
        return Record((text[:cut] + "\n").encode(), None, schema.REASON_MALFORMED_JSON, kind)
    if kind == KIND_WRONG_TYPE:
        name, value = WRONG_TYPES[variant % len(WRONG_TYPES)]
        ev[name] = value
        return Record(encode(ev), None, schema.bad_type(name), kind)
    if kind == KIND_MISSING_FIELD:
        name = MISSING_FIELDS[variant % len(MISSING_FIELDS)]
        del ev[name]
        return Record(encode(ev), None, schema.missing_field(name), kind)
    if kind == KIND_UNKNOWN_EVENT_TYPE:
        ev["event_type"] = UNKNOWN_EVENT_TYPES[variant % len(UNKNOWN_EVENT_TYPES)]
        return Record(encode(ev), None, schema.REASON_UNKNOWN_EVENT_TYPE, kind)
    if kind == KIND_TIMESTAMP_OUT_OF_RANGE:
        ev["event_timestamp"] = OUT_OF_RANGE_TIMESTAMPS[variant % len(OUT_OF_RANGE_TIMESTAMPS)]
        return Record(encode(ev), None, schema.REASON_TIMESTAMP_OUT_OF_RANGE, kind)
    raise ValueError(f"unknown corruption kind {kind!r}")


class Corruptor:
    """Replace a fraction ``ratio`` of events with bad records, rotating through ``KINDS``."""

    def __init__(self, ratio: float, rng: random.Random) -> None:
        if not 0.0 <= ratio <= 1.0:
            raise ValueError("bad ratio must be within [0, 1]")
        self.ratio = ratio
        self.rng = rng
        self._n = 0

    def wants(self) -> bool:
        """Should the next event be corrupted? (One draw from the corruptor's own stream.)"""
        return bool(self.ratio) and self.rng.random() < self.ratio

    def corrupt_event(self, event: dict[str, Any]) -> Record:
        """The next kind in rotation applied to ``event``."""
        n = self._n
        self._n += 1
        return corrupt(event, KINDS[n % len(KINDS)], n // len(KINDS), self.rng)
