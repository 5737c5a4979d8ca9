"""The local stand-in for the Glue catalog: DuckDB schema ``<glue_database>`` with view ``events``.

Two routes to the same view, chosen by the source:

* a local directory -> DuckDB's own Parquet reader (``read_parquet`` with Hive partitioning):
  fastest, and its profile shows pruning (``Scanning Files: 1/30``);
* S3 (LocalStack or AWS) -> a pyarrow dataset on ``pyarrow.fs.S3FileSystem`` registered in DuckDB.
  DuckDB's ``httpfs`` extension is downloaded at run time, which an offline machine cannot do;
  pyarrow ships S3 support in its wheel. DuckDB pushes ``year/month/day`` filters into the Arrow
  scanner, which skips non-matching partitions before opening a file. The same route also reads a
  local directory (``ArrowSource.local``), which the tests use to prove pruning without S3.

Both routes present the table the way Glue catalogs it for Athena: data columns from the shared
schema, then ``year``, ``month``, ``day`` as **strings**, and ``event_timestamp`` as a UTC
``TIMESTAMP`` (Parquet stores UTC instants; Athena shows them in UTC). The session ``TimeZone`` is
pinned to UTC too, so nothing depends on the laptop's zone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from athena_local.recording_fs import RecordingHandler, recording
from clickstream_common.outputs import output
from clickstream_common.schema import (
    EVENTS_PREFIX,
    FIELD_NAMES,
    PARTITION_KEYS,
    TABLE_NAME,
    arrow_schema,
)

#: The Hive layout under the table root: ``year=YYYY/month=MM/day=DD/<file>.parquet``.
PARTITION_GLOB = "/".join(f"{key}=*" for key in PARTITION_KEYS) + "/*.parquet"
_ARROW_VIEW_SOURCE = "__events_arrow"


class NoEventsError(RuntimeError):
    """The source holds no Parquet files (nothing transformed yet, or a wrong path)."""


@dataclass(frozen=True, slots=True)
class DataFile:
    """One Parquet file of the table, with the partition values from its path."""

    path: str
    partition: dict[str, str]
    size: int


@dataclass(frozen=True)
class LocalDirSource:
    """Transformed Parquet in a local directory, read by DuckDB's native reader."""

    root: Path

    is_local = True

    @property
    def label(self) -> str:
        return str(self.root)


@dataclass(frozen=True)
class ArrowSource:
    """Transformed Parquet read through a pyarrow filesystem (S3, or local for tests)."""

    filesystem: pafs.FileSystem
    base: str
    label: str
    is_local: bool = False
    recorder: RecordingHandler | None = field(default=None, compare=False)

    @classmethod
    def s3(cls, bucket: str, prefix: str = EVENTS_PREFIX, *, record: bool = False) -> ArrowSource:
        """``s3://bucket/prefix`` through pyarrow's S3 filesystem (endpoint from the env)."""
        base = f"{bucket}/{prefix.strip('/')}".rstrip("/")
        return cls._make(s3_filesystem(), base, f"s3://{base}/", False, record)

    @classmethod
    def local(cls, root: Path, *, record: bool = False) -> ArrowSource:
        """A local directory through the same Arrow route as S3."""
        base = str(events_root(root).resolve())
        return cls._make(pafs.LocalFileSystem(), base, f"arrow:{base}", True, record)

    @classmethod
    def _make(
        cls, fs: pafs.FileSystem, base: str, label: str, is_local: bool, record: bool
    ) -> ArrowSource:
        if not record:
            return cls(fs, base, label, is_local)
        wrapped, handler = recording(fs)
        return cls(wrapped, base, label, is_local, handler)


Source = LocalDirSource | ArrowSource


def s3_filesystem() -> pafs.S3FileSystem:
    """pyarrow S3 filesystem for LocalStack (``AWS_ENDPOINT_URL``) or, without it, real AWS.

    Path-style addressing (pyarrow's default when ``force_virtual_addressing`` is off) is what
    LocalStack serves on ``localhost``. Credentials come from the standard AWS variables.
    """
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return pafs.S3FileSystem(region=region)
    url = urlparse(endpoint)
    return pafs.S3FileSystem(
        region=region,
        endpoint_override=url.netloc or url.path,
        scheme=url.scheme or "http",
        force_virtual_addressing=False,
    )


def events_root(path: Path) -> Path:
    """Accept either the table root (``.../events``) or the bucket-like root that contains it."""
    nested = path / EVENTS_PREFIX.strip("/")
    return nested if nested.is_dir() else path


