"""Benchmark: the five query files on N events (default 10 million) through the local runner.

``python -m bench.bench_queries [--rows 10000000] [--quick] [--repeat 5]``

Builds a synthetic table directly with pyarrow (no transformer: this measures the query side) in
the transformer's layout - ``year=/month=/day=`` Hive partitions over many days, several zstd
files per day, 128 Ki-row row groups - and caches it under ``build/bench/queries/`` (rebuilt when
the parameters change). It then times each query, best of ``--repeat``, on:

* **partitioned** - the runner on the local directory (DuckDB's native Parquet reader): the
  route of ``make query --source DIR`` and the one the 1 s target is for;
* **arrow route** - the runner on the same files through the pyarrow dataset (the S3 route, here
  on local disk, so it measures the route and not the network);
* **baseline** - the same SQL over one unpartitioned Parquet file holding the same rows
  (measured in the same run), to show what the partition layout buys (``ratio`` = baseline /
  partitioned; > 1 means the layout is faster).

Results are printed as a table and written as JSON (``build/bench/queries.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from athena_local import catalog, sql
from athena_local.catalog import ArrowSource, LocalDirSource
from athena_local.dialect import to_duckdb
from athena_local.runner import Runner
from clickstream_common.schema import EVENT_TYPES, PARTITION_KEYS, arrow_schema

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WORKDIR = REPO_ROOT / "build" / "bench" / "queries"
DB = "clickstream_pipeline_local_db"
TARGET_SECONDS = 1.0
ROW_GROUP_ROWS = 128 * 1024
FIRST_DAY = dt.date(2024, 12, 1)


# ------------------------------------------------------------------ synthetic data (pyarrow only)
def _uniform(n: int, seed: int) -> pa.Array:
    return pc.random(n, initializer=seed)


def _pick(values: Sequence[object], weights: Sequence[float], n: int, seed: int) -> pa.Array:
    """``n`` draws from ``values`` with ``weights`` (via a 10,000-slot lookup table)."""
    total = float(sum(weights))
    table: list[object] = []
    for value, weight in zip(values, weights, strict=True):
        table.extend([value] * max(1, round(10_000 * weight / total)))
    lookup = pa.array(table)
    idx = pc.cast(pc.floor(pc.multiply(_uniform(n, seed), len(table))), pa.int32())
    return pc.take(lookup, idx)


@functools.cache
def _names(prefix: str, count: int) -> pa.Array:
    return pa.array([f"{prefix}-{k:07d}" for k in range(count)])


def _numbered(prefix: str, count: int, n: int, seed: int) -> pa.Array:
    """``n`` draws of ``prefix-<k>`` for k uniform in [0, count)."""
    names = _names(prefix, count)
    idx = pc.cast(pc.floor(pc.multiply(_uniform(n, seed), count)), pa.int32())
    return pc.take(names, idx)


def synthetic_day(day: dt.date, n: int, seed: int) -> pa.Table:
    """One day of events in the transformed schema (deterministic for a given seed)."""
    start_us = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()) * 10**6
    offsets = pc.cast(pc.floor(pc.multiply(_uniform(n, seed), 86_400 * 10**6)), pa.int64())
    ts = pc.cast(pc.add(offsets, start_us), pa.timestamp("us", tz="UTC"))
    ids = pc.cast(pa.array(range(n), pa.int64()), pa.string())
    # ~8 actions per session, ~3 sessions per user, so the busiest sessions stand out
    session_idx = pc.cast(pc.floor(pc.multiply(_uniform(n, seed + 2), max(1, n // 8))), pa.int64())
    sessions = pc.binary_join_element_wise(
        f"session-{day:%m%d}-", pc.cast(session_idx, pa.string()), ""
    )
    users = pc.binary_join_element_wise(
        "user-", pc.cast(pc.divide(pc.multiply(session_idx, 7), 3), pa.string()), ""
    )
    pages = [f"/products/{i}" for i in range(500)] + ["/", "/cart", "/search", "/checkout"]
    page_weights = [1.0 / (i + 1) for i in range(len(pages))]
    columns = {
        "event_id": pc.binary_join_element_wise(f"evt-{day.isoformat()}-", ids, ""),
        "event_type": _pick(EVENT_TYPES, [40, 12, 25, 10, 3, 5, 5], n, seed + 1),
        "event_timestamp": ts,
        "user_id": users,
        "session_id": sessions,
        "page_url": _pick(pages, page_weights, n, seed + 4),
        "referrer": _pick(
            [None, "https://www.google.com/", "https://t.co/x"], [5, 3, 1], n, seed + 5
        ),
        "device_type": _pick(["desktop", "mobile", "tablet", None], [50, 40, 9, 1], n, seed + 6),
        "browser": _pick(
            ["Chrome", "Safari", "Firefox", "Edge", None], [60, 25, 8, 6, 1], n, seed + 7
        ),
        "os": _pick(
            ["Windows", "macOS", "iOS", "Android", "Linux"], [35, 15, 20, 25, 5], n, seed + 8
        ),
        "country": _pick(
            ["US", "DE", "GB", "FR", "IN", "BR", "JP", None],
            [40, 10, 10, 8, 12, 8, 6, 1],
            n,
            seed + 9,
        ),
        "city": _numbered("city", 2_000, n, seed + 10),
        "product_id": _numbered("sku", 50_000, n, seed + 11),
        "price": pc.round(pc.multiply(_uniform(n, seed + 12), 200.0), 2),
        "quantity": pc.cast(
            pc.add(pc.floor(pc.multiply(_uniform(n, seed + 13), 4)), 1), pa.int32()
        ),
        "search_query": _pick([None, "socks", "shoes", "gift"], [8, 1, 1, 1], n, seed + 14),
    }
    return pa.table(columns, schema=arrow_schema())


def build_dataset(workdir: Path, rows: int, days: int, files_per_day: int) -> tuple[Path, Path]:
    """Write (or reuse) the partitioned table and the single-file baseline; return both paths."""
    params = {"rows": rows, "days": days, "files_per_day": files_per_day, "version": 2}
    stamp = workdir / "params.json"
    events_dir, flat = workdir / "events", workdir / "flat.parquet"
    if stamp.exists() and json.loads(stamp.read_text()) == params and flat.exists():
        return events_dir, flat
    shutil.rmtree(workdir, ignore_errors=True)
    events_dir.mkdir(parents=True)
    started = time.perf_counter()
    with pq.ParquetWriter(flat, _flat_schema(), compression="zstd") as flat_writer:
        for d in range(days):
            day = FIRST_DAY + dt.timedelta(days=d)
            n = rows // days + (1 if d < rows % days else 0)
            table = synthetic_day(day, n, seed=1000 + d)
            part = {"year": f"{day.year:04d}", "month": f"{day.month:02d}", "day": f"{day.day:02d}"}
            directory = events_dir.joinpath(*(f"{k}={part[k]}" for k in PARTITION_KEYS))
            directory.mkdir(parents=True)
            step = -(-n // files_per_day)
            for f in range(files_per_day):
                chunk = table.slice(f * step, step)
                pq.write_table(
                    chunk,
                    directory / f"part-{f:03d}.parquet",
                    compression="zstd",
                    row_group_size=ROW_GROUP_ROWS,
                )
            for key in PARTITION_KEYS:
                table = table.append_column(key, pa.array([part[key]] * n, pa.string()))
            flat_writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    print(f"  generated {rows:,} events in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    stamp.write_text(json.dumps(params))
    return events_dir, flat


def _flat_schema() -> pa.Schema:
    return pa.unify_schemas(
        [arrow_schema(), pa.schema([pa.field(k, pa.string()) for k in PARTITION_KEYS])]
    )


# ------------------------------------------------------------------ timing
def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """Best wall time of ``repeat`` runs after one warm-up (the OS page cache is warm for all)."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def time_runner(runner: Runner, repeat: int) -> dict[str, float]:
    out = {}
    for query in sql.list_queries():
        _, translation = runner.translate(query)
        out[query.name] = best_of(
            repeat, functools.partial(_arrow, runner.con, translation.duckdb_sql)
        )
    return out


