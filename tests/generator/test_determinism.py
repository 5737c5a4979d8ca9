"""Same seed and window -> identical bytes; the record layout never changes the data."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from collections.abc import Callable

from generator.events import _fragments, draw, encode, fast_encode, iso_ms, iter_steps, to_event
from generator.model import build_world
from generator.pipeline import GenConfig, generate_records
from generator.sessions import iter_sessions


def digest(lines: list[bytes]) -> str:
    return hashlib.sha256(b"".join(lines)).hexdigest()


def test_same_seed_gives_identical_bytes(generate: Callable) -> None:
    a, ma = generate("--count", "3000", "--seed", "42", "--bad-ratio", "0.05")
    b, mb = generate("--count", "3000", "--seed", "42", "--bad-ratio", "0.05")
    assert digest(a) == digest(b)
    assert ma.pop("destination") != mb.pop("destination")  # two different files...
    assert ma == mb  # ...with the same ground truth


def test_different_seed_gives_different_data(generate: Callable) -> None:
    a, _ = generate("--count", "500", "--seed", "1")
    b, _ = generate("--count", "500", "--seed", "2")
    assert digest(a) != digest(b)
    ids_a = {json.loads(x)["event_id"] for x in a}
    ids_b = {json.loads(x)["event_id"] for x in b}
    assert not ids_a & ids_b


def test_events_per_record_and_batch_size_do_not_change_the_bytes(generate: Callable) -> None:
    a, _ = generate("--count", "1200", "--seed", "5", "--events-per-record", "1")
    b, _ = generate(
        "--count", "1200", "--seed", "5", "--events-per-record", "33", "--batch-size", "7"
    )
    assert digest(a) == digest(b)


def test_bad_ratio_does_not_reshuffle_the_good_traffic() -> None:
    window = {"start_ms": 1_735_000_000_000, "end_ms": 1_735_200_000_000}
    clean = list(generate_records(GenConfig(seed=9, count=2000, **window)))
    dirty = list(generate_records(GenConfig(seed=9, count=2000, bad_ratio=0.2, **window)))
    assert len(clean) == len(dirty)
    replaced = [i for i, (c, d) in enumerate(zip(clean, dirty, strict=True)) if c.data != d.data]
    assert all(dirty[i].meta is None for i in replaced)  # only the corrupted ones differ
    assert 300 < len(replaced) < 500  # ~20%


def test_fast_encoder_matches_the_json_encoder_byte_for_byte() -> None:
    rng = random.Random(123)
    world = build_world(rng, n_users=200)
    steps = iter_steps(iter_sessions(world, rng, 0, 86_400_000 * 30))
    for session, step in itertools.islice(steps, 20_000):
        d = draw(rng)
        expected = encode(to_event(session, step, d))
        assert fast_encode(step, d, _fragments(session), iso_ms(step.ts_ms)) == expected


def test_iso_ms() -> None:
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_ms(1_735_121_730_123) == "2024-12-25T10:15:30.123Z"
    assert iso_ms(1_735_171_199_999) == "2024-12-25T23:59:59.999Z"
