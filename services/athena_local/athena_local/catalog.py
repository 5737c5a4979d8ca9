"""A catalog table as a DuckDB view: schema ``<database>``, view ``<table>`` (``events``).

What the view exposes - columns, Glue types, partition keys, which files belong to it - is a
:class:`~athena_local.glue_table.CatalogTable`: read from Glue when a catalog answers, else the
built-in table of the event contract. This module is the I/O: it lists the source's files and
registers them in DuckDB.

Two routes to the same view, chosen by the source:

* a local directory -> DuckDB's own Parquet reader (``read_parquet`` with Hive partitioning):
  fastest, and its profile shows pruning (``Scanning Files: 1/30``);
* S3 (LocalStack or AWS) -> a pyarrow dataset on ``pyarrow.fs.S3FileSystem`` registered in DuckDB,
  one fragment per file of the table with its partition values as a guarantee expression.
  DuckDB's ``httpfs`` extension is downloaded at run time, which an offline machine cannot do;
  pyarrow ships S3 support in its wheel. DuckDB pushes ``year/month/day`` filters into the Arrow
  scanner, which skips non-matching files before opening them. The same route also reads a
  local directory (``ArrowSource.local``), which the tests use to prove pruning without S3.
  The dataset's filesystem must be pyarrow's own C++ one: DuckDB starts the Arrow scan with the
  GIL held, so a filesystem implemented in Python can deadlock it (:func:`arrow_dataset`).

Both routes present the table the way Glue catalogs it for Athena: data columns from the shared
schema, then ``year``, ``month``, ``day`` as **strings**, and ``event_timestamp`` as a UTC
``TIMESTAMP`` (Parquet stores UTC instants; Athena shows them in UTC). The session ``TimeZone`` is
pinned to UTC too, so nothing depends on the laptop's zone.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from athena_local.glue_table import CatalogTable, sql_type, strip_scheme, table_files
from athena_local.scan_record import ScanRecorder, recording
from clickstream_common.outputs import output
from clickstream_common.schema import EVENTS_PREFIX, PARTITION_KEYS

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
    """Transformed Parquet read through a pyarrow filesystem (S3, or local for tests).

    With a ``recorder`` (``record=True``), every scan of the table tells it which files it read
    (:mod:`athena_local.scan_record`): the pruning evidence of ``--explain`` and the tests.
    """

    filesystem: pafs.FileSystem
    base: str
    label: str
    is_local: bool = False
    recorder: ScanRecorder | None = field(default=None, compare=False)

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
        return cls(fs, base, label, is_local, ScanRecorder() if record else None)


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

    ``record`` gives Arrow routes a :class:`ScanRecorder` (for ``--explain``).
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


def source_location(source: Source) -> str:
    """Where the source's files live, in the form its listing returns paths."""
    return str(source.root) if isinstance(source, LocalDirSource) else source.base


def default_table(source: Source, database: str = "") -> CatalogTable:
    """The built-in ``events`` table (event contract, Hive folders) over the source."""
    return CatalogTable.builtin(database, source_location(source))


def source_for(table: CatalogTable, *, record: bool = False) -> ArrowSource:
    """The Arrow source reading a catalog table's S3 location."""
    bucket, _, prefix = strip_scheme(table.location).partition("/")
    return ArrowSource.s3(bucket, prefix, record=record)


