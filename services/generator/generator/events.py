"""Turn session steps into raw event records exactly as an SDK would upload them.

A raw event carries every column of the contract (``clickstream_common.schema.FIELDS``) plus
the bulky fields real SDKs send and the transformer drops (``DROPPED_FIELDS``): the user agent,
the client IP, raw headers, the SDK version and a debug blob.

Encoding is the hot path of the generator. Most of an event's bytes (device, location, user
agent, headers) are the same for every event of a session, so they are JSON-encoded once per
session and spliced in; only the per-event values go through the encoder. :func:`to_event`
builds the same event as a dict: it is the definition of an event (used to corrupt records),
and tests/generator/test_encoding.py proves the fast path byte-identical to it for any values
the contract allows; both draw the same random numbers in the same order, so a seed gives the same data
whichever path an event takes.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from generator.sessions import Session, Step

if TYPE_CHECKING:
    from generator.corrupt import Corruptor  # imports this module: for annotations only

#: Compact separators: fewer bytes than json.dumps' default, and one encoder instance
#: (json.dumps builds a new JSONEncoder per call whenever non-default options are passed).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_encode = _ENCODER.encode
_str = json.encoder.encode_basestring  # C-accelerated JSON string literal (quotes + escapes)

FLUSH_REASONS: tuple[str, ...] = ("batch_full", "timer", "page_hide", "visibility_change")


class EventMeta(NamedTuple):
    """The few fields of a good event that the manifest counts (cheaper than keeping the dict)."""

    event_type: str
    event_timestamp: str
    user_id: str
    session_id: str
    page_url: str
    device_type: str
    browser: str
    country: str


@dataclass(slots=True)
class Record:
    """One event as bytes, plus what the manifest needs to know about it.

    ``meta`` is set for a good event; ``bad_reason`` / ``bad_kind`` for a deliberately corrupted
    one (the reason is the quarantine reason the transformer must give it).
    """

    data: bytes
    meta: EventMeta | None = None
    bad_reason: str | None = None
    bad_kind: str | None = None


@functools.lru_cache(maxsize=1 << 16)
def _minute_prefix(minute: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))


def iso_ms(ms: int) -> str:
    """Epoch milliseconds -> ``2024-12-25T10:15:30.123Z`` (UTC, always millisecond precision)."""
    minute, rem = divmod(ms, 60_000)
    s, milli = divmod(rem, 1000)
    return f"{_minute_prefix(minute)}{s:02d}.{milli:03d}Z"


def new_event_id(rng: random.Random) -> str:
    """A random (version 4 shaped) UUID drawn from ``rng``, so it is reproducible with a seed."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


class Draws(NamedTuple):
    """The per-event random values, drawn once so both encoding paths use the same ones."""

    event_id: str
    queue_size: int
    flush_reason: str
    clock_skew_ms: int


def draw(rng: random.Random) -> Draws:
    r = rng.random
    return Draws(
        new_event_id(rng),
        int(r() * 26),
        FLUSH_REASONS[int(r() * len(FLUSH_REASONS))],
        int(r() * 801) - 400,
    )


def _headers(session: Session) -> dict[str, str]:
    user = session.user
    return {
        "Host": "collect.shop.example.com",
        "Accept-Language": user.accept_language,
        "X-Forwarded-For": user.ip_address,
        "Cookie": f"sid={session.session_id}; consent=analytics",
    }


def to_event(session: Session, step: Step, d: Draws) -> dict[str, Any]:
    """The raw event as a dict: contract fields first (in FIELDS order), then SDK extras."""
    user = session.user
    device = user.device
    product = step.product
    return {
        "event_id": d.event_id,
        "event_type": step.event_type,
        "event_timestamp": iso_ms(step.ts_ms),
        "user_id": user.user_id,
        "session_id": session.session_id,
        "page_url": step.page_url,
        "referrer": step.referrer,
        "device_type": device.device_type,
        "browser": device.browser,
        "os": device.os,
        "country": user.country,
        "city": user.city,
        "product_id": product.product_id if product else None,
        "price": product.price if product else None,
        "quantity": step.quantity,
        "search_query": step.search_query,
        # --- dropped by the transformer (see clickstream_common.schema.DROPPED_FIELDS) ---
        "user_agent": user.user_agent,
        "ip_address": user.ip_address,
        "headers": _headers(session),
        "sdk_version": user.sdk_version,
        "debug": {
            "queue_size": d.queue_size,
            "flush_reason": d.flush_reason,
            "retry": 0,
            "clock_skew_ms": d.clock_skew_ms,
        },
    }


