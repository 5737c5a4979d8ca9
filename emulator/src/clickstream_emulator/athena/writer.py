"""Write a statement's result as Athena writes data: Parquet files under an S3 location.

CTAS, INSERT INTO and UNLOAD write files named like Athena's (``<yyyyMMdd_HHmmss>_<n>_<id>_<uuid>``,
no extension), one per partition, under Hive folders ``key=value/`` for the partition columns
(``__HIVE_DEFAULT_PARTITION__`` for a NULL), with timestamps as INT96 like Athena's Parquet
writer. The caller lists the files in the data manifest (``<id>-manifest.csv``: one ``s3://``
path per line), which is how awswrangler and PyAthena find them.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from athena_local.glue_table import strip_scheme

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: Parquet codecs Athena's write_compression accepts for Parquet (NONE = uncompressed).
CODECS = {"GZIP": "gzip", "SNAPPY": "snappy", "ZSTD": "zstd", "LZ4": "lz4", "NONE": "none"}


@dataclass(frozen=True)
class Written:
    """One file written: its ``s3://`` path, its partition values and its partition folder."""

    path: str
    values: tuple[str, ...]
    folder: str
    rows: int


def file_name(query_id: str, index: int) -> str:
    """Athena-like data file name: Trino's query id (time, counter, tag) and a UUID."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d_%H%M%S")
    return f"{stamp}_{index:05d}_{query_id.replace('-', '')[:5]}_{uuid.uuid4()}"


def partition_text(value: object) -> str:
    if value is None:
        return NULL_PARTITION
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _join(location: str, rest: str) -> str:
    return location.rstrip("/") + "/" + rest


def write_parquet(
    fs: pafs.FileSystem,
    location: str,
    table: pa.Table,
    query_id: str,
    partitioned_by: Sequence[str] = (),
    compression: str = "GZIP",
    folder_for: dict[tuple[str, ...], str] | None = None,
) -> list[Written]:
    """Write ``table`` under ``location`` (``s3://bucket/prefix/``), one file per partition.

    ``folder_for`` overrides the folder of given partition values (an existing partition's
    registered location); otherwise the folder is ``key=value/...`` under the location.
    """
    codec = CODECS.get(compression.upper())
    if codec is None:
        raise ValueError(f"write_compression {compression!r}")
    data_columns = [n for n in table.column_names if n not in set(partitioned_by)]
    groups: list[tuple[tuple[str, ...], pa.Table]]
    if partitioned_by:
        keys = table.select(list(partitioned_by))
        distinct = keys.group_by(list(partitioned_by)).aggregate([]).to_pylist()
        groups = []
        for row in distinct:
            mask = None
            for name in partitioned_by:
                column = table.column(name)
                value = row[name]
                term = pc.is_null(column) if value is None else pc.equal(column, value)
                term = pc.fill_null(term, False)
                mask = term if mask is None else pc.and_(mask, term)
            values = tuple(partition_text(row[n]) for n in partitioned_by)
            groups.append((values, table.filter(mask).select(data_columns)))
        groups.sort(key=lambda g: g[0])
    else:
        groups = [((), table)] if table.num_rows else []
    written = []
    for index, (values, part) in enumerate(groups):
        folder = (folder_for or {}).get(values)
        if folder is None:
            hive = "/".join(f"{k}={v}" for k, v in zip(partitioned_by, values, strict=True))
            folder = _join(location, hive + "/") if hive else location.rstrip("/") + "/"
        path = _join(folder, file_name(query_id, index))
        buffer = io.BytesIO()
        pq.write_table(
            part,
            buffer,
            compression=codec,
            use_deprecated_int96_timestamps=True,
        )
        if not isinstance(fs, pafs.S3FileSystem):  # S3 has no folders; a local filesystem does
            fs.create_dir(strip_scheme(folder).rstrip("/"), recursive=True)
        with fs.open_output_stream(strip_scheme(path)) as sink:
            sink.write(buffer.getvalue())
        written.append(Written(path, values, folder, part.num_rows))
    return written


def manifest_text(paths: Sequence[str]) -> str:
    """The data manifest: one ``s3://`` path per line."""
    return "".join(f"{p}\n" for p in paths)


def delete_under(fs: pafs.FileSystem, location: str) -> int:
    """Delete every object under an S3 location (what Athena does for a managed table)."""
    selector = pafs.FileSelector(
        strip_scheme(location).rstrip("/"), recursive=True, allow_not_found=True
    )
    files = [i.path for i in fs.get_file_info(selector) if i.type == pafs.FileType.File]
    for path in files:
        fs.delete_file(path)
    return len(files)
