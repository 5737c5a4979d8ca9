"""``clickstream-replay``: re-run raw objects through the same pipeline (backfill, recovery,
schema changes).

Examples::

    clickstream-replay --prefix raw/2024/12/25/              # one day, bucket from outputs
    clickstream-replay --since 2024-12-24 --until 2024-12-25 # inclusive UTC date range
    clickstream-replay --prefix raw/2024/12/25/10/ --dry-run # counts only, writes nothing
    clickstream-replay --local-dir ./samples --out ./build/transformed   # no AWS at all

Outputs overwrite the keys the Lambda wrote (same deterministic names), so replaying is
idempotent. Exit status is 1 if any object failed or did not reconcile, or nothing matched;
expected failures (bad arguments, missing bucket, directory or Terraform outputs, endpoint
down) are one line on stderr and exit 2 (usage) or 1, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from clickstream_common.compaction import day_of_prefix_key
from clickstream_common.process import exit_now
from clickstream_common.schema import RAW_PREFIX
from transformer import spool
from transformer.config import TransformConfig
from transformer.local import process_file
from transformer.model import SourceRef, Stats
from transformer.ordering import normalize_etag
from transformer.pipeline import process_object
from transformer.sink import DiscardSink, S3Sink, Sink

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client


def day_prefixes(raw_prefix: str, since: date, until: date) -> list[str]:
    """Firehose's ``YYYY/MM/DD/`` prefixes for every day in ``[since, until]``."""
    if until < since:
        raise ValueError("--until is before --since")
    days = (until - since).days + 1
    return [f"{raw_prefix}{(since + timedelta(days=i)).strftime('%Y/%m/%d')}/" for i in range(days)]


def list_keys(client: S3Client, bucket: str, prefix: str) -> Iterator[str]:
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith("/"):
                yield obj["Key"]


