"""A read-only pyarrow filesystem that records which files a query opened.

DuckDB prints pruning evidence for its own Parquet reader (``Scanning Files: 1/30``), but when it
scans a registered Arrow dataset (the S3 route) the files are opened by Arrow, out of DuckDB's
sight. Wrapping the real filesystem (S3 or local) in this recorder is what proves that a filter on
``year/month/day`` opened only that day's files: the evidence is the I/O itself, not a plan.
"""

from __future__ import annotations

import threading

import pyarrow.fs as pafs


class RecordingHandler(pafs.FileSystemHandler):
    """Delegates reads to ``inner`` and remembers every path opened for reading."""

    def __init__(self, inner: pafs.FileSystem) -> None:
        self.inner = inner
        self._opened: list[str] = []
        self._lock = threading.Lock()

    # -- what the recorder adds
    def opened(self) -> list[str]:
        """Paths opened since the last :meth:`reset`, in order, without duplicates."""
        with self._lock:
            return list(dict.fromkeys(self._opened))

    def reset(self) -> None:
        """Forget what was opened (call before the query you want to observe)."""
        with self._lock:
            self._opened.clear()

    def _record(self, path: str) -> None:
        with self._lock:
            self._opened.append(path)

    # -- FileSystemHandler: reads are delegated and recorded
    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordingHandler) and other.inner.equals(self.inner)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]  # mutable; pyarrow only compares handlers

    def get_type_name(self) -> str:
        return f"recording+{self.inner.type_name}"

    def normalize_path(self, path: str) -> str:
        normalized: str = self.inner.normalize_path(path)
        return normalized

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        infos: list[pafs.FileInfo] = self.inner.get_file_info(paths)
        return infos

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        infos: list[pafs.FileInfo] = self.inner.get_file_info(selector)
        return infos

    def open_input_file(self, path: str) -> object:
        self._record(path)
        return self.inner.open_input_file(path)

    def open_input_stream(self, path: str) -> object:
        self._record(path)
        return self.inner.open_input_stream(path)

    # -- writes are not this tool's business
    def _read_only(self, *_args: object, **_kwargs: object) -> None:
        raise OSError("the query runner's filesystem is read-only")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _read_only
    delete_file = move = copy_file = open_output_stream = open_append_stream = _read_only


def recording(inner: pafs.FileSystem) -> tuple[pafs.FileSystem, RecordingHandler]:
    """Wrap ``inner``; returns the filesystem to read through and the handler to ask."""
    handler = RecordingHandler(inner)
    return pafs.PyFileSystem(handler), handler
