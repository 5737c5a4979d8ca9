"""Transform local files into a local directory with exactly the layout the Lambda writes to S3.

Used by the replay CLI (``--local-dir``), by tests and by other components' fixtures
(e.g. building a DuckDB test dataset): ``process_file(path, dest_root)`` writes
``dest_root/events/year=YYYY/month=MM/day=DD/*.parquet`` and ``dest_root/quarantine/*.jsonl``.
"""

from __future__ import annotations

from pathlib import Path

from transformer.config import TransformConfig
from transformer.model import SourceRef, Stats
from transformer.pipeline import process_object
from transformer.sink import LocalSink

#: Bucket name recorded for local files in quarantine entries and manifests.
LOCAL_BUCKET = "local"


def local_source(path: Path, key: str | None = None) -> SourceRef:
    """The source identity of a local file: its name unless a key is given (e.g. the path
    relative to a replayed directory, like ``raw/2024/12/25/10/x``). Same key -> same outputs."""
    return SourceRef(LOCAL_BUCKET, key or Path(path).name)


def process_file(
    path: Path,
    dest_root: Path,
    config: TransformConfig | None = None,
    key: str | None = None,
) -> Stats:
    """Transform one local file (NDJSON, concatenated JSON, or GZIP of either) into
    ``dest_root``; returns the reconciled counts."""
    path = Path(path)
    with path.open("rb") as stream:
        return process_object(stream, local_source(path, key), LocalSink(dest_root), config)
