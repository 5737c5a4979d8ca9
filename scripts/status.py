"""`make status`: where the data is, stage by stage, so a user sees what happened to it.

Firehose stream (state, records put when LocalStack/AWS report it) -> raw objects/bytes ->
objects the transformer finished (its per-source manifests) and records it read -> Parquet
files/rows (by event day) -> quarantine by reason -> the reconciliation line -> failed
invocations waiting in the on-failure queue -> the last errors in the transformer's log group.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from clickstream_common import target
from clickstream_common.inventory import Inventory, inventory_from_outputs
from clickstream_common.outputs import OutputsNotFoundError, load_outputs
from clickstream_emulator.lambda_executor.bootstrap import MEMORY_WARNING

if TYPE_CHECKING:
    from types_boto3_logs.type_defs import FilteredLogEventTypeDef

#: Log lines that mean a failed invocation (the handler's structured line, Python tracebacks,
#: Lambda's own timeout/runtime errors). The filter pattern narrows the search on AWS; the regex
#: decides (LocalStack returns every line for this pattern, DEBUG logging included).
ERROR_PATTERN = '?ERROR ?Traceback ?"Task timed out" ?Runtime'
ERROR_LINE = re.compile(
    r'\[ERROR\]|"level": ?"ERROR"|Traceback \(most recent|Task timed out|"errorType"|Runtime\.\w+'
)
#: Log pages read at most (a noisy day must not make `make status` slow).
MAX_LOG_PAGES = 20


def _section(title: str) -> None:
    print(f"\n== {title}")


def _firehose(out: dict[str, Any]) -> None:
    name = str(out["firehose_name"])
    d = boto3.client("firehose").describe_delivery_stream(DeliveryStreamName=name)
    print(f"firehose {name}: {d['DeliveryStreamDescription']['DeliveryStreamStatus']}")
    _firehose_metric(name)
    _firehose_buffers()


def _firehose_buffers() -> None:
    """Locally: per stream, what the local Firehose holds but has not delivered yet (its
    /_clickstream/firehose/buffers endpoint, emulator/ clickstream_emulator.firehose)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        return  # AWS: Firehose's buffers are not observable
    try:
        with urllib.request.urlopen(f"{endpoint}/_clickstream/firehose/buffers", timeout=5) as r:
            streams = json.load(r)["streams"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"  buffers: not reported ({exc})")
        return
    for s in streams:
        line = (
            f"  {s['stream']}: {s['buffered_records']:,} records, {s['buffered_bytes']:,} bytes "
            f"buffered; delivered {s['delivered_records']:,} records in "
            f"{s['delivered_objects']:,} objects"
        )
        if s["in_flight_records"]:
            line += f"; {s['in_flight_records']:,} in flight"
        if s["retrying_records"] or s["failed_attempts"]:
            line += (
                f"; {s['retrying_records']:,} records retrying, {s['failed_attempts']} failed "
                f"attempts (last: {s['last_error']})"
            )
        if s["error_output_records"]:
            line += f"; {s['error_output_records']:,} records sent to the error output"
        print(line)


def _firehose_metric(name: str) -> None:
    """Records put in the last 24 h from CloudWatch (AWS publishes it; LocalStack does not)."""
    try:
        cw = boto3.client("cloudwatch")
        now = time.time()
        stats = cw.get_metric_statistics(
            Namespace="AWS/Firehose",
            MetricName="IncomingRecords",
            Dimensions=[{"Name": "DeliveryStreamName", "Value": name}],
            StartTime=now - 24 * 3600,
            EndTime=now,
            Period=24 * 3600,
            Statistics=["Sum"],
        )["Datapoints"]
    except (BotoCoreError, ClientError):
        stats = []
    if stats:
        print(f"  records put (24 h): {int(sum(p['Sum'] for p in stats)):,}")
    else:
        print("  records put: not reported here (LocalStack publishes no Firehose metrics)")


