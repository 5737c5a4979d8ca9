"""Parsing S3 event notifications into the objects to transform (pure, no AWS calls).

Keys in S3 notifications are URL-encoded with ``+`` for spaces (``unquote_plus``). Events may
carry several records; S3's ``s3:TestEvent`` (sent when a notification is configured) and
non-ObjectCreated records carry no work.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote_plus

from transformer.model import SourceRef


def s3_sources(event: Mapping[str, Any]) -> Iterator[SourceRef]:
    """The created objects named by an S3 event (direct S3 notification or EventBridge)."""
    for record in event.get("Records") or []:
        if "s3" not in record:
            continue
        name = str(record.get("eventName", "ObjectCreated:"))
        if not name.startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        obj = s3["object"]
        yield SourceRef(
            bucket=s3["bucket"]["name"],
            key=unquote_plus(obj["key"]),
            etag=obj.get("eTag") or obj.get("etag"),
            version_id=obj.get("versionId"),
            sequencer=obj.get("sequencer"),
        )
    if event.get("detail-type") == "Object Created" and "detail" in event:
        detail = event["detail"]
        obj = detail["object"]
        yield SourceRef(
            bucket=detail["bucket"]["name"],
            key=obj["key"],  # EventBridge keys are not URL-encoded
            etag=obj.get("etag"),
            version_id=obj.get("version-id"),
            sequencer=obj.get("sequencer"),
        )
