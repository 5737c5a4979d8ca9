"""Which days a run compacts and why (pure), and the handler's reading of its events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clickstream_common import compaction as layout
from clickstream_common.compaction import DayManifest, FoldedSource
from compactor.config import CompactorConfig
from compactor.handler import settings_from_env, today_of
from compactor.run import days_to_sweep, plan
from compactor.store import Listed

DAY = date(2024, 12, 25)
PREFIX = layout.day_prefix(DAY)
WHEN = datetime(2024, 12, 26, tzinfo=UTC)


def listed(*names: str) -> list[Listed]:
    return [Listed(PREFIX + n, "etag", 10, WHEN) for n in names]


DELTA_A = "0123456789abcdef-raw-a.parquet"
DELTA_B = "fedcba9876543210-raw-b.parquet"
COMPACTED = "compacted-20241226T013000Z-abc123-0000.parquet"


def compacted_manifest() -> DayManifest:
    return DayManifest(
        day=DAY.isoformat(),
        files=({"key": PREFIX + COMPACTED, "rows": 10},),
        sources={"0123456789abcdef": FoldedSource("2024-12-25T00:00:00+00:00", 10, 10, "md5")},
    )


def test_a_day_never_compacted_is_compacted_when_it_has_files() -> None:
    assert plan(None, [], CompactorConfig(), explicit=False) is None
    assert plan(None, listed(DELTA_A), CompactorConfig(), explicit=False) == (
        "first compaction of 1 files"
    )


def test_a_compacted_day_waits_for_k_late_files_unless_asked() -> None:
    config = CompactorConfig(min_uncompacted_files=2)
    manifest = compacted_manifest()
    assert plan(manifest, listed(COMPACTED), config, explicit=False) is None
    assert plan(manifest, listed(COMPACTED, DELTA_B), config, explicit=False) is None
    assert plan(manifest, listed(COMPACTED, DELTA_B), config, explicit=True) == (
        "1 uncompacted files"
    )
    assert plan(manifest, listed(COMPACTED, DELTA_B, "aaaaaaaaaaaaaaaa-c.parquet"), config, False)


def test_a_folded_source_published_again_or_a_dead_run_needs_a_run_whatever_k() -> None:
    config = CompactorConfig(min_uncompacted_files=100)
    manifest = compacted_manifest()
    assert plan(manifest, listed(COMPACTED, DELTA_A), config, False) == (
        "1 folded sources published again"
    )
    dead = "compacted-20241227T013000Z-ffffff-0000.parquet"
    assert plan(manifest, listed(COMPACTED, dead), config, False) == (
        "1 files of a run that died before its commit"
    )


def test_day_keys_and_sources() -> None:
    assert layout.delta_source(PREFIX + DELTA_A) == "0123456789abcdef"
    assert layout.delta_source(PREFIX + COMPACTED) is None
    assert layout.delta_source(PREFIX + "by-hand.parquet") == "file:by-hand.parquet"
    assert layout.day_of_prefix_key(PREFIX + DELTA_A) == DAY
    assert layout.manifest_key(DAY) == "compaction/year=2024/month=12/day=25/manifest.json"


def test_the_sweep_starts_with_yesterday() -> None:
    assert days_to_sweep(date(2024, 12, 27), 3) == [
        date(2024, 12, 26),
        date(2024, 12, 25),
        date(2024, 12, 24),
    ]


def test_the_schedule_event_time_is_the_day_it_fired() -> None:
    event = {"source": "aws.events", "time": "2024-12-28T01:30:00Z"}
    assert today_of(event) == date(2024, 12, 28)
    assert today_of({}, now=WHEN.timestamp()) == date(2024, 12, 26)


def test_settings_from_the_environment() -> None:
    bucket, config = settings_from_env(
        {
            "TRANSFORMED_BUCKET": "b",
            "TARGET_FILE_MB": "128",
            "SWEEP_DAYS": "3",
            "MIN_UNCOMPACTED_FILES": "5",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
        },
        lease_s=120,
    )
    assert bucket == "b" and config.target_file_bytes == 128 << 20
    assert (config.sweep_days, config.min_uncompacted_files, config.lease_s) == (3, 5, 120)
    assert config.memory_limit_mb == 3008 * 4 // 10
    with pytest.raises(RuntimeError, match="TRANSFORMED_BUCKET"):
        settings_from_env({})


def test_a_manifest_round_trips_and_a_future_version_is_refused() -> None:
    manifest = compacted_manifest()
    assert layout.parse_manifest(manifest.to_json()) == manifest
    with pytest.raises(ValueError, match="unsupported compaction manifest"):
        layout.parse_manifest(b'{"version": 99}')
