"""The day's rows in, each event once and sorted by event time out: local files only (no S3).

Inputs are local Parquet files: the day's current compacted files with their provenance (the
source of every row), the duplicates kept by the last run, and the deltas (one per source).
DuckDB does the work out of core: its buffer pool is capped (``memory_limit_mb``) and what does
not fit spills to ``spool_dir``, so memory stays bounded whatever the day's size; the result is
streamed out in Arrow batches and written with pyarrow, with the transformer's schema and
Parquet settings (one schema and one encoding for the table, whoever wrote the file).

Which row of an ``event_id`` is kept: the earliest arrival (the source with the smallest
``ranks`` value; ties by source, then position). Rows of a source listed in ``replaced`` come
only from its delta: the source was published again, and its new rows replace the old ones
wherever they sit (kept or duplicate). A dropped row whose content differs from the kept one is
a *conflict*: counted, and kept in the duplicates file with the source that won.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from clickstream_common.schema import FIELD_NAMES, arrow_schema
from compactor.config import CompactorConfig
from transformer.writer import DICTIONARY_COLUMNS, STATISTICS_COLUMNS

SCHEMA = arrow_schema()
PROVENANCE_SCHEMA = pa.schema([pa.field("source", pa.string(), nullable=False)])
#: The duplicates file: the event's columns, then who sent it, who won, and whether they differ.
DUPLICATES_SCHEMA = pa.schema(
    [pa.field(f.name, f.type) for f in SCHEMA]
    + [
        pa.field("source", pa.string()),
        pa.field("kept_source", pa.string()),
        pa.field("conflict", pa.bool_()),
    ]
)
_COLS = ", ".join(f'"{name}"' for name in FIELD_NAMES)


@dataclass(frozen=True, slots=True)
class DayInputs:
    """One day's rows as local files (see the module docstring)."""

    compacted: Sequence[Path] = ()
    provenance: Path | None = None
    duplicates: Path | None = None
    deltas: Sequence[tuple[Path, str]] = ()
    ranks: dict[str, int] = field(default_factory=dict)
    replaced: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Part:
    path: Path
    rows: int
    bytes: int