def parse_source(spec: str | None, record: bool = False) -> Source:
    """``s3`` (bucket from Terraform outputs), ``s3://bucket/prefix``, ``arrow:DIR`` or ``DIR``.

    ``record`` wraps Arrow routes in the recording filesystem (for ``--explain``).
    """
    if spec in (None, "", "s3"):
        bucket = output("transformed_bucket")
        try:
            prefix = output("events_prefix")
        except RuntimeError:
            prefix = EVENTS_PREFIX
        return ArrowSource.s3(bucket, prefix, record=record)
    if spec.startswith("s3://"):
        url = urlparse(spec)
        return ArrowSource.s3(url.netloc, url.path.lstrip("/") or EVENTS_PREFIX, record=record)
    if spec.startswith("arrow:"):
        return ArrowSource.local(Path(spec.removeprefix("arrow:")), record=record)
    return LocalDirSource(events_root(Path(spec)))


def partition_of(path: str) -> dict[str, str]:
    """Hive partition values from a path (``.../year=2024/month=12/day=25/x.parquet``)."""
    values = {}
    for part in path.replace("\\", "/").split("/"):
        key, sep, value = part.partition("=")
        if sep and key in PARTITION_KEYS:
            values[key] = value
    return values


def list_data_files(source: Source) -> list[DataFile]:
    """Every Parquet file of the table, sorted by path."""
    if isinstance(source, LocalDirSource):
        files = [
            DataFile(str(p), partition_of(str(p)), p.stat().st_size)
            for p in source.root.glob(PARTITION_GLOB)
        ]
    else:
        selector = pafs.FileSelector(source.base, recursive=True, allow_not_found=True)
        files = [
            DataFile(info.path, partition_of(info.path), info.size or 0)
            for info in source.filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File and info.path.endswith(".parquet")
        ]
    return sorted(
        (f for f in files if set(f.partition) == set(PARTITION_KEYS)), key=lambda f: f.path
    )


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the session time zone pinned to UTC, as on Athena."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _partition_schema() -> pa.Schema:
    return pa.schema([pa.field(key, pa.string()) for key in PARTITION_KEYS])


def arrow_dataset(source: ArrowSource) -> ds.Dataset:
    """The table as a pyarrow dataset: shared schema plus string Hive partition columns."""
    partitioning = ds.partitioning(_partition_schema(), flavor="hive")
    schema = pa.unify_schemas([arrow_schema(), _partition_schema()])
    return ds.dataset(
        source.base,
        filesystem=source.filesystem,
        format="parquet",
        partitioning=partitioning,
        schema=schema,
    )


def _relation_sql(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    """The FROM clause that reads the source (registers the Arrow dataset when needed)."""
    if isinstance(source, LocalDirSource):
        pattern = str(source.root / PARTITION_GLOB).replace("'", "''")
        types = ", ".join(f"'{key}': VARCHAR" for key in PARTITION_KEYS)
        return f"read_parquet('{pattern}', hive_partitioning = true, hive_types = {{{types}}})"
    con.register(_ARROW_VIEW_SOURCE, arrow_dataset(source))
    return _ARROW_VIEW_SOURCE


def _select_list(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Glue's column order and types; a UTC instant becomes Athena's UTC wall-clock TIMESTAMP."""
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    types = {row[0]: row[1] for row in described}
    columns = []
    for name in (*FIELD_NAMES, *PARTITION_KEYS):
        if name not in types:
            raise NoEventsError(f"column {name!r} is missing from the Parquet files ({relation})")
        if types[name] == "TIMESTAMP WITH TIME ZONE":
            columns.append(f"timezone('UTC', {name}) AS {name}")
        else:
            columns.append(name)
    return ", ".join(columns)


def attach_events(con: duckdb.DuckDBPyConnection, source: Source, database: str) -> list[DataFile]:
    """Create schema ``database`` and view ``database.events`` over the source.

    Returns the files found, so callers can report them; raises :class:`NoEventsError` when there
    are none (DuckDB would fail later with a less helpful message).
    """
    files = list_data_files(source)
    if not files:
        raise NoEventsError(
            f"no Parquet files under {source.label} (expected {PARTITION_GLOB}): "
            "run the pipeline first (make up && make generate) or pass --source DIR"
        )
    relation = _relation_sql(con, source)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {database}")
    con.execute(
        f"CREATE OR REPLACE VIEW {database}.{TABLE_NAME} AS "
        f"SELECT {_select_list(con, relation)} FROM {relation}"
    )
    return files
