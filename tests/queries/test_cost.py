"""Athena cost estimate: pure rules on hand-made file stats, then real Parquet footers."""

from __future__ import annotations

import pytest

from athena_local import cost
from athena_local.catalog import LocalDirSource, list_data_files

from .conftest import event

DB = "db"
MB = 1024**2


def stats(day: str, **columns: int) -> cost.FileStats:
    return cost.FileStats(
        f"year=2024/month=12/day={day}/f.parquet",
        {"year": "2024", "month": "12", "day": day},
        columns,
        100,
    )


FILES = [
    stats("24", user_id=40 * MB, session_id=30 * MB, country=5 * MB, event_type=1 * MB),
    stats("25", user_id=40 * MB, session_id=30 * MB, country=5 * MB, event_type=1 * MB),
]


def test_only_referenced_columns_of_the_filtered_partitions_are_billed() -> None:
    q = (
        "SELECT user_id, session_id, COUNT(*) AS actions FROM db.events "
        "WHERE year = '2024' AND month = '12' AND day = '25' GROUP BY user_id, session_id"
    )
    est = cost.estimate(q, FILES)
    assert est.columns == ("user_id", "session_id")
    assert (est.files_read, est.files_total) == (1, 2)
    assert est.bytes_scanned == 70 * MB
    assert est.billed_bytes == 70 * MB
    assert est.usd == pytest.approx(70 * MB / 1024**4 * 5)


def test_small_scans_are_billed_the_10_mb_minimum_and_rounded_up_to_a_megabyte() -> None:
    assert cost.billed(0) == 10 * MB
    assert cost.billed(10 * MB + 1) == 11 * MB
    est = cost.estimate("SELECT country, COUNT(*) FROM db.events GROUP BY country", FILES)
    assert est.bytes_scanned == 10 * MB and est.billed_bytes == 10 * MB
    est = cost.estimate("SELECT event_type FROM db.events", FILES)
    assert est.bytes_scanned == 2 * MB and est.billed_bytes == 10 * MB


def test_or_and_non_literal_partition_filters_are_not_assumed_to_prune() -> None:
    q = "SELECT country FROM db.events WHERE day = '25' OR day = '24'"
    assert cost.estimate(q, FILES).files_read == 2
    q = "SELECT country FROM db.events WHERE day IN ('25') AND month = '12'"
    assert cost.estimate(q, FILES).files_read == 1
    q = "SELECT country FROM db.events WHERE day = '26'"
    assert cost.estimate(q, FILES).files_read == 0


def test_file_stats_come_from_real_parquet_footers(parquet_dir) -> None:
    root = parquet_dir([event("2024-12-25T10:00:00Z", country="DE") for _ in range(50)])
    source = LocalDirSource(root)
    [file_stats] = cost.read_file_stats(source, list_data_files(source))
    assert file_stats.num_rows == 50
    assert file_stats.partition == {"year": "2024", "month": "12", "day": "25"}
    assert file_stats.column_bytes["country"] > 0
    assert "year" not in file_stats.column_bytes  # partition values live in the path


def test_human_bytes() -> None:
    assert cost.human_bytes(512) == "512 B"
    assert cost.human_bytes(1536) == "1.5 KB"
    assert cost.human_bytes(10 * MB) == "10.0 MB"
