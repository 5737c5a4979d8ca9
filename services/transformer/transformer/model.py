"""Plain data passed between the transformer's stages: where an object came from, what
happened to its records, and one quarantined record.

Kept free of pyarrow and boto3 so the handler, the CLI and the tests can share it cheaply.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field

from clickstream_common.schema import REASON_DUPLICATE_EVENT_ID


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The raw object being transformed.

    ``etag`` and ``version_id`` name the version read (the handler reads with ``If-Match``);
    ``sequencer`` is the S3 event's per-key ordering token (None for a replay), which decides
    which version may publish (:mod:`transformer.ordering`). Output keys depend on bucket and
    key alone, see :mod:`transformer.keys`.
    """

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """One raw record that did not make it into Parquet, with enough context to fix and replay it.

    ``line`` is the 1-based physical line of the (decompressed) object the record starts on and
    ``offset`` its byte offset, so concatenated records on one line are still told apart.
    ``raw`` is the record text; for undecodable bytes it is the text with U+FFFD replacements
    and ``raw_base64`` holds the original bytes, so nothing is lost.
    """

    line: int
    offset: int
    reason: str
    raw: str
    error: str | None = None
    raw_bytes: bytes | None = None
    event_id: str | None = None

    def to_json(self, source: SourceRef) -> str:
        doc: dict[str, object] = {
            "source_bucket": source.bucket,
            "source_key": source.key,
            "line": self.line,
            "offset": self.offset,
            "reason": self.reason,
        }
        if self.error:
            doc["error"] = self.error
        if self.event_id is not None:
            doc["event_id"] = self.event_id
        doc["raw"] = self.raw
        if self.raw_bytes is not None:
            doc["raw_base64"] = base64.b64encode(self.raw_bytes).decode("ascii")
        # ASCII-only: raw text may hold U+0085/U+2028/U+2029, which text-mode readers (Python's
        # str.splitlines, some JSON-lines tools) treat as line breaks and would split a record on.
        return json.dumps(doc, ensure_ascii=True, separators=(",", ":"))


@dataclass(slots=True)
class Stats:
    """Counts for one processed object. Invariant: ``records_in == records_written +
    records_quarantined``; duplicates are quarantined (reason ``duplicate_event_id``) so they
    are part of ``records_quarantined`` and also reported on their own as ``duplicates``."""

    source: SourceRef
    records_in: int = 0
    records_written: int = 0
    quarantined_by_reason: Counter[str] = field(default_factory=Counter)
    bytes_in: int = 0
    bytes_decoded: int = 0
    compressed: bool = False
    output_keys: list[str] = field(default_factory=list)
    deleted_keys: list[str] = field(default_factory=list)
    #: Day files not uploaded: the day's compacted files already hold exactly these rows.
    compacted_keys: list[str] = field(default_factory=list)
    #: Day files this source no longer produces in a compacted day: emptied, not deleted.
    emptied_keys: list[str] = field(default_factory=list)
    #: Day files (new or emptied) over rows already compacted: the next compaction replaces them.
    recompact_keys: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    #: Set when a newer version of the key was (being) published: nothing was published.
    superseded: str | None = None

    @property
    def records_quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    @property
    def duplicates(self) -> int:
        return self.quarantined_by_reason.get(REASON_DUPLICATE_EVENT_ID, 0)

    @property
    def reconciled(self) -> bool:
        return self.records_in == self.records_written + self.records_quarantined

    def to_dict(self) -> dict[str, object]:
        return {
            "source_bucket": self.source.bucket,
            "source_key": self.source.key,
            "etag": self.source.etag,
            "version_id": self.source.version_id,
            "sequencer": self.source.sequencer,
            "superseded": self.superseded,
            "records_in": self.records_in,
            "records_written": self.records_written,
            "records_quarantined": self.records_quarantined,
            "quarantined_by_reason": dict(sorted(self.quarantined_by_reason.items())),
            "duplicates": self.duplicates,
            "reconciled": self.reconciled,
            "bytes_in": self.bytes_in,
            "bytes_decoded": self.bytes_decoded,
            "compressed": self.compressed,
            "output_keys": list(self.output_keys),
            "deleted_keys": list(self.deleted_keys),
            "compacted_keys": list(self.compacted_keys),
            "emptied_keys": list(self.emptied_keys),
            "recompact_keys": list(self.recompact_keys),
            "duration_s": round(self.duration_s, 6),
        }


class ReconciliationError(AssertionError):
    """Counts did not add up: a bug in the transformer, never a property of the input."""
