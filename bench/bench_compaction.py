"""Benchmark: one day of small Parquet files before and after compaction, in the same run.

Needs the local stack (`make up`): the day lives in the deployed transformed bucket under a
bench-only prefix (``bench-compaction/``), and the compactor's own code runs against it, as the
Lambda runs it (S3 versions, conditional writes, the same engine). Steps:

1. a day of generated events is cut into one raw object per minute (1,440), with at-least-once
   duplicates (1 % of the objects delivered twice, under another key) and a few ids sent again
   with other content; each object goes through the transformer's core into its delta file;
2. **before**: files, bytes, rows, distinct ids; the five queries on DuckDB over the day's
   files (local copies, best of 3), and through the S3 route (pyarrow's S3 filesystem on
   LocalStack, one run each: the per-object requests Athena also pays);
3. the compactor folds the day (default target 256 MiB); **after**: the same figures and
   checks: at most ceil(bytes / target) files, no duplicate id, distinct ids unchanged, no row
   lost (rows before = rows after + duplicates removed);
4. a late object lands; the compactor is killed between its write and its delete (in a
   subprocess, after its first delete); the window is visible (rows twice), then the next run
   repairs it and the checks hold again;
5. a late event for the compacted day is folded in by the next sweep;
6. memory: a synthetic day several times larger than the process's peak, compacted in a fresh
   process with DuckDB's pool capped at 128 MB (peak RSS vs the day's size in Arrow memory).

``--quick``: 1,440 objects of 20 events and a smaller memory day.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import boto3
import duckdb

from athena_local import sql
from athena_local.catalog import ArrowSource, LocalDirSource
from athena_local.runner import Runner
from bench.bench_queries import DB, time_runner
from bench.common import render_table
from clickstream_common import compaction as layout
from clickstream_common.outputs import output
from compactor.config import CompactorConfig
from compactor.run import compact_day, sweep
from compactor.store import S3Store
from generator.pipeline import GenConfig, generate_records
from transformer.config import TransformConfig
from transformer.model import SourceRef
from transformer.pipeline import process_object
from transformer.sink import LocalSink

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "bench-compaction/"
EVENTS = PREFIX + "events/"
STATE = PREFIX + "compaction/"
DAY = date(2024, 12, 25)
DAY_MS = 1_735_084_800_000
OBJECTS = 1440


def build_day(work: Path, per_object: int) -> tuple[Path, int]:
    """Raw objects through the transformer into ``work/deltas``; returns it and the ids sent."""
    cfg = GenConfig(
        seed=7, start_ms=DAY_MS, end_ms=DAY_MS + 86_400_000 - 1, count=OBJECTS * per_object
    )
    lines = [ln + b"\n" for r in generate_records(cfg) for ln in r.data.split(b"\n") if ln.strip()]
    lines.sort(key=lambda ln: json.loads(ln)["event_timestamp"])
    out = work / "deltas"
    config = TransformConfig(events_prefix=EVENTS, now=datetime(2025, 1, 1, tzinfo=UTC), workers=1)
    sink = LocalSink(out)
    objects = []
    for k in range(OBJECTS):
        body = b"".join(lines[k * per_object : (k + 1) * per_object])
        if k % 100 == 7:  # an id sent again with other content, in a later object
            first = json.loads(lines[(k - 1) * per_object])
            first["page_url"] = "/conflicting/content"
            body += json.dumps(first).encode() + b"\n"
        objects.append((f"raw/2024/12/25/{k // 60:02d}/bench-{k:04d}.gz", body))
        if k % 100 == 0:  # delivered twice (at least once), under another key
            objects.append((f"raw/2024/12/25/{k // 60:02d}/bench-{k:04d}-again.gz", body))
    for key, body in objects:
        process_object(body, SourceRef("bench-raw", key), sink, config)
    shutil.rmtree(out / "manifests", ignore_errors=True)
    shutil.rmtree(out / "quarantine", ignore_errors=True)
    return out, len(lines)


def upload_tree(s3: Any, bucket: str, root: Path) -> int:
    files = [p for p in root.rglob("*.parquet")]
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda p: s3.upload_file(str(p), bucket, p.relative_to(root).as_posix()), files
            )
        )
    return len(files)


def download_day(s3: Any, bucket: str, target: Path) -> list[Path]:
    """The day's current Parquet objects into ``target`` (a table root: year=/month=/day=)."""
    shutil.rmtree(target, ignore_errors=True)
    prefix = layout.day_prefix(DAY, EVENTS)
    keys = [o.key for o in S3Store(s3, bucket).listing(prefix) if o.key.endswith(".parquet")]
    paths = []
    for key in keys:
        path = target / key[len(EVENTS) :]
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(path))
        paths.append(path)
    return paths


