"""Tunables of the transformer, with defaults that fit a 1-2 GB Lambda.

Everything deployment-specific (prefixes, bucket) comes from the handler's environment or the
CLI; everything here is about how the work is done, so tests and benchmarks can vary it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from clickstream_common.compaction import COMPACTION_PREFIX
from clickstream_common.schema import EVENTS_PREFIX, MANIFESTS_PREFIX, QUARANTINE_PREFIX

MiB = 1 << 20


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class TransformConfig:
    """How one object is transformed.

    ``block_size``: decompressed bytes parsed per vectorized call (one bad record costs at most
    one re-parse of its block). ``row_group_rows``: rows buffered per day before a Parquet row
    group is written (large row groups suit Athena/DuckDB scans; memory is bounded by
    ``max_buffered_rows`` across all days). ``min_timestamp``/``max_future``: the sane window for
    event time; ``now`` pins "now" for reproducible tests. ``publish_lease_s``: how long a
    publish claim holds off other versions of the key (longer than committing the outputs
    takes; a dead invocation's claim is taken over after it); ``publish_wait_s``: how long an
    invocation waits for an older one's publish before failing (Lambda then retries).
    """

    block_size: int = 8 * MiB
    workers: int = field(default_factory=_default_workers)
    row_group_rows: int = 128 * 1024
    max_buffered_rows: int = 256 * 1024
    compression: str = "zstd"
    compression_level: int | None = None
    min_timestamp: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    max_future: timedelta = timedelta(days=1)
    now: datetime | None = None
    events_prefix: str = EVENTS_PREFIX
    quarantine_prefix: str = QUARANTINE_PREFIX
    manifests_prefix: str = MANIFESTS_PREFIX
    #: Where the compactor keeps each day's state (read when a source is published again).
    compaction_prefix: str = COMPACTION_PREFIX
    publish_lease_s: float = 300.0
    publish_wait_s: float = 60.0

    def max_timestamp(self) -> datetime:
        return (self.now or datetime.now(UTC)) + self.max_future
