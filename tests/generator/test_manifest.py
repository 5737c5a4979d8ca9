"""The manifest is the ground truth: recomputed here independently from the NDJSON output."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from clickstream_common import schema


def classify(line: bytes) -> tuple[str | None, dict[str, Any] | None]:
    """Independent validator: (quarantine reason or None, parsed good event)."""
    try:
        ev = json.loads(line)
    except json.JSONDecodeError:
        return schema.REASON_MALFORMED_JSON, None
    for name in schema.REQUIRED_FIELDS:
        if ev.get(name) in (None, ""):
            return schema.missing_field(name), None
    if ev["event_type"] not in schema.EVENT_TYPES:
        return schema.REASON_UNKNOWN_EVENT_TYPE, None
    year = datetime.fromisoformat(ev["event_timestamp"].replace("Z", "+00:00")).year
    if not 2000 <= year <= 2100:
        return schema.REASON_TIMESTAMP_OUT_OF_RANGE, None
    if ev["price"] is not None and not isinstance(ev["price"], float | int):
        return schema.bad_type("price"), None
    if ev["quantity"] is not None and not isinstance(ev["quantity"], int):
        return schema.bad_type("quantity"), None
    return None, ev


def recompute(lines: list[bytes]) -> dict[str, Any]:
    bad: Counter[str] = Counter()
    good = []
    for line in lines:
        reason, ev = classify(line)
        if reason:
            bad[reason] += 1
        else:
            good.append(ev)
    sessions: dict[str, Counter[tuple[str, str]]] = {}
    for ev in good:
        day = ev["event_timestamp"][:10]
        sessions.setdefault(day, Counter())[(ev["user_id"], ev["session_id"])] += 1
    return {
        "good": len(good),
        "bad": sum(bad.values()),
        "bad_by_reason": dict(bad),
        "by_event_type": dict(Counter(ev["event_type"] for ev in good)),
        "by_country": dict(Counter(ev["country"] for ev in good)),
        "page_views_by_page": dict(
            Counter(ev["page_url"] for ev in good if ev["event_type"] == "page_view")
        ),
        "by_device_browser": dict(Counter((ev["device_type"], ev["browser"]) for ev in good)),
        "by_day": dict(Counter(ev["event_timestamp"][:10] for ev in good)),
        "sessions_by_day": {d: dict(c) for d, c in sessions.items()},
    }


def test_manifest_matches_the_records_recomputed_independently(generate: Callable) -> None:
    lines, m = generate("--count", "12000", "--seed", "7", "--bad-ratio", "0.05")
    truth = recompute(lines)
    assert len(lines) == 12000
    assert m["delivery"]["generated"] == m["delivery"]["sent"] == 12000
    assert m["delivery"]["failed"] == m["delivery"]["unsent"] == 0
    assert m["good"] + m["bad"] == 12000
    for key in ("good", "bad", "bad_by_reason", "by_event_type", "by_country",
                "page_views_by_page", "by_day"):  # fmt: skip
        assert m[key] == truth[key], key
    assert {(r["device_type"], r["browser"]): r["count"] for r in m["by_device_browser"]} == (
        truth["by_device_browser"]
    )
    got_sessions = {
        day: {(r["user_id"], r["session_id"]): r["count"] for r in rows}
        for day, rows in m["sessions_by_day"].items()
    }
    assert got_sessions == truth["sessions_by_day"]
    # the seed's sessions query: top 20 (user, session) by actions on one day
    day_rows = m["sessions_by_day"]["2024-12-25"]
    assert [r["count"] for r in day_rows] == sorted((r["count"] for r in day_rows), reverse=True)


def test_manifest_records_the_run_parameters(generate: Callable) -> None:
    _, m = generate("--count", "10", "--seed", "99", "--users", "5")
    assert m["generator"] == {
        "seed": 99,
        "start": "2024-12-23T00:00:00.000Z",
        "end": "2024-12-26T00:00:00.000Z",
        "count": 10,
        "bad_ratio": 0.0,
        "users": 5,
    }
    assert m["destination"].endswith(".ndjson")
    assert (
        len({u for rows in m["sessions_by_day"].values() for u in (r["user_id"] for r in rows)})
        <= 5
    )