def day_figures(paths: list[Path]) -> dict[str, Any]:
    con = duckdb.connect()
    files = [str(p) for p in paths]
    rows, distinct = con.sql(
        f"SELECT count(*), count(DISTINCT event_id) FROM read_parquet({files!r})"
    ).fetchall()[0]
    con.close()
    return {
        "files": len(paths),
        "bytes": sum(p.stat().st_size for p in paths),
        "rows": rows,
        "distinct_ids": distinct,
    }


def time_day(root: Path, s3_bucket: str, repeat: int) -> dict[str, dict[str, float]]:
    """The five queries on the day: DuckDB over local files (best of ``repeat``) and through
    the S3 route (one run each), with Athena's scan estimate."""
    with Runner.open(LocalDirSource(root), DB) as runner:
        local = time_runner(runner, repeat)
        scans = {q.name: runner.run(q.name).cost for q in sql.list_queries()}
    s3_route = {}
    with Runner.open(ArrowSource.s3(s3_bucket, EVENTS), DB) as runner:
        for query in sql.list_queries():  # one run each: 1,440 GETs per query on LocalStack
            started = time.perf_counter()
            runner.run(query.name)
            s3_route[query.name] = time.perf_counter() - started
    return {
        name: {
            "duckdb_s": local[name],
            "s3_route_s": s3_route[name],
            "scan_bytes": float(cost.bytes_scanned) if (cost := scans[name]) else 0.0,
        }
        for name in local
    }


KILL = """
import os, sys
from datetime import date
from pathlib import Path
import boto3
from compactor.config import CompactorConfig
from compactor.run import compact_day
from compactor.store import S3Store

real = S3Store.delete_versions
def delete_then_die(self, victims):
    real(self, victims[:1])
    os._exit(137)  # killed between the write and the rest of the deletes (SIGKILL: no cleanup)
S3Store.delete_versions = delete_then_die
config = CompactorConfig(events_prefix=sys.argv[3], compaction_prefix=sys.argv[4])
compact_day(S3Store(boto3.client("s3"), sys.argv[1]), date.fromisoformat(sys.argv[2]), config,
            Path(sys.argv[5]), explicit=True)
"""


def late_object(work: Path, seed: int, count: int) -> Path:
    cfg = GenConfig(seed=seed, start_ms=DAY_MS, end_ms=DAY_MS + 86_400_000 - 1, count=count)
    body = b"".join(
        ln + b"\n" for r in generate_records(cfg) for ln in r.data.split(b"\n") if ln.strip()
    )
    out = work / f"late-{seed}"
    process_object(
        body,
        SourceRef("bench-raw", f"raw/2024/12/27/10/late-{seed}.gz"),
        LocalSink(out),
        TransformConfig(events_prefix=EVENTS, now=datetime(2025, 1, 1, tzinfo=UTC)),
    )
    shutil.rmtree(out / "manifests", ignore_errors=True)
    return out


