"""Ordered publishing: an older version of a key never publishes over a newer one, whatever
order the invocations finish in (transformer.ordering decides, the pipeline applies it).

Real pipeline, real Parquet in a real directory (LocalSink); the S3 side of the same protocol is
exercised by tests/e2e/test_overwrite_race.py against LocalStack.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest

from transformer import ordering
from transformer.keys import manifest_key
from transformer.model import SourceRef
from transformer.ordering import Claim, Manifest, Verdict, compare_sequencers, decide
from transformer.pipeline import PublishBusyError, process_object
from transformer.sink import LocalSink

from .helpers import Result, config, make_event, ndjson

KEY = "raw/2024/12/25/10/overwritten"
OLD = SourceRef("raw", KEY, "etag-old", sequencer="0055AED6DCD90281E5")
NEW = SourceRef("raw", KEY, "etag-new", sequencer="0055AED6DCD90281F0")
BIG = ndjson([make_event(i) for i in range(500)] + [make_event(0)])  # 1 duplicate
SMALL = ndjson([make_event(1000 + i, event_timestamp="2024-12-26T08:00:00Z") for i in range(7)])


def test_sequencers_compare_after_left_padding_with_zeros() -> None:
    assert compare_sequencers("0055AED6DCD90281E5", "55AED6DCD90281E5") == 0
    assert compare_sequencers("55AED6DCD90281E6", "0055AED6DCD90281E5") == 1
    assert compare_sequencers("FF", "100") == -1  # not a plain string comparison ("FF" > "100")
    assert compare_sequencers("0a", "0A") == 0


def test_decide_table() -> None:
    now = 1000.0
    published = Manifest({"sequencer": NEW.sequencer, "etag": "etag-new"})
    assert decide(None, OLD, now).verdict is Verdict.PUBLISH
    assert decide(published, OLD, now).verdict is Verdict.SUPERSEDED
    assert decide(published, NEW, now).verdict is Verdict.PUBLISH  # a retry of the same event
    replay = SourceRef("raw", KEY, "etag-new")
    assert decide(published, replay, now).verdict is Verdict.PUBLISH

    claimed = Manifest({}, Claim(OLD.sequencer, "etag-old", ("k",), now + 60))
    assert decide(claimed, NEW, now).verdict is Verdict.WAIT  # an older publish is running
    assert decide(claimed, OLD, now).verdict is Verdict.PUBLISH  # its own retry takes over
    assert decide(claimed, replay, now).verdict is Verdict.WAIT
    expired = Manifest({}, Claim(OLD.sequencer, "etag-old", ("k",), now - 1))
    assert decide(expired, NEW, now).verdict is Verdict.PUBLISH
    claimed_new = Manifest({}, Claim(NEW.sequencer, "etag-new", (), now + 60))
    assert decide(claimed_new, OLD, now).verdict is Verdict.SUPERSEDED


def _outputs(root: Path) -> tuple[list[str], list[str], list[dict]]:
    result = Result(None, root)  # type: ignore[arg-type]
    table = result.events()
    ids = sorted(table["event_id"].to_pylist()) if table.num_rows else []
    files = [f for f in result.files() if not f.startswith("manifests/")]
    return ids, files, result.quarantine()


def _reference(tmp_path: Path, data: bytes, source: SourceRef) -> tuple:
    root = tmp_path / "reference"
    process_object(data, source, LocalSink(root), config())
    return _outputs(root)


@pytest.mark.parametrize("order", ["new_finishes_last", "old_finishes_last"])
def test_outputs_describe_the_newest_version_in_either_finishing_order(
    tmp_path: Path, order: str
) -> None:
    root = tmp_path / "out"
    sink = LocalSink(root)
    runs = [(BIG, OLD), (SMALL, NEW)]
    if order == "old_finishes_last":
        runs.reverse()
    stats = [process_object(data, source, sink, config()) for data, source in runs]

    assert _outputs(root) == _reference(tmp_path, SMALL, NEW)
    manifest = json.loads((root / manifest_key("manifests/", NEW)).read_bytes())
    assert (manifest["etag"], manifest["sequencer"]) == ("etag-new", NEW.sequencer)
    assert "claim" not in manifest
    assert manifest["records_in"] == 7
    old_stats = stats[0] if order == "new_finishes_last" else stats[1]
    assert (old_stats.superseded is not None) == (order == "old_finishes_last")


def test_superseded_run_publishes_nothing_and_leaves_no_temp_files(tmp_path: Path) -> None:
    root = tmp_path / "out"
    process_object(SMALL, NEW, LocalSink(root), config())
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    stats = process_object(BIG, OLD, LocalSink(root), config())
    assert stats.superseded and "older" in stats.superseded
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_a_running_older_publish_is_waited_for_then_an_error_asks_for_a_retry(
    tmp_path: Path,
) -> None:
    root = tmp_path / "out"
    sink = LocalSink(root)
    m_key = manifest_key("manifests/", NEW)
    claim = ordering.claim_document(None, OLD, ["events/x"], time.time() + 60)
    sink.put(m_key, claim, "application/json")
    started = time.monotonic()
    with pytest.raises(PublishBusyError, match="being published"):
        process_object(SMALL, NEW, sink, config(publish_wait_s=0.3))
    assert time.monotonic() - started >= 0.3
    assert sink.read(m_key) == claim  # untouched


def test_a_dead_claim_is_taken_over_and_its_uploads_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "out"
    sink = LocalSink(root)
    # An older invocation died after uploading one output (a day the new version lacks).
    first = process_object(BIG, OLD, LocalSink(tmp_path / "scratch"), config())
    orphan = first.output_keys[0].replace("day=25", "day=24")
    sink.put(orphan, b"partial", "application/vnd.apache.parquet")
    m_key = manifest_key("manifests/", NEW)
    sink.put(
        m_key,
        ordering.claim_document(None, OLD, [orphan], time.time() - 1),
        "application/json",
    )
    stats = process_object(SMALL, NEW, sink, config())
    assert stats.superseded is None
    assert orphan in stats.deleted_keys and not (root / orphan).exists()
    assert _outputs(root) == _reference(tmp_path, SMALL, NEW)


def test_replay_keeps_the_sequencer_of_the_version_it_read(tmp_path: Path) -> None:
    root = tmp_path / "out"
    process_object(SMALL, NEW, LocalSink(root), config())
    replayed = replace(NEW, sequencer=None, etag='"etag-new"')
    process_object(SMALL, replayed, LocalSink(root), config())
    manifest = json.loads((root / manifest_key("manifests/", NEW)).read_bytes())
    assert (manifest["etag"], manifest["sequencer"]) == ("etag-new", NEW.sequencer)
    # ...so a late event of the older version is still superseded.
    assert process_object(BIG, OLD, LocalSink(root), config()).superseded


def test_dedup_unaffected(tmp_path: Path) -> None:
    """The ordering layer changes who publishes, not what: the big object's duplicate is still
    quarantined once."""
    stats = process_object(BIG, OLD, LocalSink(tmp_path), config())
    assert (stats.records_in, stats.records_written, stats.duplicates) == (501, 500, 1)
    assert isinstance(Result(stats, tmp_path).events(), pa.Table)


class _DuplicateTakesOver(LocalSink):
    """A duplicate delivery of the same event claims the manifest while this one commits."""

    def __init__(self, root: Path, source: SourceRef) -> None:
        super().__init__(root)
        self.source, self.done = source, False

    def put_if(self, key: str, data: bytes, content_type: str, match: str | None) -> str:
        if not self.done and b'"claim"' not in data:  # our final write: the duplicate was faster
            self.done = True
            current = ordering.parse_manifest(self.read(key))
            claim = ordering.claim_document(current, self.source, [], time.time() + 60)
            self.put(key, claim, content_type)
        return super().put_if(key, data, content_type, match)


def test_a_duplicate_delivery_taking_the_claim_over_is_not_an_error(tmp_path: Path) -> None:
    sink = _DuplicateTakesOver(tmp_path / "out", NEW)
    stats = process_object(SMALL, NEW, sink, config())  # the same event: no error
    assert stats.superseded is None and sink.done
    other = _DuplicateTakesOver(tmp_path / "other", NEW)
    newer = replace(NEW, sequencer="0055AED6DCD90281F1", etag="etag-newer")
    other.source = newer  # another version took over mid-publish: that one must fail
    with pytest.raises(RuntimeError, match="lost the publish claim"):
        process_object(SMALL, NEW, other, config())
