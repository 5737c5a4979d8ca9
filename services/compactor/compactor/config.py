"""Tunables of the compactor; deployment settings come from the handler's environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from clickstream_common.compaction import COMPACTION_PREFIX
from clickstream_common.schema import EVENTS_PREFIX

MiB = 1 << 20


def _default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class CompactorConfig:
    """How days are compacted.

    ``target_file_bytes``: a compacted file is closed once it reaches this size (so every file
    but a day's last is at least this large: a day of B bytes gives at most ceil(B / target)
    files). ``memory_limit_mb``: DuckDB's buffer pool; past it, the sort and the dedup spill to
    ``spool_dir`` (the Lambda's ephemeral storage), so a day larger than memory still compacts.
    ``min_uncompacted_files`` (K) and ``sweep_days`` (N): the sweep recompacts any of the last N
    days holding at least K files not compacted yet. ``lease_s``: how long a run holds a day
    (longer than a run can take: the Lambda timeout); a claim older than that belongs to a dead
    run and is taken over.
    """

    events_prefix: str = EVENTS_PREFIX
    compaction_prefix: str = COMPACTION_PREFIX
    target_file_bytes: int = 256 * MiB
    row_group_rows: int = 128 * 1024
    memory_limit_mb: int = 1024
    threads: int = field(default_factory=_default_threads)
    min_uncompacted_files: int = 1
    sweep_days: int = 7
    lease_s: float = 900.0
    compression: str = "zstd"
