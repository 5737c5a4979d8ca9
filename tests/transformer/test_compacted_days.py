"""Publishing a source again into a day the compactor folded it into (transformer.compacted):
identical day files are not uploaded again, changed ones are, and a day the source no longer
produces gets an empty file instead of a delete."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from clickstream_common import compaction as layout
from clickstream_common.compaction import DayManifest, FoldedSource
from transformer.pipeline import process_object
from transformer.replay import Summary
from transformer.sink import LocalSink

from .helpers import SOURCE, make_event, ndjson

DAY = date(2024, 12, 25)
EVENTS = [make_event(i) for i in range(20)]


def _fold(root: Path, key: str, rows: int) -> None:
    """What the compactor leaves: the delta gone, its MD5 in the day's manifest."""
    path = root / key
    md5 = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
    digest = layout.delta_source(key)
    assert digest is not None
    manifest = DayManifest(
        day=DAY.isoformat(),
        files=({"key": layout.day_prefix(DAY) + "compacted-x-0000.parquet", "rows": rows},),
        sources={digest: FoldedSource("2024-12-25T10:00:00+00:00", rows, rows, md5)},
    )
    LocalSink(root).put(layout.manifest_key(DAY), manifest.to_json(), "application/json")
    path.unlink()


def test_identical_republish_uploads_nothing_changed_one_uploads_the_delta(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    first = process_object(ndjson(EVENTS), SOURCE, sink)
    [key] = first.output_keys[:1]
    _fold(tmp_path, key, 20)

    again = process_object(ndjson(EVENTS), SOURCE, sink)
    assert again.compacted_keys == [key] and not (tmp_path / key).exists()
    assert again.records_written == 20  # the rows are in Parquet: in the compacted files

    assert again.recompact_keys == []

    changed = process_object(ndjson(EVENTS[:15]), SOURCE, sink)
    assert changed.compacted_keys == [] and pq.read_table(tmp_path / key).num_rows == 15
    assert changed.recompact_keys == [key], "the folded rows wait for the next compaction"

    summary = Summary()
    summary.add(changed)
    assert "compacted days with changed rows: 2024-12-25" in summary.render()


def test_a_day_no_longer_produced_gets_an_empty_file(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    first = process_object(ndjson(EVENTS), SOURCE, sink)
    key = first.output_keys[0]
    _fold(tmp_path, key, 20)
    moved = [make_event(i, event_timestamp="2024-12-26T10:00:00Z") for i in range(20)]
    second = process_object(ndjson(moved), SOURCE, sink)
    assert second.emptied_keys == [key] and key not in second.deleted_keys
    assert second.recompact_keys == [key]
    assert pq.read_table(tmp_path / key).num_rows == 0, "the compactor retires the folded rows"


def test_uncompacted_days_are_deleted_as_before(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    first = process_object(ndjson(EVENTS), SOURCE, sink)
    key = first.output_keys[0]
    moved = [make_event(i, event_timestamp="2024-12-26T10:00:00Z") for i in range(20)]
    second = process_object(ndjson(moved), SOURCE, sink)
    assert key in second.deleted_keys and not (tmp_path / key).exists()