def local_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Files under ``root`` with their keys relative to it (``raw/2024/...`` stays a raw key)."""
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        yield path, path.relative_to(root).as_posix()


class Summary:
    """Totals across replayed objects, printed as the reconciliation at the end."""

    def __init__(self) -> None:
        self.objects = 0
        self.failed: list[str] = []
        self.records_in = 0
        self.written = 0
        self.reasons: Counter[str] = Counter()
        self.unreconciled: list[str] = []
        #: Compacted days holding new rows of a replayed source until their next compaction.
        self.recompact_days: set[str] = set()

    def add(self, stats: Stats) -> None:
        self.objects += 1
        self.records_in += stats.records_in
        self.written += stats.records_written
        self.reasons.update(stats.quarantined_by_reason)
        if not stats.reconciled:
            self.unreconciled.append(stats.source.uri)
        for key in stats.recompact_keys:
            day = day_of_prefix_key(key)
            if day is not None:
                self.recompact_days.add(day.isoformat())

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unreconciled

    def render(self) -> str:
        quarantined = sum(self.reasons.values())
        lines = [
            f"objects processed:   {self.objects} (failed: {len(self.failed)})",
            f"records in:          {self.records_in}",
            f"records written:     {self.written}",
            f"records quarantined: {quarantined}",
        ]
        lines += [f"  {reason}: {n}" for reason, n in sorted(self.reasons.items())]
        balance = self.records_in - self.written - quarantined
        lines.append(
            f"reconciliation:      in - written - quarantined = {balance} "
            + ("(OK)" if balance == 0 and not self.unreconciled else "(MISMATCH)")
        )
        if self.recompact_days:
            days = sorted(self.recompact_days)
            lines.append(
                f"compacted days with changed rows: {', '.join(days)}: until they are compacted "
                "again (the next scheduled run, or now: make compact DAY=...) queries see the old "
                "and the new rows"
            )
        lines += [f"FAILED: {f}" for f in self.failed]
        return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clickstream-replay", description=__doc__.split("\n\n")[0])
    p.add_argument("--bucket", help="raw bucket (default: Terraform output raw_bucket)")
    p.add_argument("--prefix", help="raw key prefix to replay, e.g. raw/2024/12/25/")
    p.add_argument("--since", type=date.fromisoformat, help="first UTC arrival day (YYYY-MM-DD)")
    p.add_argument("--until", type=date.fromisoformat, help="last UTC arrival day (inclusive)")
    p.add_argument(
        "--dest-bucket", help="output bucket (default: Terraform output transformed_bucket)"
    )
    p.add_argument("--dry-run", action="store_true", help="process and count, write nothing")
    p.add_argument("--local-dir", type=Path, help="replay local files instead of S3")
    p.add_argument("--out", type=Path, help="with --local-dir: output directory")
    p.add_argument("--json", action="store_true", help="print one JSON stats line per object")
    return p


def _report(stats: Stats, as_json: bool) -> None:
    if as_json:
        print(json.dumps(stats.to_dict()))
    else:
        print(
            f"{stats.source.uri}: in={stats.records_in} written={stats.records_written} "
            f"quarantined={stats.records_quarantined} "
            + ("ok" if stats.reconciled else "NOT RECONCILED")
        )


class UsageError(Exception):
    """Bad arguments: one line on stderr, exit 2."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    from clickstream_common.outputs import OutputsNotFoundError
    from clickstream_common.target import TargetError

    try:
        return _replay(args)
    except UsageError as exc:
        print(f"clickstream-replay: error: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError, OutputsNotFoundError, TargetError, OSError) as exc:
        print(f"clickstream-replay: error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    from botocore.exceptions import EndpointConnectionError

    if isinstance(exc, EndpointConnectionError):
        text += " (is the stack up? `make up`)"
    return text


def _replay(args: argparse.Namespace) -> int:
    config = TransformConfig()
    summary = Summary()

    if args.local_dir:
        if not args.out and not args.dry_run:
            raise UsageError("--local-dir needs --out (or --dry-run)")
        if not args.local_dir.is_dir():
            raise UsageError(f"--local-dir {args.local_dir}: no such directory")
        if not any(True for _ in local_files(args.local_dir)):
            print(
                f"clickstream-replay: nothing to replay: no files under {args.local_dir}",
                file=sys.stderr,
            )
            return 1
        for path, key in local_files(args.local_dir):
            if args.dry_run:
                with path.open("rb") as f:
                    stats = process_object(f, SourceRef("local", key), DiscardSink(), config)
            else:
                stats = process_file(path, args.out, config, key=key)
            summary.add(stats)
            _report(stats, args.json)
        print(summary.render())
        return 0 if summary.ok else 1

    import boto3

    from clickstream_common import target
    from clickstream_common.outputs import output

    if args.since or args.until:
        since = args.since or args.until
        try:
            prefixes = day_prefixes(RAW_PREFIX, since, args.until or since)
        except ValueError as exc:
            raise UsageError(f"{exc} ({args.since} > {args.until})") from None
        if args.prefix is not None:
            raise UsageError("give --prefix or --since/--until, not both")
    else:
        prefixes = [args.prefix if args.prefix is not None else RAW_PREFIX]
    bucket = args.bucket or output("raw_bucket")
    dest = None if args.dry_run else args.dest_bucket or output("transformed_bucket")
    # The stack of the outputs, unless AWS_ENDPOINT_URL says otherwise; one line when it is down.
    target.configure(
        "clickstream-replay",
        names_from_outputs=not args.bucket or not (args.dry_run or args.dest_bucket),
    )
    client = boto3.client("s3")
    sink: Sink
    if dest is None:
        sink = DiscardSink()
    else:
        spool.sweep()  # what killed replays (or Lambda runtimes) left in the temp directory
        sink = S3Sink(client, dest, spool.process_dir())

    keys = [key for prefix in prefixes for key in list_keys(client, bucket, prefix)]
    if not keys:
        where = ", ".join(f"s3://{bucket}/{p}" for p in prefixes)
        print(f"clickstream-replay: nothing to replay: no objects under {where}", file=sys.stderr)
        return 1
    for key in keys:
        source = SourceRef(bucket, key)
        try:
            obj = client.get_object(Bucket=bucket, Key=key)
            etag = normalize_etag(obj.get("ETag"))
            source = SourceRef(bucket, key, etag, obj.get("VersionId"))
            try:
                stats = process_object(obj["Body"], source, sink, config)
            finally:
                obj["Body"].close()
        except Exception as exc:  # keep going; report at the end and exit non-zero
            summary.failed.append(f"{source.uri}: {type(exc).__name__}: {exc}")
            continue
        summary.add(stats)
        _report(stats, args.json)
    print(summary.render())
    return 0 if summary.ok else 1


def console_main() -> NoReturn:
    """Console-script entry point: :func:`main`, then an exit that skips Arrow's native teardown
    (:mod:`clickstream_common.process`)."""
    exit_now(main())


if __name__ == "__main__":
    console_main()
