"""Event-time partitioning: rows -> UTC calendar day -> Hive partition values.

Partition values are zero-padded strings (``year='2024'``, ``month='01'``) because Glue
catalogs Hive-style path values as strings and the queries compare them as strings.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

_EPOCH = date(1970, 1, 1)
_US_PER_DAY = 86_400_000_000


class Day(NamedTuple):
    """A partition: zero-padded ``year``, ``month``, ``day`` strings (UTC)."""

    year: str
    month: str
    day: str

    @classmethod
    def from_date(cls, d: date) -> Day:
        return cls(f"{d.year:04d}", f"{d.month:02d}", f"{d.day:02d}")

    def path(self) -> str:
        return f"year={self.year}/month={self.month}/day={self.day}"


def split_by_day(table: pa.Table, column: str = "event_timestamp") -> list[tuple[Day, pa.Table]]:
    """Group rows by the UTC day of ``column`` (timestamps after 1970, so floor == truncation)."""
    if table.num_rows == 0:
        return []
    micros = pc.cast(table[column], pa.int64())
    days = pc.divide(micros, _US_PER_DAY)
    distinct = pc.unique(days).to_pylist()
    if len(distinct) == 1:
        return [(Day.from_date(_EPOCH + timedelta(days=distinct[0])), table)]
    return [
        (Day.from_date(_EPOCH + timedelta(days=d)), table.filter(pc.equal(days, d)))
        for d in sorted(distinct)
    ]
