"""AWS Lambda entry point of the compactor: thin glue between an event and :mod:`compactor.run`.

Events:

* the schedule (an EventBridge rule; its ``time`` is the scheduled time, so a late invocation
  still works on the right days) or ``{"mode": "sweep"}``: yesterday, then every other day of the
  last ``SWEEP_DAYS`` that holds at least ``MIN_UNCOMPACTED_FILES`` uncompacted files;
* ``{"day": "YYYY-MM-DD"}`` (``make compact DAY=...``): that day, if it has anything to compact.

Environment: TRANSFORMED_BUCKET (required); EVENTS_PREFIX, COMPACTION_PREFIX; TARGET_FILE_MB
(default 256); SWEEP_DAYS (7); MIN_UNCOMPACTED_FILES (1); MEMORY_LIMIT_MB (DuckDB's buffer pool,
default 40 % of the function's memory); SPOOL_DIR (default: system temp, the Lambda's ephemeral
storage, where DuckDB spills). One JSON line per day, with CloudWatch EMF metrics.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from compactor.config import CompactorConfig, MiB
from compactor.run import DayReport, compact_day, sweep
from compactor.store import S3Store

NAMESPACE = "ClickstreamPipeline"
_METRICS = (
    ("CompactionFilesIn", "files_in", "Count"),
    ("CompactionFilesOut", "files_out", "Count"),
    ("CompactionRowsIn", "rows_in", "Count"),
    ("CompactionRowsOut", "rows_out", "Count"),
    ("CompactionDuplicates", "duplicate_rows", "Count"),
    ("CompactionConflicts", "conflicts", "Count"),
    ("CompactionWindowSeconds", "window_s", "Seconds"),
)


def _prefix(value: str | None, default: str) -> str:
    value = (value or "").strip()
    if not value:
        return default
    return value if value.endswith("/") else value + "/"


def settings_from_env(
    env: Mapping[str, str], lease_s: float | None = None
) -> tuple[str, CompactorConfig]:
    bucket = env.get("TRANSFORMED_BUCKET", "").strip()
    if not bucket:
        raise RuntimeError("TRANSFORMED_BUCKET is not set")
    base = CompactorConfig()
    memory = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or 0)
    default_limit = max(128, memory * 4 // 10) if memory else base.memory_limit_mb
    config = replace(
        base,
        events_prefix=_prefix(env.get("EVENTS_PREFIX"), base.events_prefix),
        compaction_prefix=_prefix(env.get("COMPACTION_PREFIX"), base.compaction_prefix),
        target_file_bytes=int(float(env.get("TARGET_FILE_MB") or 256) * MiB),
        sweep_days=int(env.get("SWEEP_DAYS") or base.sweep_days),
        min_uncompacted_files=int(env.get("MIN_UNCOMPACTED_FILES") or base.min_uncompacted_files),
        memory_limit_mb=int(env.get("MEMORY_LIMIT_MB") or default_limit),
        lease_s=lease_s or base.lease_s,
    )
    return bucket, config


def today_of(event: Mapping[str, Any], now: float | None = None) -> date:
    """The UTC date the schedule fired on (the event's ``time``), else now's."""
    stamp = event.get("time")
    if isinstance(stamp, str) and stamp:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).date()
    return datetime.fromtimestamp(now or time.time(), UTC).date()


def emf_line(report: DayReport, function_name: str) -> str:
    doc: dict[str, Any] = {"message": "compaction", **report.to_dict()}
    for metric, attr, _ in _METRICS:
        doc[metric] = getattr(report, attr)
    doc["FunctionName"] = function_name
    doc["_aws"] = {
        "Timestamp": int(time.time() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": [{"Name": m, "Unit": u} for m, _, u in _METRICS],
            }
        ],
    }
    return json.dumps(doc, separators=(",", ":"), default=str)


def handle(
    event: Mapping[str, Any], store: S3Store, config: CompactorConfig, spool: Path, name: str
) -> dict[str, Any]:
    def log(report: DayReport) -> None:
        print(emf_line(report, name), file=sys.stdout, flush=True)

    if event.get("day"):
        try:
            day = date.fromisoformat(str(event["day"]))
        except ValueError:
            raise ValueError(f"day must be YYYY-MM-DD, got {event['day']!r}") from None
        report = compact_day(store, day, config, spool, explicit=True)
        log(report)
        reports = [report]
    else:
        reports = sweep(store, today_of(event), config, spool, log=log)
    return {"days": [r.to_dict() for r in reports]}


_client = None


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    global _client
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    lease = remaining() / 1000 + 60 if callable(remaining) else None
    bucket, config = settings_from_env(os.environ, lease)
    if _client is None:
        import boto3

        _client = boto3.client("s3")
    spool = Path(os.environ.get("SPOOL_DIR") or tempfile.gettempdir())
    name = getattr(context, "function_name", None) or os.environ.get(
        "AWS_LAMBDA_FUNCTION_NAME", "compactor"
    )
    return handle(event, S3Store(_client, bucket), config, spool, name)
