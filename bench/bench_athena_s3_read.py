"""Benchmark: how DuckDB should read Parquet from S3 - pyarrow's S3 filesystem or the httpfs extension.

``python -m bench.bench_athena_s3_read [--repeat 5]`` (needs ``make up`` and the table uploaded by
``python -m bench.bench_athena_api`` with the same ``--rows``)

The project pins ``duckdb`` (requirements/dev.txt); httpfs must be the same version, and offline it
can only come from PyPI's ``duckdb-extension-httpfs`` (DuckDB's own INSTALL downloads it at run
time). This bench therefore:

1. checks the pinned DuckDB: ``LOAD httpfs`` with no network (what an offline laptop and CI get);
2. measures both routes on the newest DuckDB that PyPI ships httpfs for (``--httpfs-version``),
   in a throw-away venv under ``build/bench/httpfs-venv`` (same DuckDB for both routes, so the
   comparison is fair): the five queries over the benchmark table on LocalStack's S3, best of
   ``--repeat``, via ``read_parquet('s3://...')`` (httpfs) and via a pyarrow dataset on
   ``S3FileSystem`` (the route athena_local uses).

JSON in ``build/bench/athena_s3_read.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path

from bench.bench_athena_api import prefix
from bench.bench_queries import REPO_ROOT
from clickstream_common import localstack
from clickstream_common.outputs import load_outputs

VENV = REPO_ROOT / "build" / "bench" / "httpfs-venv"
OUT = REPO_ROOT / "build" / "bench" / "athena_s3_read.json"

#: Runs inside the throw-away venv: argv = endpoint, bucket, prefix, repeat.
CHILD = r"""
import json, sys, time
from urllib.parse import urlparse
import duckdb, pyarrow as pa, pyarrow.dataset as ds, pyarrow.fs as pafs
endpoint, bucket, prefix, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
queries = {
    "count_by_event_type": "SELECT event_type, count(*) FROM t GROUP BY 1",
    "top_pages": "SELECT page_url, count(*) c FROM t WHERE event_type = 'page_view' GROUP BY 1 ORDER BY c DESC LIMIT 10",
    "user_sessions": "SELECT user_id, session_id, count(*) c FROM t WHERE year = '2024' AND month = '12' AND day = '25' GROUP BY 1, 2 ORDER BY c DESC LIMIT 20",
    "events_per_country": "SELECT country, count(*) c FROM t GROUP BY 1 ORDER BY c DESC",
    "device_breakdown": "SELECT device_type, browser, count(*) c FROM t GROUP BY 1, 2",
}
url = urlparse(endpoint)
def best(con):
    out = {}
    for name, q in queries.items():
        times = []
        for _ in range(repeat + 1):
            t = time.perf_counter(); con.sql(q).fetchall(); times.append(time.perf_counter() - t)
        out[name] = {"cold": times[0], "warm": min(times[1:])}
    return out
result = {"duckdb": duckdb.__version__}
con = duckdb.connect()
fs = pafs.S3FileSystem(access_key="test", secret_key="test", region="us-east-1",
                       endpoint_override=url.netloc, scheme=url.scheme, force_virtual_addressing=False)
part = ds.partitioning(pa.schema([("year", pa.string()), ("month", pa.string()), ("day", pa.string())]), flavor="hive")
dataset = ds.dataset(f"{bucket}/{prefix}", filesystem=fs, format="parquet", partitioning=part)
con.register("t_arrow", dataset)
con.execute("CREATE VIEW t AS SELECT * FROM t_arrow")
result["pyarrow_s3fs"] = best(con)
con.close()
con = duckdb.connect()
try:
    import glob, duckdb_extension_httpfs as pkg
    [binary] = glob.glob(f"{pkg.__path__[0]}/extensions/*/httpfs.duckdb_extension")
    con.execute(f"LOAD '{binary}'")
except Exception as err:  # noqa: BLE001 - reported, not hidden
    result["httpfs_error"] = str(err).splitlines()[0]
if "httpfs_error" not in result:
    con.execute(f"CREATE SECRET (TYPE s3, KEY_ID 'test', SECRET 'test', REGION 'us-east-1', ENDPOINT '{url.netloc}', URL_STYLE 'path', USE_SSL false)")
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('s3://{bucket}/{prefix}**/*.parquet', hive_partitioning = true, hive_types = {{'year': VARCHAR, 'month': VARCHAR, 'day': VARCHAR}})")
    result["httpfs"] = best(con)
print(json.dumps(result))
"""


def pinned_duckdb_httpfs() -> str:
    """What the pinned DuckDB says to ``LOAD httpfs`` offline (no autoinstall)."""
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.execute("LOAD httpfs")
        return f"duckdb {duckdb.__version__}: httpfs loads"
    except duckdb.Error as err:
        return f"duckdb {duckdb.__version__}: {str(err).splitlines()[0]}"
    finally:
        con.close()


def ensure_venv(version: str) -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        venv.create(VENV, with_pip=True)
    pins = [f"duckdb=={version}", f"duckdb-extension-httpfs=={version}", "pyarrow==26.0.1"]
    subprocess.run([str(python), "-m", "pip", "install", "-q", *pins], check=True)
    return python


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--rows", type=int, default=1_000_000, help="table uploaded by bench_athena_api"
    )
    ap.add_argument("--httpfs-version", default="1.5.5")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 2
    if not localstack.healthy():
        print("bench_athena_s3_read: the local stack is not up (make up)", file=sys.stderr)
        return 1
    report: dict[str, object] = {"pinned": pinned_duckdb_httpfs()}
    print(report["pinned"])
    python = ensure_venv(args.httpfs_version)
    bucket = str(load_outputs()["transformed_bucket"])
    child = subprocess.run(
        [
            str(python),
            "-c",
            CHILD,
            localstack.endpoint(),
            bucket,
            prefix(args.rows),
            str(args.repeat),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        print(child.stderr[-2000:], file=sys.stderr)
        return 1
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    report["measured"] = measured
    print(
        f"duckdb {measured['duckdb']}: first run (cold), best of the next {args.repeat} (warm), s"
    )
    print(
        f"  {'query':22} {'pyarrow cold':>12} {'pyarrow warm':>12} {'httpfs cold':>12} {'httpfs warm':>12}"
    )
    nan = {"cold": float("nan"), "warm": float("nan")}
    for name, arrow in measured["pyarrow_s3fs"].items():
        httpfs = measured.get("httpfs", {}).get(name) or nan
        print(
            f"  {name:22} {arrow['cold']:12.3f} {arrow['warm']:12.3f} "
            f"{httpfs['cold']:12.3f} {httpfs['warm']:12.3f}"
        )
    if "httpfs_error" in measured:
        print(f"  httpfs: {measured['httpfs_error']}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