@dataclass(slots=True)
class DayOutputs:
    """What the engine wrote, and the counts that reconcile it:
    ``rows_in == rows_out + duplicate_rows``."""

    parts: list[Part] = field(default_factory=list)
    provenance: Path | None = None
    duplicates: Path | None = None
    rows_in: int = 0
    rows_out: int = 0
    duplicate_rows: int = 0
    conflicts: int = 0
    #: source -> (rows it holds for the day, rows of it kept)
    per_source: dict[str, tuple[int, int]] = field(default_factory=dict)
    conflict_sample: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def _sql_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def compact_files(inputs: DayInputs, out_dir: Path, config: CompactorConfig) -> DayOutputs:
    """Dedup and sort the day's rows into ``out_dir`` (``part-<n>.parquet``,
    ``provenance.parquet``, ``duplicates.parquet``). Raises if the inputs are inconsistent."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / "duckdb"
    work.mkdir(exist_ok=True)
    con = duckdb.connect(str(work / "day.duckdb"))
    try:
        con.execute(f"SET memory_limit = '{int(config.memory_limit_mb)}MB'")
        con.execute(f"SET temp_directory = '{work / 'spill'}'")
        con.execute(f"SET threads = {int(config.threads)}")
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        _load(con, inputs)
        result = DayOutputs()
        _rank(con)
        stats = con.sql(
            "SELECT source, count(*) AS n, count(*) FILTER (WHERE kept) AS kept "
            "FROM ranked GROUP BY source"
        ).fetchall()
        result.per_source = {str(s): (int(n), int(k)) for s, n, k in stats}
        result.rows_in = sum(n for n, _ in result.per_source.values())
        result.rows_out = sum(k for _, k in result.per_source.values())
        result.duplicate_rows = result.rows_in - result.rows_out
        result.conflicts = int(
            con.sql("SELECT count(*) FROM ranked WHERE NOT kept AND conflict").fetchall()[0][0]
        )
        result.conflict_sample = [
            {"event_id": str(e), "source": str(s), "kept_source": str(k)}
            for e, s, k in con.sql(
                "SELECT event_id, source, kept_source FROM ranked WHERE NOT kept AND conflict "
                "ORDER BY event_id, source LIMIT 10"
            ).fetchall()
        ]
        _write_kept(con, out_dir, config, result)
        if result.duplicate_rows:
            result.duplicates = _write_duplicates(con, out_dir, config)
    finally:
        con.close()
        for leftover in work.glob("day.duckdb*"):
            leftover.unlink()
    written = sum(p.rows for p in result.parts)
    if written != result.rows_out:
        raise RuntimeError(f"wrote {written} rows, expected {result.rows_out}")
    result.seconds = time.perf_counter() - started
    return result


def _load(con: duckdb.DuckDBPyConnection, inputs: DayInputs) -> None:
    """Tables of the inputs: ``candidates`` (every row that may be kept, with its source and
    position) and ``ranks``."""
    con.execute("CREATE TABLE ranks (source VARCHAR PRIMARY KEY, rank BIGINT)")
    if inputs.ranks:
        con.executemany("INSERT INTO ranks VALUES (?, ?)", sorted(inputs.ranks.items()))
    con.execute("CREATE TABLE replaced (source VARCHAR)")
    if inputs.replaced:
        con.executemany("INSERT INTO replaced VALUES (?)", [(s,) for s in sorted(inputs.replaced)])
    parts = []
    if inputs.compacted:
        if inputs.provenance is None:
            raise ValueError("compacted files without their provenance")
        n_rows = sum(pq.read_metadata(p).num_rows for p in inputs.compacted)
        n_prov = pq.read_metadata(inputs.provenance).num_rows
        if n_rows != n_prov:
            raise RuntimeError(f"provenance has {n_prov} rows for {n_rows} compacted rows")
        parts.append(
            f"SELECT {_COLS}, p.source, 0 AS origin, c.file_row_number AS pos "
            f"FROM read_parquet({_sql_list(inputs.compacted)}, file_row_number = true) c "
            f"POSITIONAL JOIN read_parquet({_sql_list([inputs.provenance])}) p"
        )
    if inputs.duplicates is not None:
        parts.append(
            f"SELECT {_COLS}, source, 1 AS origin, file_row_number AS pos "
            f"FROM read_parquet({_sql_list([inputs.duplicates])}, file_row_number = true)"
        )
    if inputs.deltas:
        con.execute("CREATE TABLE delta_files (filename VARCHAR, source VARCHAR)")
        con.executemany(
            "INSERT INTO delta_files VALUES (?, ?)", [(str(p), s) for p, s in inputs.deltas]
        )
        parts.append(
            f"SELECT {_COLS}, f.source, 2 AS origin, d.file_row_number AS pos "
            f"FROM read_parquet({_sql_list([p for p, _ in inputs.deltas])}, filename = true, "
            "file_row_number = true, union_by_name = true) d JOIN delta_files f USING (filename)"
        )
    if not parts:
        parts.append(
            f"SELECT {_COLS}, NULL::VARCHAR AS source, 0 AS origin, 0::BIGINT AS pos "
            f"FROM read_parquet({_sql_list([_empty_file(con)])})"
        )
    union = " UNION ALL ".join(f"({p})" for p in parts)
    # Rows of a replaced source come from its delta only (origin 2).
    con.execute(
        f"CREATE VIEW candidates AS SELECT * FROM ({union}) "
        "WHERE origin = 2 OR source NOT IN (SELECT source FROM replaced)"
    )


def _empty_file(con: duckdb.DuckDBPyConnection) -> Path:
    path = Path(con.sql("SELECT current_setting('temp_directory')").fetchall()[0][0]).parent
    empty = path / "empty.parquet"
    pq.write_table(SCHEMA.empty_table(), empty)
    return empty


def _rank(con: duckdb.DuckDBPyConnection) -> None:
    """``ranked``: every candidate with ``kept`` (the kept row of its event_id), the kept row's
    source and whether its own content differs from the kept row's.

    Done with an aggregate and a join, not a window: DuckDB spills both (a window partitioned by
    millions of ids ran out of a 128 MB pool). ``ok`` orders a row's claim to its id: arrival rank
    of its source, then where it comes from, then its position (rank < 2**22, position < 2**38).
    """
    con.execute(
        f"""
        CREATE TABLE cand AS
        SELECT {_COLS}, source,
               coalesce(rank, 4194303) * 1099511627776 + origin * 274877906944 + pos AS ok,
               hash({_COLS}) AS h
        FROM candidates LEFT JOIN ranks USING (source)
        """
    )
    con.execute("SET preserve_insertion_order = false")  # order only mattered while loading
    con.execute(
        "CREATE TABLE best AS SELECT event_id, min(ok) AS win, arg_min(h, ok) AS win_h, "
        "arg_min(source, ok) AS win_source FROM cand GROUP BY event_id"
    )
    con.execute(
        f"""
        CREATE TABLE ranked AS
        SELECT {", ".join(f"c.{c}" for c in _COLS.split(", "))}, c.source,
               c.ok = b.win AS kept, b.win_source AS kept_source, c.h <> b.win_h AS conflict
        FROM cand c JOIN best b USING (event_id)
        """
    )
    con.execute("DROP TABLE cand")
    con.execute("DROP TABLE best")


def _batches(con: duckdb.DuckDBPyConnection, sql: str, rows: int) -> Iterator[pa.RecordBatch]:
    reader = con.sql(sql).to_arrow_reader(rows)
    yield from reader


#: Rows of a sort slice per MiB of DuckDB's pool: a slice's sort stays well inside the pool
#: (one ORDER BY over the whole day ran out of a 128 MB pool in its merge at 6 M rows).
ROWS_PER_POOL_MIB = 1024


def _sorted_kept(
    con: duckdb.DuckDBPyConnection, config: CompactorConfig, rows: int
) -> Iterator[pa.RecordBatch]:
    """The kept rows in (event_timestamp, event_id) order, sorted one event-time slice at a
    time: slice bounds are quantiles of event time, each slice sized to sort inside the pool."""
    slices = max(1, math.ceil(rows / (ROWS_PER_POOL_MIB * config.memory_limit_mb)))
    select = f"SELECT {_COLS}, source FROM ranked WHERE kept"
    order = "ORDER BY event_timestamp, event_id"
    if slices == 1:
        yield from _batches(con, f"{select} {order}", 64 * 1024)
        return
    points = [i / slices for i in range(1, slices)]
    # t-digest quantiles in microseconds: a few KB whatever the day (exact quantiles hold it all)
    bounds = con.sql(
        f"SELECT approx_quantile(epoch_us(event_timestamp), {points}) FROM ranked WHERE kept"
    ).fetchall()[0][0]
    edges = sorted({int(b) for b in bounds})
    lows: list[int | None] = [None, *edges]
    for i, low in enumerate(lows):
        high = edges[i] if i < len(edges) else None
        where = []
        if low is not None:
            where.append(f"epoch_us(event_timestamp) >= {low}")
        if high is not None:
            where.append(f"epoch_us(event_timestamp) < {high}")
        yield from _batches(con, f"{select} AND {' AND '.join(where)} {order}", 64 * 1024)


def _write_kept(
    con: duckdb.DuckDBPyConnection, out_dir: Path, config: CompactorConfig, result: DayOutputs
) -> None:
    """The kept rows in event-time order, cut into files of ``target_file_bytes``; their
    sources, in the same order, into ``provenance.parquet``."""
    prov_path = out_dir / "provenance.parquet"
    prov = pq.ParquetWriter(prov_path, PROVENANCE_SCHEMA, compression=config.compression)
    writer: _PartWriter | None = None
    pending: list[pa.RecordBatch] = []
    pending_rows = 0

    def flush() -> None:
        nonlocal writer, pending, pending_rows
        if not pending_rows:
            return
        table = pa.Table.from_batches(pending)
        if writer is None:
            writer = _PartWriter(out_dir / f"part-{len(result.parts):05d}.parquet", config)
        writer.write(table)
        pending, pending_rows = [], 0
        if writer.size >= config.target_file_bytes:
            result.parts.append(writer.close())
            writer = None

    try:
        for batch in _sorted_kept(con, config, result.rows_out):
            data = pa.RecordBatch.from_arrays(
                [batch.column(i).cast(SCHEMA.field(i).type) for i in range(len(SCHEMA))],
                schema=SCHEMA,
            )
            prov.write_batch(
                pa.RecordBatch.from_arrays(
                    [batch.column(len(SCHEMA)).cast(pa.string())], schema=PROVENANCE_SCHEMA
                )
            )
            pending.append(data)
            pending_rows += data.num_rows
            if pending_rows >= config.row_group_rows:
                flush()
        flush()
        if writer is not None:
            result.parts.append(writer.close())
    finally:
        prov.close()
    result.provenance = prov_path


class _PartWriter:
    """One compacted file, written like the transformer's (schema, dictionary and statistics
    columns, compression), row group by row group; ``size`` is what is on disk so far."""

    def __init__(self, path: Path, config: CompactorConfig) -> None:
        self.path = path
        self.rows = 0
        self._config = config
        self._writer = pq.ParquetWriter(
            path,
            SCHEMA,
            compression=config.compression,
            use_dictionary=DICTIONARY_COLUMNS,
            write_statistics=STATISTICS_COLUMNS,
        )

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table, row_group_size=self._config.row_group_rows)
        self.rows += table.num_rows

    @property
    def size(self) -> int:
        return os.path.getsize(self.path)

    def close(self) -> Part:
        self._writer.close()
        return Part(self.path, self.rows, self.size)


def _write_duplicates(
    con: duckdb.DuckDBPyConnection, out_dir: Path, config: CompactorConfig
) -> Path:
    path = out_dir / "duplicates.parquet"
    sql = (
        f"SELECT {_COLS}, source, kept_source, conflict FROM ranked WHERE NOT kept "
        "ORDER BY event_id, source"
    )
    with pq.ParquetWriter(path, DUPLICATES_SCHEMA, compression=config.compression) as writer:
        for batch in _batches(con, sql, 64 * 1024):
            writer.write_batch(
                pa.RecordBatch.from_arrays(
                    [
                        batch.column(i).cast(DUPLICATES_SCHEMA.field(i).type)
                        for i in range(len(DUPLICATES_SCHEMA))
                    ],
                    schema=DUPLICATES_SCHEMA,
                )
            )
    return path
