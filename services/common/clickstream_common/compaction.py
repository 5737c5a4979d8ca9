"""The compacted day: where its state lives and what its manifest says (shared, pure).

The compactor (``services/compactor``) folds a day's small per-source Parquet files ("deltas",
``events/year=/month=/day=/<digest>-<name>.parquet``, one per raw object) into a few large files
``compacted-<run>-<n>.parquet`` in the same folder, and keeps the day's state outside ``events/``
(so neither the crawler nor a query ever reads it):

* ``compaction/year=YYYY/month=MM/day=DD/manifest.json``: the committed state (the compacted
  files, every source folded in with its arrival, row counts and content hash, the provenance
  and duplicates objects by version), the inputs of a committed run still to be deleted, and the
  claim of a run in progress (a lease, written with a conditional PUT);
* ``.../provenance.parquet``: the source digest of every compacted row, row-aligned with the
  compacted files in manifest order, so a source published again replaces exactly its own rows;
* ``.../duplicates.parquet``: the rows dropped as duplicates (a later arrival of an id), with
  their source and whether their content differs from the kept row: counted, inspectable, and
  put back in play by the next run when the row that beat them goes away.

Both Parquet objects are overwritten by every run and read by the version id the manifest names
(the bucket is versioned), so a run that dies before its commit leaves the committed state intact.

The transformer reads the manifest when it publishes a source again (``clickstream-replay``, a
raw key overwritten), the inventory (``make status``) to reconcile raw = Parquet + quarantine +
duplicates removed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from clickstream_common.schema import EVENTS_PREFIX, PARTITION_KEYS

COMPACTION_PREFIX = "compaction/"
MANIFEST_VERSION = 1
#: Compacted files: ``compacted-<run>-<nnnn>.parquet`` (never a 16-hex digest, unlike deltas).
COMPACTED_PREFIX = "compacted-"
#: A transformer output (delta) is ``<sha256(bucket/key)[:16]>-<name>.parquet``.
_DELTA = re.compile(r"^([0-9a-f]{16})-.*\.parquet$")


def day_path(day: date) -> str:
    """``year=YYYY/month=MM/day=DD`` (zero-padded, as the transformer writes it)."""
    values = (f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}")
    return "/".join(f"{k}={v}" for k, v in zip(PARTITION_KEYS, values, strict=True))


def day_prefix(day: date, events_prefix: str = EVENTS_PREFIX) -> str:
    """``events/year=YYYY/month=MM/day=DD/``: the day partition."""
    return f"{events_prefix}{day_path(day)}/"


def state_prefix(day: date, compaction_prefix: str = COMPACTION_PREFIX) -> str:
    return f"{compaction_prefix}{day_path(day)}/"


def manifest_key(day: date, compaction_prefix: str = COMPACTION_PREFIX) -> str:
    return state_prefix(day, compaction_prefix) + "manifest.json"


def provenance_key(day: date, compaction_prefix: str = COMPACTION_PREFIX) -> str:
    return state_prefix(day, compaction_prefix) + "provenance.parquet"


def duplicates_key(day: date, compaction_prefix: str = COMPACTION_PREFIX) -> str:
    return state_prefix(day, compaction_prefix) + "duplicates.parquet"


def file_name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def is_compacted(key: str) -> bool:
    return file_name(key).startswith(COMPACTED_PREFIX) and key.endswith(".parquet")


def delta_source(key: str) -> str | None:
    """The source digest of a transformer output key; None for a compacted file. A Parquet
    file of any other name (put there by hand) counts as its own source, named by its file."""
    name = file_name(key)
    if not name.endswith(".parquet") or name.startswith(COMPACTED_PREFIX):
        return None
    match = _DELTA.match(name)
    return match.group(1) if match else f"file:{name}"


def day_of_prefix_key(key: str, events_prefix: str = EVENTS_PREFIX) -> date | None:
    """The day of ``events/year=YYYY/month=MM/day=DD/...``; None for any other key."""
    if not key.startswith(events_prefix):
        return None
    parts = dict(p.split("=", 1) for p in key[len(events_prefix) :].split("/") if "=" in p)
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class FoldedSource:
    """One source folded into the day: when it arrived (orders duplicates), how many rows it
    published for the day, how many of them are kept (the rest are duplicates), and the MD5 of
    the delta its rows came from (a publish of identical content needs no new delta)."""

    arrival: str
    rows: int
    kept: int
    md5: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"arrival": self.arrival, "rows": self.rows, "kept": self.kept, "md5": self.md5}


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    key: str
    version_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "version_id": self.version_id}


@dataclass(frozen=True, slots=True)
class DayManifest:
    """What ``manifest.json`` says. The fields other than ``claim`` are the committed state."""

    day: str
    files: tuple[dict[str, Any], ...] = ()
    sources: dict[str, FoldedSource] = field(default_factory=dict)
    provenance: ObjectVersion | None = None
    duplicates: ObjectVersion | None = None
    duplicate_rows: int = 0
    conflicts: int = 0
    #: Inputs of the committed run not deleted yet: queries see their rows twice until they are.
    pending_deletes: tuple[ObjectVersion, ...] = ()
    #: ``{"run": id, "expires": epoch seconds}`` while a run holds the day.
    claim: dict[str, Any] | None = None
    last_run: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(int(f.get("rows", 0)) for f in self.files)

    @property
    def file_keys(self) -> list[str]:
        return [str(f["key"]) for f in self.files]

    def to_json(self) -> bytes:
        doc = {
            "version": MANIFEST_VERSION,
            "day": self.day,
            "files": list(self.files),
            "rows": self.rows,
            "duplicate_rows": self.duplicate_rows,
            "conflicts": self.conflicts,
            "provenance": self.provenance.to_dict() if self.provenance else None,
            "duplicates": self.duplicates.to_dict() if self.duplicates else None,
            "pending_deletes": [p.to_dict() for p in self.pending_deletes],
            "claim": self.claim,
            "last_run": self.last_run,
            "sources": {k: v.to_dict() for k, v in sorted(self.sources.items())},
        }
        return json.dumps(doc, indent=1).encode()


def _version(doc: Any) -> ObjectVersion | None:
    if not isinstance(doc, dict) or not doc.get("key"):
        return None
    vid = doc.get("version_id")
    return ObjectVersion(str(doc["key"]), str(vid) if vid else None)


def parse_manifest(raw: bytes | None) -> DayManifest | None:
    """The manifest in ``raw``; None when absent. An unreadable manifest raises: it describes
    which files hold the day's rows, so guessing could lose or duplicate them."""
    if not raw:
        return None
    doc = json.loads(raw)
    if not isinstance(doc, dict) or doc.get("version") != MANIFEST_VERSION:
        raise ValueError(f"unsupported compaction manifest: version {doc.get('version')!r}")
    sources = {
        str(k): FoldedSource(
            arrival=str(v.get("arrival", "")),
            rows=int(v.get("rows", 0)),
            kept=int(v.get("kept", 0)),
            md5=v.get("md5"),
        )
        for k, v in (doc.get("sources") or {}).items()
    }
    return DayManifest(
        day=str(doc.get("day", "")),
        files=tuple(doc.get("files") or ()),
        sources=sources,
        provenance=_version(doc.get("provenance")),
        duplicates=_version(doc.get("duplicates")),
        duplicate_rows=int(doc.get("duplicate_rows", 0)),
        conflicts=int(doc.get("conflicts", 0)),
        pending_deletes=tuple(
            v for v in (_version(p) for p in doc.get("pending_deletes") or ()) if v
        ),
        claim=doc.get("claim") if isinstance(doc.get("claim"), dict) else None,
        last_run=doc.get("last_run") or {},
    )
