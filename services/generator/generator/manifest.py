"""Ground truth of a run: what was actually delivered, counted the way the queries count.

The builder is fed the exact records that the sink confirmed (a record that failed for good is
not in the truth), so the manifest matches the data by construction. Tests still recompute it
independently from the NDJSON output; e2e tests compare query results and quarantine counts
with it. Keys are plain JSON (day = ``YYYY-MM-DD`` in UTC, the partition the transformer uses).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from generator.events import Record

MANIFEST_VERSION = 1


class ManifestBuilder:
    """Accumulates counts over delivered records."""

    def __init__(self) -> None:
        self.good = 0
        self.bad = 0
        self.by_event_type: Counter[str] = Counter()
        self.by_country: Counter[str] = Counter()
        self.page_views_by_page: Counter[str] = Counter()
        self.by_device_browser: Counter[tuple[str, str]] = Counter()
        self.by_day: Counter[str] = Counter()
        self.sessions: Counter[tuple[str, str, str]] = Counter()  # (day, user_id, session_id)
        self.bad_by_reason: Counter[str] = Counter()
        self.bad_by_kind: Counter[str] = Counter()

    def add(self, record: Record) -> None:
        m = record.meta
        if m is None:
            self.bad += 1
            self.bad_by_reason[record.bad_reason or "?"] += 1
            self.bad_by_kind[record.bad_kind or "?"] += 1
            return
        self.good += 1
        day = m.event_timestamp[:10]
        self.by_event_type[m.event_type] += 1
        self.by_country[m.country] += 1
        if m.event_type == "page_view":
            self.page_views_by_page[m.page_url] += 1
        self.by_device_browser[(m.device_type, m.browser)] += 1
        self.by_day[day] += 1
        self.sessions[(day, m.user_id, m.session_id)] += 1

    def sessions_by_day(self) -> dict[str, list[dict[str, Any]]]:
        """Per day, every (user_id, session_id) with its event count, most active first."""
        out: dict[str, list[dict[str, Any]]] = {}
        ordered = sorted(self.sessions.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1:]))
        for (day, user_id, session_id), n in ordered:
            out.setdefault(day, []).append(
                {"user_id": user_id, "session_id": session_id, "count": n}
            )
        return out

    def to_dict(self, **sections: Any) -> dict[str, Any]:
        """The manifest document; ``sections`` adds run metadata (parameters, delivery stats)."""
        return {
            "version": MANIFEST_VERSION,
            **sections,
            "good": self.good,
            "bad": self.bad,
            "bad_by_reason": dict(sorted(self.bad_by_reason.items())),
            "bad_by_kind": dict(sorted(self.bad_by_kind.items())),
            "by_event_type": dict(self.by_event_type.most_common()),
            "by_country": dict(self.by_country.most_common()),
            "page_views_by_page": dict(self.page_views_by_page.most_common()),
            "by_device_browser": [
                {"device_type": d, "browser": b, "count": n}
                for (d, b), n in self.by_device_browser.most_common()
            ],
            "by_day": dict(sorted(self.by_day.items())),
            "sessions_by_day": self.sessions_by_day(),
        }


def write_manifest(path: str | Path, doc: dict[str, Any]) -> None:
    """Write atomically (temp file + rename) so a reader never sees half a manifest."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(p)