def time_queries(con: duckdb.DuckDBPyConnection, repeat: int) -> dict[str, float]:
    """Best time of every query file on ``con`` (which has ``DB.events``), as the runner runs it."""
    out = {}
    for query in sql.list_queries():
        duckdb_sql = to_duckdb(query.render(DB), DB).duckdb_sql
        out[query.name] = best_of(repeat, functools.partial(_arrow, con, duckdb_sql))
    return out


def _arrow(con: duckdb.DuckDBPyConnection, duckdb_sql: str) -> pa.Table:
    """Run one query to completion (materialised as Arrow, as the runner does)."""
    return con.sql(duckdb_sql).to_arrow_table()


def time_baseline(flat: Path, repeat: int) -> dict[str, float]:
    """Same SQL, same translation, over one unpartitioned file (partition keys are columns)."""
    con = catalog.connect()
    con.execute(f"CREATE SCHEMA {DB}")
    con.execute(
        f"CREATE VIEW {DB}.events AS SELECT * REPLACE (timezone('UTC', event_timestamp) AS "
        f"event_timestamp) FROM read_parquet('{flat}')"
    )
    try:
        return time_queries(con, repeat)
    finally:
        con.close()


def build_ndjson(flat: Path) -> Path:
    """The same rows as raw NDJSON (what Firehose lands in ``raw/``), written once by DuckDB."""
    target = flat.with_name("raw.ndjson")
    if not target.exists():
        con = catalog.connect()
        data = ", ".join(f for f in arrow_schema().names if f != "event_timestamp")
        con.execute(
            f"COPY (SELECT strftime(event_timestamp, '%Y-%m-%dT%H:%M:%S.%gZ') AS event_timestamp, "
            f"{data} FROM read_parquet('{flat}')) TO '{target}' (FORMAT json)"
        )
        con.close()
    return target