def list_data_files(source: Source, table: CatalogTable | None = None) -> list[DataFile]:
    """Every Parquet file of the table under the source, with its partition values, by path."""
    table = table or default_table(source)
    if isinstance(source, LocalDirSource):
        listing: Iterable[tuple[str, int]] = (
            (str(p), p.stat().st_size) for p in source.root.glob("**/*.parquet")
        )
    else:
        selector = pafs.FileSelector(source.base, recursive=True, allow_not_found=True)
        listing = (
            (info.path, info.size or 0)
            for info in source.filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File
        )
    return [DataFile(path, values, size) for path, values, size in table_files(table, listing)]


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the session time zone pinned to UTC, as on Athena."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def arrow_dataset(source: ArrowSource, table: CatalogTable, files: list[DataFile]) -> ds.Dataset:
    """The table's files as one pyarrow dataset: Glue's data columns, then the partition keys.

    Each file carries its partition values as an expression, so DuckDB's filters on partition
    keys, pushed into the Arrow scanner, skip a file before opening it; the scanner fills the
    partition columns from the same expressions.

    A filesystem implemented in Python (``pyarrow.fs.PyFileSystem``: a ``FileSystemHandler``,
    an fsspec filesystem) is refused. DuckDB calls ``Scanner.to_reader()`` with the GIL held;
    pyarrow 26 keeps it while that call waits on the scan's lock, and Arrow's threads take that
    lock and then call the Python filesystem, which needs the GIL: every thread waits on a lock,
    forever (5 of 74 runs of the correctness test hung that way).
    """
    if isinstance(source.filesystem, pafs.PyFileSystem):
        raise TypeError(
            f"{source.label}: a filesystem implemented in Python "
            f"({source.filesystem.type_name}) can deadlock DuckDB's Arrow scan; "
            "read through pyarrow's own S3FileSystem or LocalFileSystem"
        )
    partition_schema = table.partition_schema()
    expressions = []
    for f in files:
        guarantee = ds.scalar(True)
        for key in partition_schema:
            value = pa.scalar(f.partition[key.name]).cast(key.type)
            guarantee = guarantee & (ds.field(key.name) == ds.scalar(value))
        expressions.append(guarantee)
    dataset = ds.FileSystemDataset.from_paths(
        [f.path for f in files],
        schema=pa.unify_schemas([table.data_schema(), partition_schema]),
        format=ds.ParquetFileFormat(),
        filesystem=source.filesystem,
        partitions=expressions,
    )
    return dataset if source.recorder is None else recording(dataset, source.recorder)


def _relation_sql(
    con: duckdb.DuckDBPyConnection, source: Source, table: CatalogTable, files: list[DataFile]
) -> str:
    """The FROM clause that reads the source (registers the Arrow dataset when needed)."""
    if isinstance(source, LocalDirSource):
        if table.parameters.get("storage.location.template") or table.partitions is not None:
            raise NoEventsError(
                f"{source.label}: a local directory is read as Hive folders only; "
                f"table {table.name} uses a location template or registered partitions"
            )
        glob = "/".join(f"{key}=*" for key in table.partition_names) + "/*.parquet"
        pattern = str(source.root / glob).replace("'", "''")
        types = ", ".join(f"'{key}': VARCHAR" for key in table.partition_names)
        return f"read_parquet('{pattern}', hive_partitioning = true, hive_types = {{{types}}})"
    name = f"{_ARROW_VIEW_SOURCE}_{table.database}_{table.name}"
    con.register(name, arrow_dataset(source, table, files))
    return name


def _select_list(con: duckdb.DuckDBPyConnection, relation: str, table: CatalogTable) -> str:
    """Glue's column order and types; a UTC instant becomes Athena's UTC wall-clock TIMESTAMP."""
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    types = {row[0]: row[1] for row in described}
    columns = []
    for column in table.all_columns:
        name = column.name
        if name not in types:
            raise NoEventsError(f"column {name!r} is missing from the Parquet files ({relation})")
        if types[name] == "TIMESTAMP WITH TIME ZONE":
            columns.append(f'timezone(\'UTC\', "{name}") AS "{name}"')
        else:
            columns.append(f'"{name}"')
    return ", ".join(columns)


def attach_table(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    table: CatalogTable,
    *,
    allow_empty: bool = False,
) -> list[DataFile]:
    """Create schema ``table.database`` and view ``<database>.<name>`` over the source.

    Returns the files found, so callers can report them; raises :class:`NoEventsError` when there
    are none (DuckDB would fail later with a less helpful message), unless ``allow_empty`` (Athena
    answers an empty table with no rows: the API does the same).
    """
    files = list_data_files(source, table)
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{table.database}"')
    view = f'"{table.database}"."{table.name}"'
    if not files:
        if not allow_empty:
            raise NoEventsError(
                f"no Parquet files of table {table.name} under {source.label}: "
                "run the pipeline first (make up && make generate) or pass --source DIR"
            )
        columns = ", ".join(
            f'CAST(NULL AS {sql_type(c.type)}) AS "{c.name}"' for c in table.all_columns
        )
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT {columns} WHERE false")
        return files
    relation = _relation_sql(con, source, table, files)
    con.execute(
        f"CREATE OR REPLACE VIEW {view} AS SELECT {_select_list(con, relation, table)} "
        f"FROM {relation}"
    )
    return files


def attach_events(con: duckdb.DuckDBPyConnection, source: Source, database: str) -> list[DataFile]:
    """The built-in ``events`` table over the source as ``<database>.events`` (no catalog)."""
    table = CatalogTable.builtin(database, source_location(source))
    return attach_table(con, source, table)