def check(
    before: dict[str, Any], after: dict[str, Any], removed: int, target: int
) -> dict[str, bool]:
    return {
        "files <= ceil(bytes/target)": after["files"] <= max(1, math.ceil(after["bytes"] / target)),
        "no duplicate id": after["rows"] == after["distinct_ids"],
        "distinct ids equal": after["distinct_ids"] == before["distinct_ids"],
        "no row lost": before["rows"] == after["rows"] + removed,
    }


def memory_day(work: Path, files: int) -> dict[str, float]:
    """tests/compactor/test_memory.py's day, larger: written in one process, compacted in another."""
    from tests.compactor.test_memory import COMPACT, RUN

    day = work / "memory"
    day.mkdir()
    subprocess.run([sys.executable, "-c", RUN, str(day), str(files), "50000"], check=True)
    proc = subprocess.run(
        [sys.executable, "-c", COMPACT, str(day)], check=True, capture_output=True, text=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--events-per-object", type=int, default=300)
    ap.add_argument("--memory-files", type=int, default=120)
    args = ap.parse_args(argv)
    per_object = 20 if args.quick else args.events_per_object
    memory_files = 24 if args.quick else args.memory_files
    s3 = boto3.client("s3")
    bucket = output("transformed_bucket")
    store = S3Store(s3, bucket)
    config = CompactorConfig(events_prefix=EVENTS, compaction_prefix=STATE, memory_limit_mb=1024)
    work = Path(tempfile.mkdtemp(prefix="bench-compaction-"))
    results: dict[str, Any] = {}
    try:
        _empty(s3, bucket)
        started = time.perf_counter()
        deltas, sent = build_day(work, per_object)
        uploaded = upload_tree(s3, bucket, deltas)
        print(
            f"built the day: {sent:,} events, {uploaded} delta files in {time.perf_counter() - started:.1f} s"
        )

        before = day_figures(download_day(s3, bucket, work / "before"))
        q_before = time_day(work / "before", bucket, 3)

        report = compact_day(store, DAY, config, work, explicit=True)
        after = day_figures(download_day(s3, bucket, work / "after"))
        q_after = time_day(work / "after", bucket, 3)
        checks = check(before, after, report.duplicate_rows, config.target_file_bytes)

        # kill between write and delete, then the next run
        upload_tree(s3, bucket, late_object(work, 101, 200))
        kill = subprocess.run(
            [sys.executable, "-c", KILL, bucket, DAY.isoformat(), EVENTS, STATE, str(work)],
            cwd=ROOT,
        )
        window = day_figures(download_day(s3, bucket, work / "window"))
        manifest = layout.parse_manifest(store.read(layout.manifest_key(DAY, STATE))[0])
        repaired = compact_day(store, DAY, config, work, explicit=True)
        after_kill = day_figures(download_day(s3, bucket, work / "after-kill"))
        removed_total = manifest.duplicate_rows if manifest else 0
        base_kill = {"rows": before["rows"] + 200, "distinct_ids": before["distinct_ids"] + 200}
        checks_kill = check(base_kill, after_kill, removed_total, config.target_file_bytes)

        # a late event, folded in by the next sweep
        upload_tree(s3, bucket, late_object(work, 202, 1))
        swept = sweep(store, date(2024, 12, 27), config, work)
        after_late = day_figures(download_day(s3, bucket, work / "after-late"))
        results = {
            "before": before,
            "after": after,
            "compaction": report.to_dict(),
            "checks": checks,
            "queries_before": q_before,
            "queries_after": q_after,
            "kill": {
                "exit": kill.returncode,
                "pending_deletes": len(manifest.pending_deletes) if manifest else 0,
                "window_rows": window["rows"],
                "window_distinct": window["distinct_ids"],
                "repair": repaired.to_dict(),
                "after": after_kill,
                "checks": checks_kill,
            },
            "late": {
                "sweep": [r.to_dict() for r in swept if r.action != "nothing to do"],
                "after": after_late,
                "folded": after_late["distinct_ids"] == after_kill["distinct_ids"] + 1
                and after_late["rows"] == after_late["distinct_ids"],
            },
        }
        _print(results, config)
        results["memory"] = memory_day(work, memory_files)
        _print_memory(results["memory"])
        out = ROOT / "build" / "bench" / "compaction.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1, default=str))
    finally:
        _empty(s3, bucket)
        shutil.rmtree(work, ignore_errors=True)
    ok = all(results["checks"].values()) and all(results["kill"]["checks"].values())
    return 0 if ok and results["late"]["folded"] else 1


def _empty(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=PREFIX):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[i : i + 1000]})