def _stages(out: dict[str, Any], inv: Inventory) -> None:
    print(f"raw: {inv.raw_objects} objects, {inv.raw_bytes:,} bytes in s3://{out['raw_bucket']}")
    _section("transformer")
    print(f"processed: {inv.processed_objects} of {inv.raw_objects} raw objects")
    pending = inv.unprocessed_keys
    stale = set(inv.stale_keys)
    for key in pending[:5]:
        if key in stale:
            print(
                f"  stale manifest (raw object overwritten, outputs describe the old version; "
                f"in flight or failed): {key}"
            )
        else:
            print(f"  not processed (in flight or failed): {key}")
    if len(pending) > 5:
        print(f"  ... and {len(pending) - 5} more")
    print(f"records read: {inv.records_in:,}")
    _section("transformed")
    print(f"parquet: {inv.parquet_rows:,} rows in {inv.parquet_files} files")
    for day, rows in sorted(inv.rows_by_day.items()):
        print(f"  {day}: {rows:,} rows{_day_files(inv, day)}")
    print(f"quarantine: {inv.quarantine_records:,} records in {inv.quarantine_files} files")
    for reason, n in sorted(inv.quarantine_by_reason.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {reason}: {n:,}")
    if inv.duplicates_removed or inv.stale_rows:
        line = f"compaction: {inv.duplicates_removed:,} duplicate rows removed"
        if inv.stale_rows:
            line += (
                f"; {inv.stale_rows:,} rows still listed but on their way out (inputs awaiting "
                "delete, or folded rows of a source published again: the next run)"
            )
        print(line)
    balance = inv.records_in - inv.records_out
    if inv.reconciled:
        verdict = "OK"
    elif stale:
        verdict = f"NOT RECONCILED: {len(stale)} stale manifests"
    elif pending:
        verdict = f"PENDING: {len(pending)} raw objects not processed"
    else:
        verdict = "MISMATCH"
    print(
        f"reconciliation: read {inv.records_in:,} - parquet {inv.parquet_rows - inv.stale_rows:,} "
        f"- quarantined {inv.quarantine_records:,} - duplicates removed "
        f"{inv.duplicates_removed:,} = {balance:,} ({verdict})"
    )


def _day_files(inv: Inventory, day: str) -> str:
    """`` in 1 compacted + 2 uncompacted files, ...`` for one event day."""
    f = inv.days.get(day)
    if f is None:
        return ""
    text = f" in {f.compacted_files} compacted + {f.uncompacted_files} uncompacted files"
    if not f.compacted:
        text += " (not compacted yet)"
    if f.duplicates_removed or f.conflicts:
        text += f", {f.duplicates_removed:,} duplicates removed ({f.conflicts} with other content)"
    if f.awaiting_delete:
        text += f", {f.awaiting_delete} folded inputs awaiting delete (next run finishes them)"
    if f.republished_sources:
        text += f", {f.republished_sources} sources published again (next run replaces them)"
    return text


def queue_url(sqs: Any, destination: str) -> str:
    """The queue URL by name: the output may be an ARN, or a URL naming another host/port."""
    sep = ":" if destination.startswith("arn:") else "/"
    return sqs.get_queue_url(QueueName=destination.rsplit(sep, 1)[-1])["QueueUrl"]


def _failures(out: dict[str, Any]) -> None:
    dest = out.get("failure_destination")
    if not dest:
        print("no on-failure destination in the outputs")
        return
    sqs = boto3.client("sqs")
    url = queue_url(sqs, str(dest))
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    waiting = int(attrs["ApproximateNumberOfMessages"])
    waiting += int(attrs["ApproximateNumberOfMessagesNotVisible"])
    hint = " (replay them: make replay ARGS='--prefix <key>')" if waiting else ""
    print(f"failed invocations in the on-failure queue: {waiting}{hint}")


def _lambda_errors(out: dict[str, Any], limit: int = 5) -> None:
    logs = boto3.client("logs")
    group = str(out["lambda_log_group"])
    since = int((time.time() - 24 * 3600) * 1000)
    events: list[FilteredLogEventTypeDef] = []
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, startTime=since, filterPattern=ERROR_PATTERN
        )
        for n, page in enumerate(pages):
            events.extend(
                e
                for e in page["events"]
                if ERROR_LINE.search(e["message"]) and MEMORY_WARNING not in e["message"]
            )
            if n + 1 >= MAX_LOG_PAGES:
                break
    except logs.exceptions.ResourceNotFoundException:
        print(f"log group {group}: no invocations yet")
        return
    if not events:
        print(f"log group {group}: no errors in the last 24 h")
        return
    print(f"log group {group}: {len(events)} error lines in the last 24 h, the last {limit}:")
    for e in sorted(events, key=lambda e: e["timestamp"])[-limit:]:
        stamp = time.strftime("%H:%M:%S", time.gmtime(e["timestamp"] / 1000))
        print(f"  {stamp} {e['message'].strip()[:200]}")


def memory_warnings(logs: Any, group: str, since_ms: int) -> list[FilteredLogEventTypeDef]:
    """The local executor's MEMORY_LIMIT_EXCEEDED lines: invocations whose peak memory exceeded
    the function's Memory Size, which AWS would end with Runtime.OutOfMemory (never on AWS)."""
    found: list[FilteredLogEventTypeDef] = []
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=since_ms, filterPattern=MEMORY_WARNING
    )
    for n, page in enumerate(pages):
        found.extend(e for e in page["events"] if MEMORY_WARNING in e["message"])
        if n + 1 >= MAX_LOG_PAGES:
            break
    return found


def _memory(out: dict[str, Any]) -> None:
    logs = boto3.client("logs")
    group = str(out["lambda_log_group"])
    try:
        found = memory_warnings(logs, group, int((time.time() - 24 * 3600) * 1000))
    except logs.exceptions.ResourceNotFoundException:
        return
    if not found:
        print("lambda memory: no invocation above its Memory Size in the last 24 h")
        return
    print(
        f"lambda memory: {len(found)} invocations above their Memory Size in the last 24 h "
        "(AWS would end them with Runtime.OutOfMemory), the last:"
    )
    print(f"  {found[-1]['message'].strip()[:300]}")


def main() -> int:
    try:
        out = load_outputs()
        # The stack of those outputs, unless AWS_ENDPOINT_URL says otherwise (then one note).
        target.configure("status")
    except (OutputsNotFoundError, target.TargetError) as exc:
        print(f"status: error: {exc}", file=sys.stderr)
        return 1
    try:
        _section("ingest")
        _firehose(out)
        _stages(out, inventory_from_outputs(boto3.client("s3"), out))
        _section("failures")
        _failures(out)
        _lambda_errors(out)
        _memory(out)
    except (BotoCoreError, ClientError) as exc:
        print(f"error talking to AWS/LocalStack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
