"""The pure parts of the inventory (the S3 parts run in tests/e2e against the real stack)."""

from __future__ import annotations

from collections import Counter

from clickstream_common.inventory import Inventory, day_of_key


def test_day_of_key_reads_the_hive_partition() -> None:
    assert day_of_key("events/year=2024/month=12/day=05/ab-x.parquet") == "2024-12-05"
    assert day_of_key("events/year=2024/month=12/x.parquet") is None
    assert day_of_key("raw/2024/12/05/10/x") is None


def test_reconciled_needs_every_raw_object_processed_and_the_counts_to_add_up() -> None:
    inv = Inventory(
        raw_objects=2,
        raw_keys={"raw/a", "raw/b"},
        processed_keys={"raw/a"},
        records_in=10,
        parquet_rows=8,
        quarantine_records=2,
        quarantine_by_reason=Counter({"malformed_json": 2}),
    )
    assert inv.records_out == 10
    assert inv.unprocessed_keys == ["raw/b"]
    assert not inv.reconciled
    inv.processed_keys.add("raw/b")
    assert inv.reconciled
    inv.parquet_rows = 9  # a row appeared that no manifest accounts for
    assert not inv.reconciled


def test_manifests_of_deleted_raw_objects_do_not_count_as_processed() -> None:
    inv = Inventory(raw_keys={"raw/a"}, processed_keys={"raw/a", "raw/gone"})
    assert inv.processed_objects == 1
    assert inv.unprocessed_keys == []


def test_summary_names_every_stage() -> None:
    text = Inventory(raw_objects=1, raw_keys={"raw/a"}).summary()
    for word in ("raw=1", "0 processed", "records_in=0", "parquet_rows=0", "quarantined=0"):
        assert word in text