def _print(r: dict[str, Any], config: CompactorConfig) -> None:
    b, a, c = r["before"], r["after"], r["compaction"]
    print(
        render_table(
            ["day 2024-12-25", "files", "bytes", "rows", "distinct ids"],
            [
                ["before", b["files"], f"{b['bytes']:,}", b["rows"], b["distinct_ids"]],
                ["after", a["files"], f"{a['bytes']:,}", a["rows"], a["distinct_ids"]],
            ],
        )
    )
    print(
        f"compaction: {c['seconds']:.1f} s, {c['duplicate_rows']} duplicates removed "
        f"({c['conflicts']} with other content), write->delete window {c['window_s']:.3f} s; "
        f"target {config.target_file_bytes >> 20} MiB -> at most "
        f"{max(1, math.ceil(a['bytes'] / config.target_file_bytes))} file(s)"
    )
    print("checks: " + ", ".join(f"{k}: {'ok' if v else 'FAILED'}" for k, v in r["checks"].items()))
    rows = []
    for name, qb in r["queries_before"].items():
        qa = r["queries_after"][name]
        rows.append(
            [
                name,
                f"{qb['duckdb_s']:.3f}",
                f"{qa['duckdb_s']:.3f}",
                f"{qb['duckdb_s'] / qa['duckdb_s']:.1f}x",
                f"{qb['s3_route_s']:.2f}",
                f"{qa['s3_route_s']:.2f}",
                f"{qb['s3_route_s'] / qa['s3_route_s']:.1f}x",
                f"{qb['scan_bytes'] / 1e6:.1f} / {qa['scan_bytes'] / 1e6:.1f}",
            ]
        )
    print(
        render_table(
            [
                "query",
                "duckdb before s",
                "after s",
                "ratio",
                "S3 route before s",
                "after s",
                "ratio",
                "Athena scan MB before / after",
            ],
            rows,
        )
    )
    k = r["kill"]
    print(
        f"kill between write and delete: exit {k['exit']}, {k['pending_deletes']} inputs left "
        f"listed; queries saw {k['window_rows']:,} rows for {k['window_distinct']:,} ids; next "
        f"run: {k['repair']['action']} ({k['repair']['reason']}) -> {k['after']['files']} file(s), "
        f"{k['after']['rows']:,} rows, {k['after']['distinct_ids']:,} ids; checks: "
        + ", ".join(f"{n}: {'ok' if v else 'FAILED'}" for n, v in k["checks"].items())
    )
    late = r["late"]
    print(
        f"late event: next sweep {[s['day'] + ': ' + s['action'] for s in late['sweep']]} -> "
        f"{late['after']['files']} file(s), {late['after']['distinct_ids']:,} ids "
        f"({'folded in' if late['folded'] else 'NOT folded'})"
    )


def _print_memory(m: dict[str, Any]) -> None:
    print(
        f"memory: a day of {m['rows_in']:,} rows ({m['arrow_mb']:.0f} MB in Arrow) compacted with "
        f"peak RSS {m['peak_mb']:.0f} MB (DuckDB pool 128 MB, process at start "
        f"{m['before_mb']:.0f} MB): the day is {m['arrow_mb'] / m['peak_mb']:.1f}x the peak"
    )


if __name__ == "__main__":
    os.environ.setdefault("AWS_ENDPOINT_URL", "http://localhost:4566")
    sys.exit(main())
