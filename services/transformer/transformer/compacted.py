"""Publishing a source again into days the compactor already folded it into.

The compactor (``services/compactor``) replaces a day's per-source files ("deltas") by a few
large files and deletes the deltas; the day's manifest (``clickstream_common.compaction``) names
every source folded in and the MD5 of the delta its rows came from. When a source is published
again (``clickstream-replay``, a raw key overwritten) its outputs must not bring those rows back
twice, so, for a source that was published before:

* a day file whose bytes equal the folded delta's (same object version, same code) is not
  uploaded: its rows are already in the compacted files. Checked only when no delta of the
  source is in the day (one would have to be replaced), which holds for the whole publish: the
  manifest claim keeps other versions of the source from writing meanwhile;
* any other day file is uploaded as usual: the compactor replaces the source's folded rows with
  it on its next run (its rows and the old ones are both visible until then);
* a day the source no longer produces, in a day the compactor has worked on, gets an empty file
  instead of a delete: the compactor then retires the source's folded rows (a delete would leave
  them, or race with a run reading the old file).
"""

from __future__ import annotations

import hashlib
import io
from datetime import date

import pyarrow.parquet as pq

from clickstream_common import compaction as layout
from clickstream_common.compaction import DayManifest
from transformer.config import TransformConfig
from transformer.keys import source_digest
from transformer.model import SourceRef
from transformer.sink import Sink
from transformer.validate import SCHEMA


def file_md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def empty_parquet() -> bytes:
    """A Parquet file of the events schema with no rows."""
    buf = io.BytesIO()
    pq.write_table(SCHEMA.empty_table(), buf)
    return buf.getvalue()


class CompactedDays:
    """The compaction state of the days a re-published source touches (read lazily, once)."""

    def __init__(self, sink: Sink, config: TransformConfig, source: SourceRef) -> None:
        self._sink = sink
        self._config = config
        self._digest = source_digest(source)
        self._manifests: dict[date, DayManifest | None] = {}
        #: Day files uploaded over a source's folded rows: until the day's next compaction
        #: queries see both; the compactor's next run (any K) replaces the folded rows.
        self.replacing: list[str] = []

    def _day(self, key: str) -> date | None:
        return layout.day_of_prefix_key(key, self._config.events_prefix)

    def _manifest(self, day: date) -> DayManifest | None:
        if day not in self._manifests:
            raw = self._sink.read(layout.manifest_key(day, self._config.compaction_prefix))
            self._manifests[day] = layout.parse_manifest(raw)
        return self._manifests[day]

    def already_compacted(self, key: str, path: str) -> bool:
        """True when the file at ``path`` (to be published as ``key``) holds exactly the rows
        the day's compacted files already hold for this source."""
        day = self._day(key)
        if day is None:
            return False
        manifest = self._manifest(day)
        folded = manifest.sources.get(self._digest) if manifest else None
        if folded is None:
            return False
        if not self._sink.exists(key) and folded.md5 == file_md5(path):
            return True
        self.replacing.append(key)  # new rows for the day: they replace the folded ones
        return False

    def retire(self, key: str) -> bool:
        """For a day file this source no longer produces: write an empty one instead of deleting
        it when the compactor has worked on the day (True), else leave the delete to the caller."""
        day = self._day(key)
        if day is None or self._manifest(day) is None:
            return False
        self._sink.put(key, empty_parquet(), "application/vnd.apache.parquet")
        return True
