"""Generated traffic looks like real shopping sessions (coherent users, funnels, time, fields)."""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from clickstream_common import schema

ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
START = datetime(2024, 12, 23, tzinfo=UTC)
END = datetime(2024, 12, 26, tzinfo=UTC)


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    from generator import cli

    out = tmp_path_factory.mktemp("sessions") / "events.ndjson"
    argv = ["--output", str(out), "--count", "20000", "--seed", "11", "--quiet"]
    assert cli.main([*argv, "--start", "2024-12-23", "--end", "2024-12-26"]) == 0
    return [json.loads(line) for line in out.read_bytes().splitlines()]


def ts(ev: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(ev["event_timestamp"].replace("Z", "+00:00"))


def test_every_event_has_the_contract_fields_and_the_dropped_fields(events: list[dict]) -> None:
    assert len(events) == 20000
    expected = set(schema.FIELD_NAMES) | set(schema.DROPPED_FIELDS)
    for ev in events:
        assert set(ev) == expected
        for name in schema.REQUIRED_FIELDS:
            assert ev[name] not in (None, "")
        assert ev["event_type"] in schema.EVENT_TYPES
        assert ISO_MS_Z.match(ev["event_timestamp"]), ev["event_timestamp"]
        assert START <= ts(ev) < END
        assert any(ipaddress.ip_address(ev["ip_address"]) in n for n in DOC_NETS)
        assert isinstance(ev["headers"], dict) and isinstance(ev["debug"], dict)
    assert len({ev["event_id"] for ev in events}) == len(events)


def test_types_match_the_schema(events: list[dict]) -> None:
    py = {"string": str, "timestamp": str, "float64": float, "int32": int}
    for ev in events:
        for f in schema.FIELDS:
            v = ev[f.name]
            assert v is None or type(v) is py[f.type], (f.name, v)
    priced = [ev for ev in events if ev["product_id"]]
    assert priced and all(ev["price"] > 0 for ev in priced)
    assert all(ev["quantity"] >= 1 for ev in events if ev["quantity"] is not None)


def test_users_keep_their_home_device_and_user_agent(events: list[dict]) -> None:
    stable = ("country", "city", "device_type", "browser", "os", "user_agent", "ip_address")
    seen: dict[str, tuple] = {}
    for ev in events:
        key = tuple(ev[k] for k in stable)
        assert seen.setdefault(ev["user_id"], key) == key, ev["user_id"]
    sessions_per_user = Counter(u for u, _ in {(ev["user_id"], ev["session_id"]) for ev in events})
    assert max(sessions_per_user.values()) > 1  # users come back


def test_user_agent_agrees_with_browser_os_and_device(events: list[dict]) -> None:
    marker = {"Chrome": "Chrome/", "Edge": "Edg/", "Firefox": "Firefox/", "Safari": "Safari/",
              "Samsung Internet": "SamsungBrowser/"}  # fmt: skip
    os_marker = {"Windows": "Windows NT", "macOS": "Mac OS X", "Linux": "Linux", "iOS": "like Mac OS X",
                 "Android": "Android"}  # fmt: skip
    for ev in events:
        ua = ev["user_agent"]
        assert marker[ev["browser"]] in ua and os_marker[ev["os"]] in ua, ev
        assert ev["headers"]["X-Forwarded-For"] == ev["ip_address"]
        if ev["os"] == "iOS":
            assert ("iPad" in ua) == (ev["device_type"] == "tablet")
        if ev["device_type"] == "mobile":
            assert "Mobile" in ua


def by_session(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for ev in events:  # the file is in session order
        out[ev["session_id"]].append(ev)
    return out


def test_sessions_belong_to_one_user_and_time_strictly_increases(events: list[dict]) -> None:
    sessions = by_session(events)
    assert len(sessions) > 1000
    for evs in sessions.values():
        assert len({ev["user_id"] for ev in evs}) == 1
        times = [ts(ev) for ev in evs]
        assert all(a < b for a, b in itertools.pairwise(times))
        assert times[-1] - times[0] < (END - START)


def test_sessions_walk_the_funnel_in_order(events: list[dict]) -> None:
    funnel_sessions = 0
    for evs in by_session(events).values():
        viewed: set[str] = set()
        cart: Counter[str] = Counter()
        checked_out = False
        for i, ev in enumerate(evs):
            t, pid = ev["event_type"], ev["product_id"]
            if t == "product_view":
                assert ev["page_url"] == f"/product/{pid}"
                viewed.add(pid)
            elif t == "add_to_cart":
                assert pid in viewed, "added a product never viewed"
                cart[pid] += ev["quantity"]
            elif t == "remove_from_cart":
                assert cart[pid] == ev["quantity"], "removed what was not in the cart"
                del cart[pid]
            elif t == "checkout":
                assert +cart, "checkout with an empty cart"
                checked_out = True
            elif t == "purchase":
                assert checked_out and evs[i - 1]["event_type"] in ("checkout", "purchase")
                assert cart[pid] == ev["quantity"]
                funnel_sessions += 1
            elif t == "search":
                assert ev["search_query"]
            if i:
                assert ev["referrer"] == "https://shop.example.com" + evs[i - 1]["page_url"]
    assert funnel_sessions > 50


def test_funnel_drops_off_at_every_step(events: list[dict]) -> None:
    n = Counter(ev["event_type"] for ev in events)
    assert set(n) == set(schema.EVENT_TYPES)
    assert n["product_view"] > n["add_to_cart"] > n["checkout"] > 0
    sessions = by_session(events).values()
    carts = sum(any(e["event_type"] == "add_to_cart" for e in s) for s in sessions)
    paid = sum(any(e["event_type"] == "purchase" for e in s) for s in sessions)
    assert 0 < paid < carts


def test_page_popularity_is_skewed(events: list[dict]) -> None:
    views = Counter(ev["page_url"] for ev in events if ev["event_type"] == "page_view")
    counts = [c for _, c in views.most_common()]
    assert len(counts) >= 20
    assert counts[0] > 5 * counts[len(counts) // 2]  # head much bigger than the median page
    assert sum(counts[:3]) > 0.3 * sum(counts)


def test_events_cover_the_whole_window(events: list[dict]) -> None:
    days = Counter(ev["event_timestamp"][:10] for ev in events)
    assert set(days) == {"2024-12-23", "2024-12-24", "2024-12-25"}
    assert min(days.values()) > 0.25 * len(events)


def test_no_wall_clock_when_start_and_end_are_given(generate: Callable) -> None:
    _lines, manifest = generate("--count", "50", "--seed", "3")
    assert manifest["generator"]["start"] == "2024-12-23T00:00:00.000Z"
    assert manifest["generator"]["end"] == "2024-12-26T00:00:00.000Z"
