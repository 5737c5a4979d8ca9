"""Estimate what a query would cost on Athena, from the Parquet metadata of the files it reads.

Athena bills the bytes it reads from S3: for Parquet, the compressed column chunks of the
referenced columns in the row groups of the files in the partitions it reads (partition columns
come from the path and cost nothing). Each query is rounded up to the next megabyte with a
10 MB minimum, at $5 per TB. This module computes that from footers - an estimate (Athena can
also skip row groups by min/max statistics, and reads footers), but the right order of magnitude
and the right *ratio* between a pruned and an unpruned query.

The core (:func:`estimate`) is pure: it takes the query and per-file column sizes. Reading the
footers is the edge (:func:`read_file_stats`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pyarrow.parquet as pq
from sqlglot import exp

from athena_local.catalog import DataFile, LocalDirSource, Source
from athena_local.dialect import parse_athena
from clickstream_common.schema import FIELD_NAMES, PARTITION_KEYS

MB = 1024**2
TB = 1024**4
MINIMUM_BILLED_BYTES = 10 * MB
USD_PER_TB = 5.0


@dataclass(frozen=True, slots=True)
class FileStats:
    """Compressed bytes per column (summed over row groups) of one Parquet file."""

    path: str
    partition: dict[str, str]
    column_bytes: dict[str, int]
    num_rows: int


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """Athena's bill for one query, estimated."""

    columns: tuple[str, ...]
    files_read: int
    files_total: int
    bytes_scanned: int
    billed_bytes: int
    usd: float

    def summary(self) -> str:
        """One line for printing beside the result."""
        return (
            f"Athena estimate: scans {human_bytes(self.bytes_scanned)} "
            f"({self.files_read}/{self.files_total} files, columns: "
            f"{', '.join(self.columns) or 'none'}), billed {human_bytes(self.billed_bytes)} "
            f"(10 MB minimum) = ${self.usd:.6f}"
        )


def human_bytes(n: int) -> str:
    """1536 -> '1.5 KB' (binary units, as Athena's console shows them)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def referenced_columns(
    expression: exp.Expr, data_columns: Sequence[str] = FIELD_NAMES
) -> tuple[str, ...]:
    """Data columns the query reads (partition keys excluded: they are free).

    ``SELECT *`` (or ``t.*``) reads every data column; ``COUNT(*)`` reads none.
    """
    if any(isinstance(s.parent, exp.Select | exp.Column) for s in expression.find_all(exp.Star)):
        return tuple(data_columns)
    names = {col.name for col in expression.find_all(exp.Column)}
    return tuple(name for name in data_columns if name in names)


def _conjuncts(node: exp.Expr | None) -> list[exp.Expr]:
    if node is None:
        return []
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def partition_filter(
    expression: exp.Expr, partition_keys: Sequence[str] = PARTITION_KEYS
) -> dict[str, set[str]]:
    """Allowed values per partition key from top-level ``AND``-ed ``key = 'v'`` / ``IN`` terms.

    Anything else (``OR``, functions of the key) is ignored, which can only over-estimate.
    """
    where = expression.args.get("where")
    allowed: dict[str, set[str]] = {}
    for term in _conjuncts(where.this if where else None):
        if isinstance(term, exp.EQ):
            column, values = term.left, [term.right]
            if not isinstance(column, exp.Column):
                column, values = term.right, [term.left]
        elif isinstance(term, exp.In):
            column, values = term.this, list(term.expressions)
        else:
            continue
        if not isinstance(column, exp.Column) or column.name not in partition_keys:
            continue
        if not all(isinstance(v, exp.Literal) and v.is_string for v in values):
            continue
        literal = {v.this for v in values}
        allowed[column.name] = allowed.get(column.name, literal) & literal
    return allowed


def file_selected(partition: Mapping[str, str], allowed: Mapping[str, set[str]]) -> bool:
    """Would Athena read this file's partition under the filter?"""
    return all(partition.get(key) in values for key, values in allowed.items())


def billed(bytes_scanned: int) -> int:
    """Athena rounds each query up to the next MB, with a 10 MB minimum."""
    return max(MINIMUM_BILLED_BYTES, math.ceil(bytes_scanned / MB) * MB)


def estimate(
    athena_sql: str,
    stats: Iterable[FileStats],
    data_columns: Sequence[str] = FIELD_NAMES,
    partition_keys: Sequence[str] = PARTITION_KEYS,
    expression: exp.Expr | None = None,
) -> CostEstimate:
    """The estimated Athena scan and cost of one query over files with the given stats
    (``expression``: the query's tree, when the caller parsed it already)."""
    expression = expression if expression is not None else parse_athena(athena_sql)
    columns = referenced_columns(expression, data_columns)
    allowed = partition_filter(expression, partition_keys)
    all_stats = list(stats)
    read = [s for s in all_stats if file_selected(s.partition, allowed)]
    scanned = sum(s.column_bytes.get(c, 0) for s in read for c in columns)
    billed_bytes = billed(scanned)
    return CostEstimate(
        columns=columns,
        files_read=len(read),
        files_total=len(all_stats),
        bytes_scanned=scanned,
        billed_bytes=billed_bytes,
        usd=billed_bytes / TB * USD_PER_TB,
    )


def column_bytes(metadata: pq.FileMetaData) -> dict[str, int]:
    """Compressed bytes per top-level column, summed over all row groups."""
    sizes: dict[str, int] = {}
    for rg in range(metadata.num_row_groups):
        row_group = metadata.row_group(rg)
        for i in range(row_group.num_columns):
            chunk = row_group.column(i)
            name = chunk.path_in_schema.split(".")[0]
            sizes[name] = sizes.get(name, 0) + chunk.total_compressed_size
    return sizes


def read_file_stats(source: Source, files: Iterable[DataFile]) -> list[FileStats]:
    """Read each file's Parquet footer (one small ranged read per file, also on S3)."""
    stats = []
    for f in files:
        if isinstance(source, LocalDirSource):
            metadata = pq.read_metadata(f.path)
        else:
            with source.filesystem.open_input_file(f.path) as handle:
                metadata = pq.read_metadata(handle)
        stats.append(FileStats(f.path, f.partition, column_bytes(metadata), metadata.num_rows))
    return stats
