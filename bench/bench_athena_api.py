"""Benchmark: the five queries through the local Athena API, beside the direct runner, on 1M events.

``python -m bench.bench_athena_api [--rows 1000000] [--repeat 5] [--quick]`` (needs ``make up``)

The synthetic table of :mod:`bench.bench_queries` (Hive folders, several zstd files per day) is
uploaded once to ``s3://<transformed bucket>/bench-athena/events/`` and catalogued as Glue table
``bench_events`` with the same partition projection as ``events``. For each query file:

* **api p50 / max** - the round trip a client sees: ``start_query_execution`` (Terraform's
  workgroup) -> poll ``get_query_execution`` every 20 ms -> every page of ``get_query_results``;
* **direct** - ``clickstream-query``'s runner on the same Glue table and S3 objects, in this
  process (the same-run baseline: the API's overhead is the difference).

Target: api p50 <= 1 s. JSON in ``build/bench/athena_api.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from athena_local import catalog, sql
from athena_local.glue_table import CatalogTable
from athena_local.runner import Runner
from bench.bench_queries import REPO_ROOT, build_dataset
from bench.common import render_table
from clickstream_common import localstack
from clickstream_common.catalog import glue_table_input
from clickstream_common.outputs import load_outputs

TABLE = "bench_events"


def prefix(rows: int) -> str:
    """One S3 prefix per table size, so a --quick run never reads the full table's objects."""
    return f"bench-athena/{rows}/events/"


TARGET_SECONDS = 1.0
OUT = REPO_ROOT / "build" / "bench" / "athena_api.json"


def table_input(location: str) -> dict[str, Any]:
    return glue_table_input(location, name=TABLE)


def upload(s3: Any, events_dir: Path, bucket: str, key_prefix: str) -> None:
    """Upload the table once (skipped when the same number of files is already there)."""
    files = sorted(events_dir.rglob("*.parquet"))
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key_prefix).get("KeyCount", 0)
    if listed == len(files):
        return
    for path in files:
        s3.upload_file(str(path), bucket, key_prefix + path.relative_to(events_dir).as_posix())


def ensure_table(glue: Any, database: str, location: str) -> None:
    with contextlib.suppress(glue.exceptions.EntityNotFoundException):
        glue.delete_table(DatabaseName=database, Name=TABLE)
    glue.create_table(DatabaseName=database, TableInput=table_input(location))


def round_trip(athena: Any, query: str, workgroup: str, database: str) -> float:
    started = time.perf_counter()
    query_id = athena.start_query_execution(
        QueryString=query, QueryExecutionContext={"Database": database}, WorkGroup=workgroup
    )["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.02)
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(f"{query_id}: {status['State']} {status.get('StateChangeReason')}")
    for _page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        pass
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="100k rows, 3 repeats")
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.repeat = 100_000, 3
    if not localstack.healthy():
        print("bench_athena_api: the local stack is not up (make up)", file=sys.stderr)
        return 1
    outputs = load_outputs()
    database, workgroup = str(outputs["glue_database"]), str(outputs["athena_workgroup"])
    bucket = str(outputs["transformed_bucket"])
    events_dir, _flat = build_dataset(
        REPO_ROOT / "build" / "bench" / f"athena-{args.rows}", args.rows, args.days, 2
    )
    s3, glue, athena = (localstack.client(s) for s in ("s3", "glue", "athena"))
    location = f"s3://{bucket}/{prefix(args.rows)}"
    upload(s3, events_dir, bucket, prefix(args.rows))
    ensure_table(glue, database, location)
    table = CatalogTable.from_glue(glue.get_table(DatabaseName=database, Name=TABLE)["Table"])
    results = {}
    with Runner.open(catalog.source_for(table), table=table) as runner:
        for query in sql.list_queries():
            text = query.render(database).replace(f"{database}.events", f"{database}.{TABLE}")
            api = [round_trip(athena, text, workgroup, database) for _ in range(args.repeat)]
            translation = runner.translate_sql(text)
            direct = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                runner.con.sql(translation.duckdb_sql).to_arrow_table()
                direct.append(time.perf_counter() - started)
            results[query.name] = {
                "api_p50_s": statistics.median(api),
                "api_max_s": max(api),
                "direct_p50_s": statistics.median(direct),
            }
    rows = [
        [
            name,
            f"{r['api_p50_s']:.3f}",
            f"{r['api_max_s']:.3f}",
            f"{r['direct_p50_s']:.3f}",
            "yes" if r["api_p50_s"] <= TARGET_SECONDS else "NO",
        ]
        for name, r in results.items()
    ]
    print(f"local Athena API vs direct runner: {args.rows:,} events on S3, {args.repeat} runs")
    print(render_table(["query", "api p50 s", "api max s", "direct p50 s", "<= 1 s"], rows))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"rows": args.rows, "repeat": args.repeat, "results": results}))
    return 0 if all(r["api_p50_s"] <= TARGET_SECONDS for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
