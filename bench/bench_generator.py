"""Generator throughput: pure generation, the local Firehose, and a naive baseline (same run).

    python -m bench.bench_generator [--quick] [--endpoint URL]

Rows: events/s generating NDJSON into /dev/null (generation + encoding + batching, no I/O
cost), events/s into the local Firehose with the default settings (several events per record,
4 calls in flight), with one event per record, and the baseline the seed used: one
``put_record`` call per event, measured on a small sample in the same run. Every Firehose row
is verified by reading the delivered lines back from S3 (nothing lost, nothing doubled). The
Firehose rows need LocalStack (``--endpoint``, default: this checkout's stack); each
run creates and deletes its own bucket and delivery stream, with the deployed stream's local
settings (64 MiB / 1 s buffering, GZIP: the local Firehose buffers and compresses like AWS).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from bench.common import render_table
from clickstream_common import localstack
from generator.pipeline import GenConfig, generate_records, run
from generator.retry import RetryPolicy
from generator.sink import FileSink, FirehoseSink, make_firehose_client

DEFAULT_EPR = 25  # cli.DEFAULT_EVENTS_PER_RECORD, repeated to keep the table honest if it changes
WINDOW = {"start_ms": 1_734_998_400_000, "end_ms": 1_735_257_600_000}  # 2024-12-24 .. 12-27


def cfg(count: int, seed: int = 1) -> GenConfig:
    return GenConfig(seed=seed, count=count, **WINDOW)


def aws(service: str, endpoint: str) -> Any:
    return localstack.client(service, endpoint)


def scratch_stream(endpoint: str) -> AbstractContextManager[str]:
    """A throwaway bucket + delivery stream (same name), deleted afterwards."""
    return localstack.scratch_delivery_stream("bench-gen", endpoint)


def delivered_lines(endpoint: str, bucket: str) -> int:
    """Lines in S3 once the local Firehose delivered what it still buffered (after the timing)."""
    localstack.flush_firehose(endpoint)
    s3 = aws("s3", endpoint)
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            n += localstack.object_bytes(s3, bucket, obj["Key"]).count(b"\n")
    return n


def bench_file(count: int) -> tuple[float, float]:
    """(events/s, MB/s) generating NDJSON into /dev/null through the normal run loop."""
    with open(os.devnull, "wb") as devnull:
        sink = FileSink(devnull)
        res = run(generate_records(cfg(count)), sink, events_per_record=DEFAULT_EPR)
    nbytes = sum(len(r.data) for r in generate_records(cfg(min(count, 20_000))))
    avg = nbytes / min(count, 20_000)
    return res.events_per_second, res.events_per_second * avg / 1e6


def bench_firehose(endpoint: str, count: int, epr: int, concurrency: int) -> tuple[float, str]:
    """(events/s, verification) for the real sink into a scratch stream."""
    with scratch_stream(endpoint) as name:
        client = make_firehose_client(max_pool_connections=concurrency + 2)
        sink = FirehoseSink(client, name, policy=RetryPolicy(), concurrency=concurrency)
        res = run(generate_records(cfg(count)), sink, events_per_record=epr)
        if not res.ok:
            raise RuntimeError(f"benchmark run failed: {res.delivery()}")
        got = delivered_lines(endpoint, name)
    return res.events_per_second, "ok" if got == count else f"MISMATCH {got}/{count}"


def bench_naive(endpoint: str, count: int) -> tuple[float, str]:
    """The seed's approach: a default boto3 client and one put_record per event."""
    with scratch_stream(endpoint) as name:
        client = aws("firehose", endpoint)
        t0 = time.perf_counter()
        n = 0
        for rec in generate_records(cfg(count)):
            client.put_record(DeliveryStreamName=name, Record={"Data": rec.data})
            n += 1
        eps = n / (time.perf_counter() - t0)
        got = delivered_lines(endpoint, name)
    return eps, "ok" if got == count else f"MISMATCH {got}/{count}"


def median_of(repeat: int, fn: Callable[[], tuple[float, Any]]) -> tuple[float, Any]:
    """Median rate of ``repeat`` runs (the machine is shared; one run is noisy); worst check."""
    runs = [fn() for _ in range(repeat)]
    rates = [r[0] for r in runs]
    others = [r[1] for r in runs]
    mismatches = [o for o in others if isinstance(o, str) and o != "ok"]
    return statistics.median(rates), mismatches[0] if mismatches else others[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    p.add_argument("--endpoint", default=localstack.endpoint())
    args = p.parse_args(argv)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ENDPOINT_URL"] = args.endpoint  # make_firehose_client uses the normal chain
    n_file, n_fh, n_one, n_naive, repeat = (
        (20_000, 20_000, 5_000, 200, 1) if args.quick else (200_000, 100_000, 20_000, 500, 3)
    )

    rows: list[list[Any]] = []
    file_eps, file_mbs = median_of(repeat, lambda: bench_file(n_file))
    rows.append([f"generate -> NDJSON /dev/null ({file_mbs:.0f} MB/s)", n_file, file_eps, "-"])
    baseline = None
    if localstack.healthy(args.endpoint):
        baseline, check = bench_naive(args.endpoint, n_naive)
        rows.append(["firehose baseline: put_record per event", n_naive, baseline, check])
        eps, check = bench_firehose(args.endpoint, n_one, 1, 4)
        rows.append(["firehose: 1 event/record, 500/call, 4 in flight", n_one, eps, check])
        eps, check = median_of(repeat, lambda: bench_firehose(args.endpoint, n_fh, DEFAULT_EPR, 4))
        rows.append(
            [
                f"firehose default: {DEFAULT_EPR} events/record, 4 MiB/call, 4 in flight",
                n_fh,
                eps,
                check,
            ]
        )
    else:
        print(f"note: no LocalStack at {args.endpoint}: Firehose rows skipped", file=sys.stderr)
    table = [  # the ratio compares ways of sending to Firehose, so the file row has none
        [
            name,
            n,
            round(eps),
            f"{eps / baseline:,.1f}x" if baseline and check != "-" else "-",
            check,
        ]
        for name, n, eps, check in rows
    ]
    print(f"generator throughput ({'quick' if args.quick else f'median of {repeat}'}; "
          f"Firehose at {args.endpoint}; target >= 20,000 events/s into Firehose)")  # fmt: skip
    print(render_table(["path", "events", "events/s", "vs baseline", "S3 check"], table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
