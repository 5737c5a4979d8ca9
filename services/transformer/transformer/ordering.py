"""Which invocation may publish a source's outputs: S3 event order, decided on the manifest (pure).

S3 does not promise that the events of one key arrive, or that their invocations finish, in the
order of the writes: a large object overwritten by a small one can finish last and would publish
the old content over the new. Every S3 event carries a ``sequencer`` (hex string, increasing
per key; compare after left-padding the shorter one with zeros, as the S3 event documentation
says). The per-source manifest records the sequencer it describes, and publishing is guarded by a
*claim* in that manifest, written with a conditional PUT (``If-Match`` on the manifest's ETag,
``If-None-Match: *`` for the first one), so:

* an invocation whose sequencer is older than the published or claimed one is *superseded*: it
  publishes nothing and ends cleanly (the newer invocation describes the current object);
* an invocation that finds an older invocation publishing waits for it (two uploads of the same
  output key must not interleave), unless the claim is older than its lease (a dead invocation);
* a retry of the same event (same sequencer) takes over its own claim.

A source without a sequencer (a replay reads the *current* object) is never superseded by order;
it only waits for a running claim. The functions here decide; :mod:`transformer.pipeline` does the
I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from transformer.model import SourceRef

MANIFEST_VERSION = 2


def sequencer_key(sequencer: str, width: int) -> str:
    """``sequencer`` upper-cased and left-padded with zeros to ``width`` (S3's comparison rule)."""
    return sequencer.upper().rjust(width, "0")


def compare_sequencers(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, the same as, or newer than ``b`` (same key only)."""
    width = max(len(a), len(b))
    ka, kb = sequencer_key(a, width), sequencer_key(b, width)
    return (ka > kb) - (ka < kb)


def normalize_etag(etag: str | None) -> str | None:
    """ETags without quotes: S3 events carry them bare, GetObject/ListObjects quoted."""
    if etag is None:
        return None
    return etag.strip().strip('"') or None


@dataclass(frozen=True, slots=True)
class Claim:
    """An invocation publishing right now: its sequencer, ETag, the keys it may have written
    (a successor deletes them if it does not produce them), and when its lease ends."""

    sequencer: str | None
    etag: str | None
    keys: tuple[str, ...]
    expires: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "sequencer": self.sequencer,
            "etag": self.etag,
            "keys": list(self.keys),
            "expires": round(self.expires, 3),
        }


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a manifest object says: the published version and, while publishing, the claim."""

    doc: dict[str, Any] = field(default_factory=dict)
    claim: Claim | None = None

    @property
    def sequencer(self) -> str | None:
        value = self.doc.get("sequencer")
        return str(value) if value else None

    @property
    def etag(self) -> str | None:
        return normalize_etag(self.doc.get("etag"))

    @property
    def keys(self) -> set[str]:
        return {str(k) for k in self.doc.get("keys", [])}


def parse_manifest(raw: bytes | None) -> Manifest | None:
    """The manifest in ``raw``; None when absent. An unreadable one counts as absent (it is
    overwritten by the next publish)."""
    if not raw:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    claim = None
    c = doc.get("claim")
    if isinstance(c, dict):
        claim = Claim(
            sequencer=str(c["sequencer"]) if c.get("sequencer") else None,
            etag=normalize_etag(c.get("etag")),
            keys=tuple(str(k) for k in c.get("keys", [])),
            expires=float(c.get("expires", 0)),
        )
    return Manifest({k: v for k, v in doc.items() if k != "claim"}, claim)


class Verdict(Enum):
    PUBLISH = "publish"  # claim the manifest and publish
    SUPERSEDED = "superseded"  # a newer version is (being) published: publish nothing
    WAIT = "wait"  # an older invocation is publishing: wait for it, then decide again


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str


def _older(mine: str | None, theirs: str | None) -> bool:
    return mine is not None and theirs is not None and compare_sequencers(mine, theirs) < 0


def decide(current: Manifest | None, source: SourceRef, now: float) -> Decision:
    """May ``source`` (the version this invocation read) publish over ``current``?"""
    if current is None:
        return Decision(Verdict.PUBLISH, "no manifest yet")
    if _older(source.sequencer, current.sequencer):
        return Decision(
            Verdict.SUPERSEDED,
            f"sequencer {source.sequencer} is older than the published {current.sequencer}",
        )
    claim = current.claim
    if claim is None:
        return Decision(Verdict.PUBLISH, "no publish in progress")
    if _older(source.sequencer, claim.sequencer):
        return Decision(
            Verdict.SUPERSEDED,
            f"sequencer {source.sequencer} is older than the one being published "
            f"({claim.sequencer})",
        )
    same_event = (
        source.sequencer is not None
        and claim.sequencer is not None
        and compare_sequencers(source.sequencer, claim.sequencer) == 0
    )
    if same_event:
        return Decision(Verdict.PUBLISH, "taking over this event's own earlier claim (a retry)")
    if claim.expires <= now:
        return Decision(Verdict.PUBLISH, "taking over an expired claim (its invocation died)")
    return Decision(
        Verdict.WAIT,
        f"sequencer {claim.sequencer} is being published (lease until {claim.expires})",
    )


def keys_to_replace(current: Manifest | None) -> set[str]:
    """Keys a publish must delete unless it writes them again: the published ones, and those a
    dead or superseded claimer may have uploaded."""
    if current is None:
        return set()
    return current.keys | set(current.claim.keys if current.claim else ())


def claim_document(
    current: Manifest | None, source: SourceRef, keys: list[str], expires: float
) -> bytes:
    """The manifest while ``source`` publishes: the published version unchanged plus the claim."""
    doc: dict[str, Any] = (
        dict(current.doc) if current is not None else {"version": MANIFEST_VERSION}
    )
    doc["claim"] = Claim(
        source.sequencer, normalize_etag(source.etag), tuple(keys), expires
    ).to_dict()
    return json.dumps(doc, indent=1).encode()


def published_sequencer(current: Manifest | None, source: SourceRef) -> str | None:
    """The sequencer the new manifest records: the event's; for a replay (none), the published
    one if the replay read that same version, else none (any later event then wins)."""
    if source.sequencer is not None:
        return source.sequencer
    if current is not None and current.etag and current.etag == normalize_etag(source.etag):
        return current.sequencer
    return None
