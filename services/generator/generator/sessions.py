"""Shopping sessions: a user walking the funnel search -> product -> cart -> checkout -> purchase.

A session is a small Markov walk, so events are coherent the way real clickstreams are: you add
to the cart a product you looked at, you only check out with something in the cart, a purchase
follows a checkout, and timestamps strictly increase within a session. Everything is drawn from
the ``random.Random`` passed in (never the global one, never the wall clock), so a seed and a
fixed time window reproduce the same sessions byte for byte.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from generator.model import Product, User, WeightedPicker, World

SITE = "https://shop.example.com"

#: Where sessions come from; None = direct traffic (typed URL, bookmark, app icon).
EXTERNAL_REFERRERS: tuple[tuple[str | None, float], ...] = (
    (None, 35.0),
    ("https://www.google.com/", 30.0),
    ("https://www.bing.com/", 4.0),
    ("https://www.facebook.com/", 8.0),
    ("https://www.instagram.com/", 7.0),
    ("https://t.co/", 3.0),
    ("https://mail.example.net/newsletter", 8.0),
    ("https://www.youtube.com/", 5.0),
)

#: Longest session we generate (real sessions are capped by inactivity timeouts too).
MAX_SESSION_EVENTS = 40

#: Dwell time (ms) after each event type before the next event: (min, max).
DWELL_MS: dict[str, tuple[int, int]] = {
    "page_view": (4_000, 60_000),
    "search": (3_000, 20_000),
    "product_view": (8_000, 120_000),
    "add_to_cart": (2_000, 30_000),
    "remove_from_cart": (2_000, 15_000),
    "checkout": (20_000, 180_000),
    "purchase": (300, 2_000),
}


@dataclass(slots=True)
class Step:
    """One thing the user did; events.py turns it into an event record."""

    event_type: str
    page_url: str
    ts_ms: int
    referrer: str | None
    product: Product | None = None
    quantity: int | None = None
    search_query: str | None = None


@dataclass(slots=True)
class Session:
    """A user's visit: ordered steps with strictly increasing timestamps."""

    user: User
    session_id: str
    steps: list[Step] = field(default_factory=list)


class _Walk:
    """Mutable state of one session walk (kept out of the public API)."""

    __slots__ = ("cart", "end_ms", "last_url", "rng", "steps", "t", "world")

    def __init__(self, world: World, rng: random.Random, t0: int, end_ms: int) -> None:
        self.world = world
        self.rng = rng
        self.t = t0
        self.end_ms = end_ms
        self.steps: list[Step] = []
        self.cart: dict[str, tuple[Product, int]] = {}
        self.last_url: str | None = None

    def emit(
        self,
        event_type: str,
        page_url: str,
        *,
        product: Product | None = None,
        quantity: int | None = None,
        search_query: str | None = None,
    ) -> bool:
        """Append a step at the current time; False when the window or length cap is reached."""
        if self.t >= self.end_ms or len(self.steps) >= MAX_SESSION_EVENTS:
            return False
        referrer = _pick_referrer(self.rng) if self.last_url is None else SITE + self.last_url
        self.steps.append(
            Step(event_type, page_url, self.t, referrer, product, quantity, search_query)
        )
        self.last_url = page_url
        lo, hi = DWELL_MS[event_type]
        self.t += lo + int(self.rng.random() * (hi - lo))
        return True

    def product_view(self, product: Product | None = None) -> bool:
        p = product or self.world.product_picker.pick(self.rng)
        return self.emit("product_view", p.url, product=p)

    def page_view(self) -> bool:
        return self.emit("page_view", self.world.page_picker.pick(self.rng))

    def search(self) -> Product | None:
        """A search whose terms come from a product the user is after (viewed next, usually)."""
        p = self.world.product_picker.pick(self.rng)
        r = self.rng.random()
        query = p.name if r < 0.5 else p.name.split(" ", 1)[1] if r < 0.85 else p.category
        return p if self.emit("search", "/search", search_query=query) else None


def _pick_referrer(rng: random.Random) -> str | None:
    return _REFERRER_PICKER.pick(rng)


def walk_session(world: World, user: User, rng: random.Random, t0: int, end_ms: int) -> list[Step]:
    """Generate the steps of one session starting at ``t0``, never reaching ``end_ms``."""
    w = _Walk(world, rng, t0, end_ms)
    r = rng.random()
    wanted: Product | None = None
    if r < 0.5:
        ok = w.page_view()
    elif r < 0.8:
        ok = w.product_view()
    else:
        wanted = w.search()
        ok = wanted is not None
    while ok:
        last = w.steps[-1]
        r = rng.random()
        match last.event_type:
            case "search":
                if r < 0.75:
                    ok = w.product_view(wanted)
                elif r < 0.85:
                    wanted = w.search()
                    ok = wanted is not None
                else:
                    break
            case "product_view":
                if r < 0.30:
                    p = last.product
                    assert p is not None
                    qty = 1 if rng.random() < 0.8 else rng.randint(2, 4)
                    prev = w.cart.get(p.product_id, (p, 0))[1]
                    if ok := w.emit("add_to_cart", "/cart", product=p, quantity=qty):
                        w.cart[p.product_id] = (p, prev + qty)
                elif r < 0.65:
                    ok = w.product_view()
                elif r < 0.80:
                    ok = w.page_view()
                elif r < 0.88:
                    wanted = w.search()
                    ok = wanted is not None
                else:
                    break
            case "add_to_cart" | "remove_from_cart":
                if w.cart and r < 0.40:
                    ok = w.emit("checkout", "/checkout")
                elif w.cart and r < 0.48:
                    pid = rng.choice(sorted(w.cart))
                    p, qty = w.cart[pid]
                    if ok := w.emit("remove_from_cart", "/cart", product=p, quantity=qty):
                        del w.cart[pid]
                elif r < 0.78:
                    ok = w.product_view()
                else:
                    break
            case "checkout":
                if r < 0.65:  # pay: one purchase event per cart line
                    for pid in sorted(w.cart):
                        p, qty = w.cart[pid]
                        if not w.emit(
                            "purchase", "/checkout/confirmation", product=p, quantity=qty
                        ):
                            break
                    w.cart.clear()
                    ok = False  # the session ends after paying
                else:
                    break  # abandoned checkout
            case _:  # page_view
                if r < 0.45:
                    ok = w.page_view()
                elif r < 0.75:
                    ok = w.product_view()
                elif r < 0.85:
                    wanted = w.search()
                    ok = wanted is not None
                else:
                    break
    return w.steps


def iter_sessions(
    world: World, rng: random.Random, start_ms: int, end_ms: int
) -> Iterator[Session]:
    """Endless sessions, each starting at a uniform time in ``[start_ms, end_ms)``.

    Sessions are emitted one after another (not globally time-ordered), like a batch of SDK
    uploads; every event stays inside the window because walks stop at ``end_ms``.
    """
    if end_ms <= start_ms:
        raise ValueError("time window is empty: end must be after start")
    span = end_ms - start_ms
    while True:
        user = world.user_picker.pick(rng)
        t0 = start_ms + int(rng.random() * span)
        session_id = f"s{rng.getrandbits(64):016x}"
        steps = walk_session(world, user, rng, t0, end_ms)
        if steps:
            yield Session(user, session_id, steps)


_REFERRER_PICKER = WeightedPicker(
    [r for r, _ in EXTERNAL_REFERRERS], [w for _, w in EXTERNAL_REFERRERS]
)
