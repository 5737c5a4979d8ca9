"""The Arrow route's pruning evidence, and why no Python code may sit in its I/O path.

Real Parquet (the transformer's Hive layout), real DuckDB, real pyarrow: the recorder must name
exactly the files of the days a query filters on, while every file is read by pyarrow's C++
filesystem. A filesystem implemented in Python is refused, because DuckDB starting the Arrow scan
with the GIL held deadlocks against Arrow threads calling into it (docs/athena-local.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest

from athena_local import catalog
from athena_local.catalog import ArrowSource
from athena_local.scan_record import RecordingDataset, ScanRecorder

from .conftest import EventDict, event

DB = "db"


@pytest.fixture
def three_days(parquet_dir: Callable[[Iterable[EventDict], int], Path]) -> Path:
    rows = [
        event(f"2024-12-{day}T{hour:02d}:00:00Z", user_id=f"u{hour}")
        for day in ("24", "25", "26")
        for hour in range(4)
    ]
    return parquet_dir(rows, 2)


def test_the_recorder_names_the_files_each_filter_leaves_to_read(three_days: Path) -> None:
    source = ArrowSource.local(three_days, record=True)
    assert source.recorder is not None
    con = catalog.connect()
    files = catalog.attach_events(con, source, DB)
    day_25 = sorted(f.path for f in files if f.partition["day"] == "25")
    assert len(day_25) == 2 and len(files) == 6

    source.recorder.reset()
    rows = con.execute(f"SELECT count(*) FROM {DB}.events WHERE day = '25'").fetchall()
    assert rows == [(4,)]
    assert sorted(source.recorder.opened()) == day_25

    source.recorder.reset()
    assert con.execute(f"SELECT count(*) FROM {DB}.events").fetchall() == [(12,)]
    assert sorted(source.recorder.opened()) == sorted(f.path for f in files)
    con.close()


def test_the_recorded_dataset_reads_through_the_cxx_filesystem(three_days: Path) -> None:
    source = ArrowSource.local(three_days, record=True)
    table = catalog.default_table(source, DB)
    dataset = catalog.arrow_dataset(source, table, catalog.list_data_files(source, table))
    assert isinstance(dataset, RecordingDataset)
    assert isinstance(dataset.filesystem, pafs.LocalFileSystem)
    plain = ArrowSource.local(three_days)
    unrecorded = catalog.arrow_dataset(plain, table, catalog.list_data_files(plain, table))
    assert type(unrecorded) is ds.FileSystemDataset
    assert unrecorded.to_table().num_rows == dataset.to_table().num_rows == 12


def test_a_positional_filter_is_recorded_too(three_days: Path) -> None:
    recorder = ScanRecorder()
    source = ArrowSource.local(three_days)
    table = catalog.default_table(source, DB)
    files = catalog.list_data_files(source, table)
    dataset = catalog.arrow_dataset(ArrowSource.local(three_days, record=True), table, files)
    dataset.recorder = recorder
    scanner = dataset.scanner(["user_id"], ds.field("day") == "24")
    assert scanner.to_table().num_rows == 4
    assert sorted(recorder.opened()) == sorted(f.path for f in files if "day=24" in f.path)


class _Passthrough(pafs.FileSystemHandler):
    """The smallest Python filesystem: what the recorder used to be, what fsspec becomes."""

    def __init__(self) -> None:
        self.inner = pafs.LocalFileSystem()

    def __eq__(self, other: object) -> bool:
        return other is self

    def __ne__(self, other: object) -> bool:
        return other is not self

    __hash__ = None

    def get_type_name(self) -> str:
        return "passthrough"

    def normalize_path(self, path: str) -> str:
        return path

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return self.inner.get_file_info(paths)

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return self.inner.get_file_info(selector)

    def open_input_file(self, path: str) -> object:
        return self.inner.open_input_file(path)

    def open_input_stream(self, path: str) -> object:
        return self.inner.open_input_stream(path)

    def _read_only(self, *_args: object, **_kwargs: object) -> None:
        raise OSError("read-only")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = _read_only
    delete_file = move = copy_file = open_output_stream = open_append_stream = _read_only


def test_a_filesystem_implemented_in_python_is_refused(three_days: Path) -> None:
    source = ArrowSource(
        pafs.PyFileSystem(_Passthrough()), str(three_days.resolve()), "py:events", is_local=True
    )
    con = catalog.connect()
    with pytest.raises(TypeError, match=r"implemented in Python \(py::passthrough\)"):
        catalog.attach_events(con, source, DB)
    con.close()
