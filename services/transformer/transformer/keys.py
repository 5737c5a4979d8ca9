"""Deterministic output keys for a source object.

Keys depend on the source bucket and key only: a retried or duplicated S3 event, or a replay,
overwrites the same objects instead of adding rows. The ETag/version are deliberately *not* part
of the key: if a raw key were ever overwritten with new content, a new name would leave the old
rows behind (duplicates); with the same name the new content replaces them. A reprocess that
produces fewer day partitions than before is handled by the manifest (see
:mod:`transformer.pipeline`), which lists what was written last time.

``<digest>`` is the first 16 hex digits of sha256("bucket/key") (64 bits: collisions are
negligible for billions of objects); the readable part is the sanitized file name.
"""

from __future__ import annotations

import hashlib
import re

from clickstream_common.schema import RAW_PREFIX
from transformer.model import SourceRef
from transformer.partition import Day

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 96


def source_digest(source: SourceRef) -> str:
    return hashlib.sha256(f"{source.bucket}/{source.key}".encode()).hexdigest()[:16]


def safe_name(key: str) -> str:
    """The last path segment of ``key`` reduced to ``[A-Za-z0-9._-]``, at most 96 characters."""
    name = _UNSAFE.sub("_", key.rstrip("/").rsplit("/", 1)[-1]).strip("._") or "object"
    return name[:_MAX_NAME]


def base_name(source: SourceRef) -> str:
    return f"{source_digest(source)}-{safe_name(source.key)}"


def event_key(events_prefix: str, day: Day, source: SourceRef) -> str:
    """``events/year=YYYY/month=MM/day=DD/<digest>-<name>.parquet``."""
    return f"{events_prefix}{day.path()}/{base_name(source)}.parquet"


def quarantine_key(quarantine_prefix: str, source: SourceRef) -> str:
    """``quarantine/<raw dirs>/<digest>-<name>.jsonl``.

    Mirrors the Firehose arrival path (``raw/2024/12/25/10/x`` -> ``quarantine/2024/12/25/10/``)
    so an operator finds the bad records of an hour next to each other; other keys go flat.
    """
    subdir = ""
    if source.key.startswith(RAW_PREFIX) and "/" in source.key[len(RAW_PREFIX) :]:
        subdir = source.key[len(RAW_PREFIX) :].rsplit("/", 1)[0]
        subdir = "/".join(_UNSAFE.sub("_", part) for part in subdir.split("/") if part) + "/"
    return f"{quarantine_prefix}{subdir}{base_name(source)}.jsonl"


def manifest_key(manifests_prefix: str, source: SourceRef) -> str:
    """``manifests/<digest>.json``: the keys last written for this source."""
    return f"{manifests_prefix}{source_digest(source)}.json"