def time_ndjson(ndjson: Path, repeat: int) -> dict[str, float]:
    """Same SQL over the raw NDJSON: no pipeline at all, partitions derived from event time."""
    types = {"string": "VARCHAR", "timestamp": "VARCHAR", "float64": "DOUBLE", "int32": "INTEGER"}
    from clickstream_common.schema import FIELDS

    columns = ", ".join(f"'{f.name}': '{types[f.type]}'" for f in FIELDS)
    con = catalog.connect()
    con.execute(f"CREATE SCHEMA {DB}")
    con.execute(
        f"CREATE VIEW {DB}.events AS SELECT * EXCLUDE (ts), strftime(ts, '%Y') AS year, "
        f"strftime(ts, '%m') AS month, strftime(ts, '%d') AS day FROM (SELECT *, "
        f"CAST(event_timestamp AS TIMESTAMP) AS ts FROM read_json('{ndjson}', "
        f"format = 'newline_delimited', columns = {{{columns}}}))"
    )
    try:
        return time_queries(con, repeat)
    finally:
        con.close()


def run(
    rows: int, days: int, files_per_day: int, repeat: int, workdir: Path, ndjson: bool = False
) -> dict:
    """Build (or reuse) the data, time all routes, return the measurements."""
    events_dir, flat = build_dataset(workdir, rows, days, files_per_day)
    with Runner.open(LocalDirSource(events_dir), DB) as runner:
        partitioned = time_runner(runner, repeat)
        costs = {r.name: r.cost for r in (runner.run(q.name) for q in sql.list_queries())}
    with Runner.open(ArrowSource.local(events_dir), DB) as runner:
        arrow_route = time_runner(runner, repeat)
    baseline = time_baseline(flat, repeat)
    raw = time_ndjson(build_ndjson(flat), 1) if ndjson else {}
    return {
        "rows": rows,
        "days": days,
        "files": days * files_per_day,
        "threads": os.cpu_count(),
        "repeat": repeat,
        "queries": {
            name: {
                "partitioned_s": partitioned[name],
                "arrow_route_s": arrow_route[name],
                "baseline_single_file_s": baseline[name],
                "ratio_baseline_over_partitioned": baseline[name] / partitioned[name],
                "raw_ndjson_s": raw.get(name),
                "ratio_ndjson_over_partitioned": raw[name] / partitioned[name] if raw else None,
                "athena_scanned_bytes": cost.bytes_scanned if (cost := costs[name]) else None,
                "athena_usd": cost.usd if cost else None,
                "within_target": partitioned[name] <= TARGET_SECONDS,
            }
            for name in partitioned
        },
    }


def _has_ndjson(result: dict) -> bool:
    return any(m["raw_ndjson_s"] is not None for m in result["queries"].values())


def render_table(result: dict) -> str:
    lines = [
        f"queries on {result['rows']:,} events ({result['days']} days, {result['files']} files), "
        f"best of {result['repeat']}, {result['threads']} cores",
        f"{'query':22} {'partitioned':>12} {'arrow route':>12} {'1 file':>10} {'ratio':>7} "
        f"{'Athena scan':>12}  target<=1s"
        + (f"  {'raw NDJSON':>10} {'ratio':>7}" if _has_ndjson(result) else ""),
    ]
    for name, m in result["queries"].items():
        scanned = m["athena_scanned_bytes"] or 0
        lines.append(
            f"{name:22} {m['partitioned_s']:>11.3f}s {m['arrow_route_s']:>11.3f}s "
            f"{m['baseline_single_file_s']:>9.3f}s {m['ratio_baseline_over_partitioned']:>6.2f}x "
            f"{scanned / 1024**2:>9.1f} MB  {'ok' if m['within_target'] else 'MISSED':10}".rstrip()
            + (
                f"  {m['raw_ndjson_s']:>9.2f}s {m['ratio_ndjson_over_partitioned']:>6.0f}x"
                if m["raw_ndjson_s"] is not None
                else ""
            )
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--files-per-day", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1M rows, 3 repeats (smoke run)")
    parser.add_argument(
        "--ndjson", action="store_true", help="also time the raw NDJSON (slow; 1 run each)"
    )
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "build" / "bench" / "queries.json")
    args = parser.parse_args(argv)
    rows, repeat = (1_000_000, 3) if args.quick else (args.rows, args.repeat)
    result = run(rows, args.days, args.files_per_day, repeat, args.workdir, args.ndjson)
    print(render_table(result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
