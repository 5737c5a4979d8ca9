"""``clickstream-generate``: realistic clickstream sessions into Firehose or an NDJSON file.

Examples::

    clickstream-generate --count 20000 --days 3 --seed 42 --manifest .local/manifest.json
    clickstream-generate --output - --count 5 --seed 1 --start 2024-12-25 --end 2024-12-26
    clickstream-generate --rate 200 --duration 60 --bad-ratio 0.02

Exit status: 0 when every record was delivered, 1 when some failed for good (or a fatal error
stopped the run), 2 for usage/configuration errors, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from clickstream_common.target import TargetError
from generator.batching import MAX_RECORDS_PER_CALL, Limits
from generator.manifest import write_manifest
from generator.pipeline import GenConfig, RunResult, describe_window, generate_records, run
from generator.progress import Progress
from generator.retry import RetryPolicy
from generator.sink import FileSink, FirehoseSink, Sink, make_firehose_client

#: ~25 KB records: a 4 MiB PutRecordBatch carries ~4,000 events instead of 500 (aggregate.py).
DEFAULT_EVENTS_PER_RECORD = 25


def parse_time(text: str) -> datetime:
    """ISO-8601 date or datetime; naive values are UTC (the pipeline partitions by UTC)."""
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date/time: {text!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _positive_int(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return v


def _positive_float(text: str) -> float:
    v = float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return v


def _ratio(text: str) -> float:
    v = float(text)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError("must be within [0, 1]")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="clickstream-generate",
        description="Generate realistic e-commerce clickstream sessions and send them to "
        "Kinesis Firehose (default) or write them as NDJSON.",
        epilog="Where it sends: the stack of the Terraform outputs (CLICKSTREAM_OUTPUTS, else "
        ".local/outputs.json; a local deployment's outputs name its LocalStack), unless "
        "AWS_ENDPOINT_URL says otherwise; then the usual AWS chain (AWS_PROFILE, "
        "AWS_REGION/AWS_DEFAULT_REGION, ~/.aws), exactly like the AWS CLI.",
    )
    dest = p.add_argument_group("destination")
    dest.add_argument(
        "--stream-name",
        help="Firehose delivery stream (default: firehose_name from the Terraform outputs)",
    )
    dest.add_argument(
        "--output", metavar="FILE|-", help="write NDJSON to FILE or stdout instead of Firehose"
    )
    dest.add_argument("--manifest", metavar="FILE", help="write the ground-truth manifest (JSON)")

    what = p.add_argument_group("what to generate")
    what.add_argument(
        "--count",
        type=int,
        help="events to generate, good + bad (default 100; unlimited with --duration)",
    )
    what.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    what.add_argument("--rate", type=_positive_float, help="limit to this many events per second")
    what.add_argument("--seed", type=int, help="random seed (default: random, printed)")
    what.add_argument("--start", type=parse_time, help="first event time (UTC), e.g. 2024-12-24")
    what.add_argument("--end", type=parse_time, help="end of the time window (exclusive, UTC)")
    what.add_argument(
        "--days",
        type=_positive_float,
        default=1.0,
        help="window length when --start/--end is missing (default 1; ending now if neither)",
    )
    what.add_argument(
        "--bad-ratio",
        type=_ratio,
        default=0.0,
        help="fraction of records to corrupt (truncated JSON, wrong types, missing fields, "
        "unknown event type, timestamp out of range)",
    )
    what.add_argument("--users", type=_positive_int, help="size of the user population")

    tune = p.add_argument_group("tuning")
    tune.add_argument(
        "--batch-size",
        type=_positive_int,
        default=MAX_RECORDS_PER_CALL,
        help=f"records per PutRecordBatch call (max {MAX_RECORDS_PER_CALL})",
    )
    tune.add_argument(
        "--events-per-record",
        type=_positive_int,
        default=DEFAULT_EVENTS_PER_RECORD,
        help="events packed into one Firehose record (newline-separated, never split; "
        f"default {DEFAULT_EVENTS_PER_RECORD}; 1 = one record per event). S3 receives the "
        "same bytes either way; fewer records are faster and cheaper (AWS bills records in "
        "5 KB steps)",
    )
    tune.add_argument(
        "--concurrency", type=_positive_int, default=4, help="PutRecordBatch calls in flight"
    )
    tune.add_argument(
        "--max-attempts", type=_positive_int, default=8, help="attempts per batch before failing"
    )
    tune.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no summary line"
    )
    return p


def resolve_window(args: argparse.Namespace, now: datetime | None = None) -> tuple[int, int]:
    """[start, end) in epoch ms. The wall clock is used only when neither --start nor --end is."""
    span = timedelta(days=args.days)
    if args.start and args.end:
        start, end = args.start, args.end
    elif args.start:
        start, end = args.start, args.start + span
    elif args.end:
        start, end = args.end - span, args.end
    else:
        end = now or datetime.now(UTC)
        start = end - span
    if end <= start:
        raise ValueError("--end must be after --start")
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def make_sink(args: argparse.Namespace) -> Sink:
    """NDJSON file/stdout with --output, otherwise Firehose (name from flag or outputs)."""
    if args.output:
        return FileSink(args.output)
    from clickstream_common import outputs, target

    stream = args.stream_name or outputs.output("firehose_name")
    # The stack of the outputs (endpoint, region, local keys), unless the environment says
    # otherwise; one line and no run when it does not answer.
    target.configure("clickstream-generate", names_from_outputs=not args.stream_name)
    client = make_firehose_client(max_pool_connections=args.concurrency + 2)
    return FirehoseSink(
        client,
        stream,
        policy=RetryPolicy(max_attempts=args.max_attempts),
        concurrency=args.concurrency,
    )


def summary(res: RunResult, cfg: GenConfig, destination: str) -> str:
    """The one-line report printed at the end of a run."""
    m = res.manifest
    line = (
        f"clickstream-generate: sent {res.stats.sent:,}/{res.generated:,} events "
        f"({m.good:,} good, {m.bad:,} bad) to {destination} in {res.elapsed:.2f}s "
        f"({res.events_per_second:,.0f} ev/s); failed {res.stats.failed:,}, "
        f"retried {res.stats.retried:,}, calls {res.stats.calls:,}, "
        f"firehose records {res.stats.records_sent:,}; seed {cfg.seed}"
    )
    if res.rejected:
        line += f"; rejected (over 1,000 KiB) {res.rejected:,}"
    if res.unsent:
        line += f"; unsent {res.unsent:,}"
    if res.stats.errors:
        line += "; errors " + ", ".join(f"{k}={v}" for k, v in sorted(res.stats.errors.items()))
    if res.error:
        line += f"; fatal: {res.error}"
    if res.interrupted:
        line += "; interrupted"
    return line


def failure(res: RunResult) -> str:
    """Why a run failed, in one line (``-q`` prints only this)."""
    if res.error:
        return res.error
    parts = []
    if res.stats.failed:
        errors = ", ".join(f"{k}={v}" for k, v in sorted(res.stats.errors.items()))
        parts.append(
            f"{res.stats.failed:,} of {res.generated:,} events not delivered"
            + (f" ({errors})" if errors else "")
        )
    if res.rejected:
        parts.append(f"{res.rejected:,} events over 1,000 KiB rejected")
    if res.unsent:
        parts.append(f"{res.unsent:,} events never sent")
    return "; ".join(parts) or "run failed"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    count = args.count if args.count is not None else (None if args.duration else 100)
    if count is not None and count < 0:
        parser.error("--count must be >= 0")
    try:
        start_ms, end_ms = resolve_window(args)
        limits = Limits(max_records=min(args.batch_size, MAX_RECORDS_PER_CALL))
    except ValueError as exc:
        parser.error(str(exc))
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    cfg = GenConfig(
        seed=seed,
        start_ms=start_ms,
        end_ms=end_ms,
        count=count,
        bad_ratio=args.bad_ratio,
        users=args.users,
    )
    try:
        sink = make_sink(args)
    except TargetError as exc:  # the stack does not answer
        print(f"clickstream-generate: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # missing outputs, bad profile, unwritable file: a config problem
        print(f"clickstream-generate: error: {exc}", file=sys.stderr)
        return 2
    progress = None if args.quiet else Progress(count)
    res = run(
        generate_records(cfg),
        sink,
        limits=limits,
        events_per_record=args.events_per_record,
        rate=args.rate,
        duration=args.duration,
        progress=progress,
    )
    if args.manifest:
        write_manifest(
            args.manifest,
            res.manifest.to_dict(
                generator=describe_window(cfg),
                destination=sink.description,
                delivery=res.delivery(),
            ),
        )
    if not args.quiet:
        print(summary(res, cfg, sink.description), file=sys.stderr)
    elif not res.ok and not res.interrupted:
        print(f"clickstream-generate: error: {failure(res)}", file=sys.stderr)
    if res.interrupted:
        return 130
    return 0 if res.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
