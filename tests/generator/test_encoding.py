"""The generator's two ways of building an event agree, over any values the contract allows.

``to_event`` is the one definition of an event (a dict in contract order); ``fast_encode`` is
the hand-spliced hot path. Seeded traffic only exercises the catalog's values, so these
properties draw the per-session and per-event values freely: any text (quotes, backslashes,
control characters, non-ASCII), null or present optional fields, any finite price, any int32
quantity. Only the values the generator itself controls (event id, event type, flush reason,
timestamp format) come from the generator's own domain.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from clickstream_common.schema import DROPPED_FIELDS, EVENT_TYPES, FIELD_NAMES
from generator.events import (
    FLUSH_REASONS,
    Draws,
    _fragments,
    encode,
    fast_encode,
    iso_ms,
    new_event_id,
    to_event,
)
from generator.model import DeviceProfile, Product, User
from generator.sessions import Session, Step

# Valid Unicode text (lone surrogates cannot be UTF-8 encoded by either path).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
INT32 = st.integers(-(2**31), 2**31 - 1)
# Epoch milliseconds from 1970 to 2100.
TIMESTAMPS = st.integers(0, 4_102_444_800_000)

devices = st.builds(
    DeviceProfile,
    device_type=TEXT,
    os=TEXT,
    browser=TEXT,
    weight=st.just(1.0),
    ua_template=st.just(""),
    browser_versions=st.just((1,)),
    os_versions=st.just(("1",)),
    sdk=TEXT,
)
users = st.builds(
    User,
    user_id=TEXT,
    country=TEXT,
    city=TEXT,
    device=devices,
    user_agent=TEXT,
    ip_address=TEXT,
    accept_language=TEXT,
    sdk_version=TEXT,
)
products = st.builds(
    Product,
    product_id=TEXT,
    name=TEXT,
    category=TEXT,
    price=st.floats(allow_nan=False, allow_infinity=False),
)
steps = st.builds(
    Step,
    event_type=st.sampled_from(EVENT_TYPES),
    page_url=TEXT,
    ts_ms=TIMESTAMPS,
    referrer=st.none() | TEXT,
    product=st.none() | products,
    quantity=st.none() | INT32,
    search_query=st.none() | TEXT,
)
draws = st.builds(
    Draws,
    event_id=st.randoms(use_true_random=False).map(new_event_id),
    queue_size=INT32,
    flush_reason=st.sampled_from(FLUSH_REASONS),
    clock_skew_ms=INT32,
)


@settings(max_examples=300, deadline=None)
@given(user=users, session_id=TEXT, step=steps, d=draws)
def test_fast_encoder_equals_the_event_definition(
    user: User, session_id: str, step: Step, d: Draws
) -> None:
    session = Session(user, session_id, [step])
    expected = encode(to_event(session, step, d))
    assert fast_encode(step, d, _fragments(session), iso_ms(step.ts_ms)) == expected


@given(user=users, step=steps, d=draws)
def test_event_carries_the_contract_fields_in_order_then_the_dropped_ones(
    user: User, step: Step, d: Draws
) -> None:
    keys = list(to_event(Session(user, "s", [step]), step, d))
    assert keys[: len(FIELD_NAMES)] == list(FIELD_NAMES)
    assert keys[len(FIELD_NAMES) :] == list(DROPPED_FIELDS)


def test_new_event_id_is_a_version_4_uuid() -> None:
    import uuid

    value = new_event_id(random.Random(1))
    assert uuid.UUID(value).version == 4