def encode(event: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, newline-terminated (Firehose concatenates records verbatim)."""
    return (_encode(event) + "\n").encode()


class _SessionFragments(NamedTuple):
    """Pre-encoded JSON pieces that are constant within a session."""

    ids: str  # ,"user_id":..,"session_id":..,"page_url":
    device: str  # ,"device_type":..,"city":..,"product_id":
    extras: str  # ,"user_agent":..,"sdk_version":..,"debug":{"queue_size":


def _fragments(session: Session) -> _SessionFragments:
    user = session.user
    device = user.device
    return _SessionFragments(
        f',"user_id":{_str(user.user_id)},"session_id":{_str(session.session_id)},"page_url":',
        f',"device_type":{_str(device.device_type)},"browser":{_str(device.browser)}'
        f',"os":{_str(device.os)},"country":{_str(user.country)},"city":{_str(user.city)}'
        ',"product_id":',
        f',"user_agent":{_str(user.user_agent)},"ip_address":{_str(user.ip_address)}'
        f',"headers":{_encode(_headers(session))},"sdk_version":{_str(user.sdk_version)}'
        ',"debug":{"queue_size":',
    )


def fast_encode(step: Step, d: Draws, f: _SessionFragments, timestamp: str) -> bytes:
    """Byte-for-byte what ``encode(to_event(...))`` returns, several times faster."""
    p = step.product
    ref = step.referrer
    q = step.search_query
    qty = step.quantity
    product = 'null,"price":null' if p is None else f'{_str(p.product_id)},"price":{p.price!r}'
    text = (
        f'{{"event_id":"{d.event_id}","event_type":"{step.event_type}",'
        f'"event_timestamp":"{timestamp}"{f.ids}{_str(step.page_url)}'
        f',"referrer":{"null" if ref is None else _str(ref)}{f.device}{product}'
        f',"quantity":{"null" if qty is None else qty}'
        f',"search_query":{"null" if q is None else _str(q)}{f.extras}{d.queue_size}'
        f',"flush_reason":"{d.flush_reason}","retry":0,"clock_skew_ms":{d.clock_skew_ms}}}}}\n'
    )
    return text.encode()


def meta_of(session: Session, step: Step, timestamp: str) -> EventMeta:
    user = session.user
    return EventMeta(
        step.event_type,
        timestamp,
        user.user_id,
        session.session_id,
        step.page_url,
        user.device.device_type,
        user.device.browser,
        user.country,
    )


def iter_steps(sessions: Iterator[Session]) -> Iterator[tuple[Session, Step]]:
    """Flatten sessions into (session, step) pairs in session order."""
    for session in sessions:
        for step in session.steps:
            yield session, step


def iter_records(
    sessions: Iterator[Session], rng: random.Random, corruptor: Corruptor | None = None
) -> Iterator[Record]:
    """Encoded records for every step of every session.

    ``corruptor`` (a :class:`generator.corrupt.Corruptor`) may swap an event for a bad record;
    it decides from its own random stream, so the good traffic does not depend on it.
    """
    current: Session | None = None
    frags: _SessionFragments | None = None
    for session, step in iter_steps(sessions):
        if session is not current:
            current, frags = session, _fragments(session)
        d = draw(rng)
        if corruptor is not None and corruptor.wants():
            yield corruptor.corrupt_event(to_event(session, step, d))
            continue
        assert frags is not None
        ts = iso_ms(step.ts_ms)
        yield Record(fast_encode(step, d, frags, ts), meta_of(session, step, ts))
