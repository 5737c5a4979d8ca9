"""Helpers for transformer tests: realistic events, and reading back real Parquet/JSONL.

A uniquely named module (not ``conftest``) so that test files can import it even when other
test directories have their own ``conftest.py``."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from transformer.config import TransformConfig
from transformer.model import SourceRef, Stats

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
SOURCE = SourceRef("raw-bucket", "raw/2024/12/25/10/firehose-1-2024-12-25-10-00-00-abc", "etag1")


def make_event(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid raw event as the SDK sends it (with the fields the transformer drops)."""
    event: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=n + 1)),
        "event_type": "product_view",
        "event_timestamp": f"2024-12-25T10:{n // 60 % 60:02d}:{n % 60:02d}.123Z",
        "user_id": f"user_{n % 97:04d}",
        "session_id": f"sess_{n % 13:04d}",
        "page_url": f"/products/{n % 50}",
        "referrer": "https://www.google.com/",
        "device_type": "mobile",
        "browser": "Safari",
        "os": "iOS",
        "country": "DE",
        "city": "Berlin",
        "product_id": f"prod_{n % 500:05d}",
        "price": 19.99 + n,
        "quantity": 1 + n % 3,
        "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
        "ip_address": "203.0.113.7",
        "headers": {"cookie": "secret", "accept": "*/*"},
        "sdk_version": "2.3.1",
        "debug": {"trace": [1, 2, 3]},
    }
    event.update(overrides)
    return event


def line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def ndjson(events: list[dict[str, Any]]) -> bytes:
    return b"".join(line(e) + b"\n" for e in events)


@dataclass
class Result:
    stats: Stats
    root: Path

    def events(self) -> pa.Table:
        files = sorted((self.root / "events").rglob("*.parquet"))
        if not files:
            return pa.table({})
        return pa.concat_tables(pq.read_table(f, partitioning=None) for f in files)

    def event_files(self) -> list[Path]:
        return sorted((self.root / "events").rglob("*.parquet"))

    def quarantine(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for f in sorted((self.root / "quarantine").rglob("*.jsonl")):
            out.extend(json.loads(x) for x in f.read_text(encoding="utf-8").splitlines())
        return out

    def reasons(self) -> list[str]:
        return [q["reason"] for q in self.quarantine()]

    def files(self) -> list[str]:
        return sorted(
            p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()
        )


def config(**kw: Any) -> TransformConfig:
    return replace(TransformConfig(now=NOW), **kw)
