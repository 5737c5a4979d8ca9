"""Run the query files against the local catalog and return Arrow tables.

One :class:`Runner` = one DuckDB connection with ``<database>.events`` attached to one source.
Each run renders ``${database}``, translates Athena SQL to DuckDB (:mod:`athena_local.dialect`),
executes it and attaches the Athena cost estimate. This is the API the CLI, the report, the
tests and the benchmark share, so they all exercise the same path.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import duckdb
import pyarrow as pa

from athena_local import catalog, cost, dialect, sql
from athena_local.catalog import ArrowSource, DataFile, Source
from athena_local.glue_table import CatalogTable
from clickstream_common.outputs import OutputsNotFoundError, output

#: Used only when no Terraform outputs exist and the source is a local directory.
FALLBACK_DATABASE = "clickstream_pipeline_local_db"


@dataclass(frozen=True)
class QueryResult:
    """One query's result and what it took."""

    query: sql.QueryFile
    translation: dialect.Translation
    table: pa.Table
    seconds: float
    cost: cost.CostEstimate | None = None

    @property
    def name(self) -> str:
        return self.query.name


@dataclass(frozen=True)
class ScanEvidence:
    """Which Parquet files a query actually read: the proof of partition pruning.

    ``files_read_count`` is authoritative; ``files_read`` names them when the engine lists them
    (DuckDB names a few files, but prints its glob pattern when it scans everything).
    """

    files_read_count: int
    files_read: tuple[str, ...]
    files_total: int
    plan: str = field(repr=False, default="")


def resolve_database(database: str | None, source: Source) -> str:
    """``--database`` flag, else the ``glue_database`` Terraform output, else (local dir only)
    the conventional local name."""
    if database:
        return database
    try:
        return output("glue_database")
    except OutputsNotFoundError:
        if source.is_local:
            return FALLBACK_DATABASE
        raise


class Runner:
    """Runs query files on one source; create with :meth:`open`."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: Source,
        database: str,
        files: list[DataFile],
        table: CatalogTable | None = None,
    ) -> None:
        self.con = con
        self.source = source
        self.database = database
        self.files = files
        self.table = table or catalog.default_table(source, database)

    @classmethod
    def open(
        cls,
        source: Source,
        database: str | None = None,
        threads: int | None = None,
        table: CatalogTable | None = None,
        *,
        allow_empty: bool = False,
    ) -> Runner:
        """Connect, attach ``<database>.<table>`` over ``source``.

        ``table`` is the Glue table (:mod:`athena_local.glue_table`); without one, the built-in
        ``events`` table of the event contract over the source's Hive folders.
        """
        db = table.database if table else resolve_database(database, source)
        table = table or catalog.default_table(source, db)
        con = catalog.connect(threads)
        try:
            files = catalog.attach_table(con, source, table, allow_empty=allow_empty)
        except BaseException:
            con.close()
            raise
        return cls(con, source, db, files, table)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @cached_property
    def file_stats(self) -> list[cost.FileStats]:
        """Parquet footers of every file, read once for all cost estimates."""
        return cost.read_file_stats(self.source, self.files)

    def translate(self, query: sql.QueryFile | str) -> tuple[sql.QueryFile, dialect.Translation]:
        """Render and translate one query (by name or file)."""
        q = query if isinstance(query, sql.QueryFile) else sql.load_query(query)
        rendered = q.render(self.database)
        return q, self.translate_sql(rendered, origin=str(q.path))

    def translate_sql(self, athena_sql: str, origin: str = "<sql>") -> dialect.Translation:
        """Translate Athena SQL over this runner's table."""
        schema = {self.table.database: {self.table.name: self.table.sql_types()}}
        return dialect.to_duckdb(athena_sql, self.database, origin=origin, schema=schema)

    def estimate(self, translation: dialect.Translation) -> cost.CostEstimate:
        """Athena's scan and bill for a translated query, from the Parquet footers."""
        return cost.estimate(
            translation.athena_sql,
            self.file_stats,
            self.table.column_names,
            self.table.partition_names,
        )

    def run(self, query: sql.QueryFile | str, with_cost: bool = True) -> QueryResult:
        """Execute one query; the result is an Arrow table."""
        q, translation = self.translate(query)
        estimate = self.estimate(translation) if with_cost else None
        started = time.perf_counter()
        table = self.con.sql(translation.duckdb_sql).to_arrow_table()
        seconds = time.perf_counter() - started
        return QueryResult(q, translation, table, seconds, estimate)

    def run_all(self, with_cost: bool = True) -> list[QueryResult]:
        """Every query file, in name order."""
        return [self.run(q, with_cost) for q in sql.list_queries()]

    def plan(self, query: sql.QueryFile | str) -> str:
        """DuckDB's physical plan (``EXPLAIN``) for the translated query."""
        _, translation = self.translate(query)
        rows = self.con.execute(f"EXPLAIN {translation.duckdb_sql}").fetchall()
        return "\n".join(str(row[1]) for row in rows)

    def scan_evidence(self, query: sql.QueryFile | str) -> ScanEvidence:
        """Run the query profiled and report which files it read.

        Native route: DuckDB's ``EXPLAIN (ANALYZE, FORMAT json)`` lists ``Total Files Read`` and
        ``Filename(s)`` per Parquet scan. Arrow route: the scan recorder saw which files the Arrow
        scanner was given under DuckDB's pushed-down filter (:mod:`athena_local.scan_record`).
        """
        _, translation = self.translate(query)
        if isinstance(self.source, ArrowSource):
            if self.source.recorder is None:
                raise ValueError("scan evidence on the Arrow route needs ArrowSource(record=True)")
            self.source.recorder.reset()
            self.con.sql(translation.duckdb_sql).to_arrow_table()
            read = tuple(self.source.recorder.opened())
            return ScanEvidence(len(read), read, len(self.files))
        rows = self.con.execute(
            f"EXPLAIN (ANALYZE, FORMAT json) {translation.duckdb_sql}"
        ).fetchall()
        plan = rows[0][1] if rows else "{}"
        count, names = _files_from_profile(json.loads(plan))
        return ScanEvidence(count, tuple(names), len(self.files), plan)


def _files_from_profile(node: dict[str, Any]) -> tuple[int, list[str]]:
    """``Total Files Read`` and the listed ``Filename(s)`` of every Parquet scan in a profile."""
    count, names = 0, list[str]()
    info = node.get("extra_info") or {}
    if "Total Files Read" in info:
        count += int(info["Total Files Read"])
        listed = [n.strip() for n in re.split(r",\s*|\n", str(info.get("Filename(s)", "")))]
        names.extend(n for n in listed if n and "*" not in n and n != "...")
    for child in node.get("children", []) + node.get("operator", []):
        child_count, child_names = _files_from_profile(child)
        count += child_count
        names.extend(child_names)
    return count, names
