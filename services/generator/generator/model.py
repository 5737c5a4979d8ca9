"""The synthetic world events happen in: users, their devices, products and pages.

Built once per run from a seeded ``random.Random`` so that the same seed gives the same world.
Popularity is skewed (Zipf-like) because real traffic is: a few pages and products get most of
the views, which is what makes the "top pages" query interesting.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

#: (ISO country code, weight, cities). Weights roughly follow e-commerce traffic shares.
COUNTRIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("US", 34.0, ("New York", "Los Angeles", "Chicago", "Houston", "Seattle", "Austin")),
    ("GB", 10.0, ("London", "Manchester", "Birmingham", "Edinburgh")),
    ("DE", 9.0, ("Berlin", "Munich", "Hamburg", "Köln")),
    ("FR", 7.0, ("Paris", "Lyon", "Marseille")),
    ("IN", 8.0, ("Mumbai", "Bengaluru", "Delhi", "Chennai")),
    ("BR", 6.0, ("São Paulo", "Rio de Janeiro", "Belo Horizonte")),
    ("JP", 5.0, ("Tokyo", "Osaka", "Nagoya")),
    ("CA", 5.0, ("Toronto", "Vancouver", "Montréal")),
    ("AU", 4.0, ("Sydney", "Melbourne", "Brisbane")),
    ("ES", 4.0, ("Madrid", "Barcelona", "Valencia")),
    ("NL", 3.0, ("Amsterdam", "Rotterdam")),
    ("MX", 3.0, ("Mexico City", "Guadalajara", "Monterrey")),
    ("PL", 2.0, ("Warsaw", "Kraków")),
)

#: Accept-Language header per country (what the browser would send).
LANGUAGES: dict[str, str] = {
    "US": "en-US,en;q=0.9",
    "GB": "en-GB,en;q=0.9",
    "DE": "de-DE,de;q=0.9,en;q=0.8",
    "FR": "fr-FR,fr;q=0.9,en;q=0.8",
    "IN": "en-IN,en;q=0.9,hi;q=0.8",
    "BR": "pt-BR,pt;q=0.9,en;q=0.8",
    "JP": "ja-JP,ja;q=0.9,en;q=0.8",
    "CA": "en-CA,en;q=0.9,fr-CA;q=0.8",
    "AU": "en-AU,en;q=0.9",
    "ES": "es-ES,es;q=0.9,en;q=0.8",
    "NL": "nl-NL,nl;q=0.9,en;q=0.8",
    "MX": "es-MX,es;q=0.9,en;q=0.8",
    "PL": "pl-PL,pl;q=0.9,en;q=0.8",
}


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """A device/OS/browser combination and the user-agent template it sends.

    The user agent is built from the same profile that names device_type, browser and os, so the
    derived fields and the raw string the transformer drops always agree.
    """

    device_type: str
    os: str
    browser: str
    weight: float
    ua_template: str  # {v} = browser major version, {o} = OS version
    browser_versions: tuple[int, ...]
    os_versions: tuple[str, ...]
    sdk: str


DEVICE_PROFILES: tuple[DeviceProfile, ...] = (
    DeviceProfile(
        "desktop",
        "Windows",
        "Chrome",
        22.0,
        "Mozilla/5.0 (Windows NT {o}; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36",
        (128, 129, 130, 131),
        ("10.0",),
        "web-js",
    ),
    DeviceProfile(
        "desktop",
        "Windows",
        "Edge",
        7.0,
        "Mozilla/5.0 (Windows NT {o}; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0",
        (129, 130, 131),
        ("10.0",),
        "web-js",
    ),
    DeviceProfile(
        "desktop",
        "Windows",
        "Firefox",
        4.0,
        "Mozilla/5.0 (Windows NT {o}; Win64; x64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
        (131, 132, 133),
        ("10.0",),
        "web-js",
    ),
    DeviceProfile(
        "desktop",
        "macOS",
        "Safari",
        7.0,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X {o}) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/{v}.1 Safari/605.1.15",
        (17, 18),
        ("10_15_7",),
        "web-js",
    ),
    DeviceProfile(
        "desktop",
        "macOS",
        "Chrome",
        6.0,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X {o}) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36",
        (129, 130, 131),
        ("10_15_7",),
        "web-js",
    ),
    DeviceProfile(
        "desktop",
        "Linux",
        "Firefox",
        2.0,
        "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
        (131, 132, 133),
        ("",),
        "web-js",
    ),
    DeviceProfile(
        "mobile",
        "iOS",
        "Safari",
        20.0,
        "Mozilla/5.0 (iPhone; CPU iPhone OS {o} like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/{v}.0 Mobile/15E148 Safari/604.1",
        (17, 18),
        ("17_6", "18_1", "18_2"),
        "ios-sdk",
    ),
    DeviceProfile(
        "mobile",
        "Android",
        "Chrome",
        18.0,
        "Mozilla/5.0 (Linux; Android {o}; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Mobile Safari/537.36",
        (129, 130, 131),
        ("13", "14", "15"),
        "android-sdk",
    ),
    DeviceProfile(
        "mobile",
        "Android",
        "Samsung Internet",
        4.0,
        "Mozilla/5.0 (Linux; Android {o}; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like "
        "Gecko) SamsungBrowser/{v}.0 Chrome/125.0.0.0 Mobile Safari/537.36",
        (26, 27),
        ("14", "15"),
        "android-sdk",
    ),
    DeviceProfile(
        "tablet",
        "iOS",
        "Safari",
        5.0,
        "Mozilla/5.0 (iPad; CPU OS {o} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/{v}.0 Mobile/15E148 Safari/604.1",
        (17, 18),
        ("17_6", "18_1"),
        "ios-sdk",
    ),
    DeviceProfile(
        "tablet",
        "Android",
        "Chrome",
        3.0,
        "Mozilla/5.0 (Linux; Android {o}; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/{v}.0.0.0 Safari/537.36",
        (130, 131),
        ("14",),
        "android-sdk",
    ),
)

SDK_VERSIONS: dict[str, tuple[str, ...]] = {
    "web-js": ("3.4.1", "3.5.0", "3.5.2"),
    "ios-sdk": ("5.12.0", "5.13.1"),
    "android-sdk": ("4.8.3", "4.9.0"),
}

#: RFC 5737 documentation ranges: synthetic IPs that can never identify a real person.
IP_PREFIXES: tuple[str, ...] = ("192.0.2.", "198.51.100.", "203.0.113.")

CATEGORIES: tuple[str, ...] = (
    "electronics", "books", "home", "fashion", "sports", "toys", "beauty", "garden", "grocery",
    "music",
)  # fmt: skip

#: Content pages (not product pages), most popular first; popularity is Zipf over this order.
CONTENT_PAGES: tuple[str, ...] = (
    "/",
    "/deals",
    *(f"/category/{c}" for c in CATEGORIES),
    "/new-arrivals",
    "/bestsellers",
    "/account",
    "/orders",
    "/wishlist",
    "/help",
    "/help/shipping",
    "/help/returns",
    "/stores",
    "/gift-cards",
    "/blog",
    "/about",
    "/careers",
    "/privacy",
)

ADJECTIVES: tuple[str, ...] = (
    "wireless", "organic", "compact", "classic", "smart", "portable", "vintage", "ultra",
    "eco", "premium", "mini", "pro",
)  # fmt: skip
NOUNS: dict[str, tuple[str, ...]] = {
    "electronics": ("headphones", "charger", "speaker", "monitor", "keyboard", "webcam"),
    "books": ("novel", "cookbook", "atlas", "notebook", "comic"),
    "home": ("lamp", "blanket", "kettle", "mug", "pillow"),
    "fashion": ("jacket", "sneakers", "scarf", "backpack", "watch"),
    "sports": ("yoga mat", "dumbbells", "bike helmet", "water bottle"),
    "toys": ("puzzle", "lego set", "plush bear", "kite"),
    "beauty": ("serum", "shampoo", "lip balm", "perfume"),
    "garden": ("planter", "hose", "seeds", "shears"),
    "grocery": ("coffee", "tea", "olive oil", "chocolate"),
    "music": ("vinyl", "guitar strings", "ukulele", "metronome"),
}
#: Typical price range (USD) per category.
PRICE_RANGES: dict[str, tuple[float, float]] = {
    "electronics": (15.0, 900.0),
    "books": (5.0, 60.0),
    "home": (8.0, 250.0),
    "fashion": (12.0, 400.0),
    "sports": (10.0, 300.0),
    "toys": (5.0, 150.0),
    "beauty": (4.0, 120.0),
    "garden": (3.0, 200.0),
    "grocery": (2.0, 40.0),
    "music": (5.0, 500.0),
}


@dataclass(frozen=True, slots=True)
class User:
    """A shopper. Everything here is stable for the user across sessions and days."""

    user_id: str
    country: str
    city: str
    device: DeviceProfile
    user_agent: str
    ip_address: str
    accept_language: str
    sdk_version: str


@dataclass(frozen=True, slots=True)
class Product:
    """A catalog item with a fixed unit price."""

    product_id: str
    name: str
    category: str
    price: float

    @property
    def url(self) -> str:
        return f"/product/{self.product_id}"


class ZipfPicker[T]:
    """Pick items with probability proportional to 1 / rank**s (rank 1 = first item).

    Cumulative weights are computed once; each pick is one ``random()`` and a bisect.
    """

    __slots__ = ("_cum", "_items", "_total")

    def __init__(self, items: Sequence[T], s: float = 1.1) -> None:
        if not items:
            raise ValueError("ZipfPicker needs at least one item")
        self._items = list(items)
        self._cum = list(itertools.accumulate(1.0 / (r**s) for r in range(1, len(items) + 1)))
        self._total = self._cum[-1]

    def pick(self, rng: random.Random) -> T:
        i = bisect.bisect_right(self._cum, rng.random() * self._total)
        return self._items[min(i, len(self._items) - 1)]


class WeightedPicker[T]:
    """Pick items by explicit weights (precomputed cumulative weights, one bisect per pick)."""

    __slots__ = ("_cum", "_items", "_total")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self._items = list(items)
        self._cum = list(itertools.accumulate(weights))
        self._total = self._cum[-1]

    def pick(self, rng: random.Random) -> T:
        i = bisect.bisect_right(self._cum, rng.random() * self._total)
        return self._items[min(i, len(self._items) - 1)]


def make_user(rng: random.Random, index: int) -> User:
    """One user with a consistent home, device, user agent and IP."""
    country, _, cities = _COUNTRY_PICKER.pick(rng)
    city = rng.choice(cities)
    device = _DEVICE_PICKER.pick(rng)
    ua = device.ua_template.format(
        v=rng.choice(device.browser_versions), o=rng.choice(device.os_versions)
    )
    ip = f"{rng.choice(IP_PREFIXES)}{rng.randint(1, 254)}"
    sdk = f"{device.sdk}/{rng.choice(SDK_VERSIONS[device.sdk])}"
    user_id = f"u{index:06d}-{rng.getrandbits(32):08x}"
    return User(user_id, country, city, device, ua, ip, LANGUAGES[country], sdk)


def make_products(rng: random.Random, n: int) -> list[Product]:
    """A catalog of ``n`` products; prices are log-uniform within the category's range."""
    products = []
    for i in range(n):
        category = CATEGORIES[i % len(CATEGORIES)]
        lo, hi = PRICE_RANGES[category]
        price = round(lo * (hi / lo) ** rng.random(), 2)
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS[category])}"
        products.append(Product(f"P{i + 1:05d}", name, category, price))
    return products


_COUNTRY_PICKER = WeightedPicker(COUNTRIES, [c[1] for c in COUNTRIES])
_DEVICE_PICKER = WeightedPicker(DEVICE_PROFILES, [d.weight for d in DEVICE_PROFILES])


@dataclass
class World:
    """Users, products and popularity pickers for one run."""

    users: list[User]
    products: list[Product]
    user_picker: ZipfPicker[User]  # a few heavy shoppers, a long tail of occasional visitors
    product_picker: ZipfPicker[Product]
    page_picker: ZipfPicker[str]


def build_world(rng: random.Random, *, n_users: int, n_products: int = 300) -> World:
    """Build the world for a run; ranks are shuffled so popularity is not tied to id order."""
    users = [make_user(rng, i) for i in range(n_users)]
    products = make_products(rng, n_products)
    ranked_products = products[:]
    rng.shuffle(ranked_products)
    ranked_users = users[:]
    rng.shuffle(ranked_users)
    return World(
        users=users,
        products=products,
        user_picker=ZipfPicker(ranked_users, s=0.6),
        product_picker=ZipfPicker(ranked_products, s=1.05),
        page_picker=ZipfPicker(CONTENT_PAGES, s=1.2),
    )
