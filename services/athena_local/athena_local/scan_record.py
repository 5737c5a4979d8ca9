"""Which Parquet files an Arrow-route scan read: the pruning evidence of the S3 route.

DuckDB prints pruning evidence for its own Parquet reader (``Scanning Files: 1/30``), but a
registered Arrow dataset is scanned by Arrow, out of DuckDB's sight. To scan one, DuckDB asks the
dataset for a scanner with the filter it pushes down (``dataset.scanner(columns=, filter=)``), and
Arrow's scanner opens exactly the fragments ``dataset.get_fragments(filter)`` yields: a file whose
partition expression contradicts the filter is never opened. :class:`RecordingDataset` writes
that list down at that moment, so ``--explain`` and the tests see the files a query read and the
ones it skipped, from the filter DuckDB really pushed rather than from a plan.

The recorder stays out of the I/O path on purpose. It used to wrap the filesystem in a Python
``FileSystemHandler``, which Arrow's threads call with the GIL, holding the scan's lock; DuckDB
calls ``Scanner.to_reader()`` with the GIL held, and pyarrow 26 does not release it while that
call waits for the same lock: an intermittent deadlock (docs/athena-local.md, "Reading through
pyarrow"). Here every file is opened and read by the C++ filesystem (S3 or local); the only
Python runs on the thread that asks for the scanner, before any file is opened.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pyarrow.dataset as ds


class ScanRecorder:
    """The files the scans of a :class:`RecordingDataset` were given, in order."""

    def __init__(self) -> None:
        self._paths: list[str] = []
        self._lock = threading.Lock()

    def opened(self) -> list[str]:
        """Paths read since the last :meth:`reset`, in order, without duplicates."""
        with self._lock:
            return list(dict.fromkeys(self._paths))

    def reset(self) -> None:
        """Forget what was read (call before the query you want to observe)."""
        with self._lock:
            self._paths.clear()

    def record(self, paths: Iterable[str]) -> None:
        with self._lock:
            self._paths.extend(paths)


class RecordingDataset(ds.FileSystemDataset):
    """A ``FileSystemDataset`` that tells its recorder which files each scanner will read.

    Built with :func:`recording`; it scans like the dataset it copies (same fragments, schema,
    format and filesystem), since the recording happens before the scan starts.
    """

    recorder: ScanRecorder

    def scanner(self, *args: Any, **kwargs: Any) -> ds.Scanner:
        """``Dataset.scanner(columns=None, filter=None, ...)``, recording the files it reads."""
        predicate = kwargs.get("filter", args[1] if len(args) > 1 else None)
        self.recorder.record(f.path for f in self.get_fragments(filter=predicate))
        return super().scanner(*args, **kwargs)


def recording(dataset: ds.FileSystemDataset, recorder: ScanRecorder) -> RecordingDataset:
    """``dataset`` reporting to ``recorder`` the files each scan of it reads."""
    copy = RecordingDataset(
        list(dataset.get_fragments()), dataset.schema, dataset.format, dataset.filesystem
    )
    copy.recorder = recorder
    return copy
