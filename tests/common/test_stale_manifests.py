"""Honest reconciliation: a manifest describing another version of its raw key is not done."""

from __future__ import annotations

from clickstream_common.inventory import Inventory, bare_etag


def test_a_manifest_naming_another_etag_is_stale_and_not_reconciled() -> None:
    inv = Inventory(
        raw_objects=2,
        raw_keys={"raw/a", "raw/b"},
        raw_etags={"raw/a": "e-a", "raw/b": "e-b2"},
        processed_keys={"raw/a", "raw/b"},
        manifest_etags={"raw/a": "e-a", "raw/b": "e-b1"},
        records_in=3,
        parquet_rows=3,
    )
    assert inv.stale_keys == ["raw/b"]
    assert inv.unprocessed_keys == ["raw/b"]
    assert inv.processed_objects == 1
    assert not inv.reconciled  # the counts add up, yet raw/b's new content is in no output
    assert "1 stale" in inv.summary()
    inv.manifest_etags["raw/b"] = "e-b2"
    assert inv.reconciled


def test_etags_compare_without_quotes() -> None:
    assert bare_etag('"abc"') == bare_etag("abc") == "abc"
    assert bare_etag(None) is None and bare_etag('""') is None
