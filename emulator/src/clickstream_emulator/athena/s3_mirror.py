"""A local mirror of a table's S3 objects, refreshed before every query.

Inside LocalStack, S3 is served by the same Python process that runs the query: reading 30 MB of
Parquet through it costs seconds on a laptop, every query (bench/bench_athena_api.py). The engine
therefore syncs the table's objects to a directory first - one LIST, then a download of only the
objects that are new or changed (size or modification time), and removal of the ones that are
gone - and DuckDB reads the local copies. What a query sees is exactly what S3 holds at its start,
as on Athena; only the bytes travel less. The catalog table is translated to the mirror
(:func:`localize`), so the partition rules of :mod:`athena_local.glue_table` apply unchanged.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import pyarrow.fs as pafs

from athena_local.glue_table import CatalogTable, Partition, strip_scheme

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(prefix: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(prefix, threading.Lock())


def mirror_path(root: Path, s3_path: str) -> Path:
    """``s3://bucket/key`` (or ``bucket/key``) -> ``<root>/bucket/key``."""
    return root / strip_scheme(s3_path).lstrip("/")


def localize(table: CatalogTable, root: Path) -> CatalogTable:
    """The same table with every S3 location pointing into the mirror."""

    def local(path: str) -> str:
        return str(mirror_path(root, path)) + ("/" if path.endswith("/") else "")

    parameters = dict(table.parameters)
    template = parameters.get("storage.location.template")
    if template:
        parameters["storage.location.template"] = local(template)
    partitions = None
    if table.partitions is not None:
        partitions = tuple(Partition(p.values, local(p.location)) for p in table.partitions)
    return dataclasses.replace(
        table, location=local(table.location), parameters=parameters, partitions=partitions
    )


def sync(s3: pafs.FileSystem, location: str, root: Path) -> int:
    """Make ``<root>/<bucket>/<prefix>`` equal to ``s3://<bucket>/<prefix>``; returns downloads."""
    prefix = strip_scheme(location).rstrip("/")
    target = mirror_path(root, prefix)
    with _lock_for(prefix):
        selector = pafs.FileSelector(prefix, recursive=True, allow_not_found=True)
        remote = {
            info.path: info
            for info in s3.get_file_info(selector)
            if info.type == pafs.FileType.File
        }
        downloaded = 0
        for path, info in remote.items():
            local = mirror_path(root, path)
            mtime = info.mtime.timestamp() if info.mtime else 0.0
            if local.is_file():
                stat = local.stat()
                if stat.st_size == info.size and abs(stat.st_mtime - mtime) < 1e-3:
                    continue
            local.parent.mkdir(parents=True, exist_ok=True)
            partial = local.with_name(local.name + ".partial")
            with s3.open_input_stream(path) as source, open(partial, "wb") as sink:
                while chunk := source.read(8 * 1024 * 1024):
                    sink.write(chunk)
            os.utime(partial, (mtime, mtime))
            partial.replace(local)
            downloaded += 1
        if target.is_dir():
            for local in target.rglob("*"):
                key = str(local.relative_to(root)).replace(os.sep, "/")
                if local.is_file() and key not in remote:
                    local.unlink()
        return downloaded
