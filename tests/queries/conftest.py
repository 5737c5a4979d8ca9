"""Fixtures for the query tests: small Parquet tables written with real pyarrow, in the Hive
layout the transformer produces, so the runner is exercised on real files without any mocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clickstream_common.schema import FIELD_NAMES, arrow_schema

EventDict = Mapping[str, object]


def event(ts: str, **fields: object) -> dict[str, object]:
    """A transformed-table row with defaults; ``ts`` is ISO-8601 UTC (``...Z``)."""
    row: dict[str, object] = dict.fromkeys(FIELD_NAMES)
    row.update(
        event_id=f"e-{ts}-{len(fields)}-{id(fields)}",
        event_type="page_view",
        user_id="u1",
        session_id="s1",
        page_url="/",
    )
    row.update(fields)
    row["event_timestamp"] = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return row


def write_hive_parquet(root: Path, rows: Iterable[EventDict], files_per_day: int = 1) -> Path:
    """Write rows as ``root/year=YYYY/month=MM/day=DD/part-N.parquet`` (partitioned by UTC day)."""
    by_day: dict[tuple[str, str, str], list[EventDict]] = {}
    for row in rows:
        ts = row["event_timestamp"]
        assert isinstance(ts, dt.datetime)
        utc = ts.astimezone(dt.UTC)
        by_day.setdefault((f"{utc.year:04d}", f"{utc.month:02d}", f"{utc.day:02d}"), []).append(row)
    schema = arrow_schema()
    for (y, m, d), day_rows in by_day.items():
        directory = root / f"year={y}" / f"month={m}" / f"day={d}"
        directory.mkdir(parents=True, exist_ok=True)
        for n in range(files_per_day):
            chunk = day_rows[n::files_per_day]
            if chunk:
                table = pa.Table.from_pylist([dict(r) for r in chunk], schema=schema)
                pq.write_table(table, directory / f"part-{n}.parquet")
    return root


@pytest.fixture
def parquet_dir(tmp_path: Path) -> Callable[[Iterable[EventDict], int], Path]:
    """Factory: write rows to a fresh events/ directory and return it."""

    def make(rows: Iterable[EventDict], files_per_day: int = 1) -> Path:
        return write_hive_parquet(tmp_path / "events", rows, files_per_day)

    return make
