"""`make bench`: every benchmark, each in its own process, each with its same-run baseline.

`make bench BENCH_ARGS=--quick` is a smoke run. Benches that need the local stack (generator to
Firehose, freshness) say so and are skipped when it is not up, rather than failing the others.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from clickstream_common import localstack

BENCHES = (
    "bench_transformer",
    "bench_generator",
    "bench_queries",
    "bench_functions",
    "bench_freshness",
    "bench_athena_api",
    "bench_compaction",
    "bench_devloop",
    "bench_emulation",
)
NEEDS_STACK = {"bench_freshness", "bench_athena_api", "bench_compaction", "bench_devloop"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--only", choices=BENCHES, action="append", help="run just these")
    args = ap.parse_args(argv)
    failed = []
    for name in args.only or BENCHES:
        print(f"\n##### {name}", flush=True)
        if name in NEEDS_STACK and not localstack.healthy():
            print("skipped: the local stack is not up (run `make up` first)")
            continue
        cmd = [sys.executable, "-m", f"bench.{name}", *(["--quick"] if args.quick else [])]
        if subprocess.run(cmd, check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
