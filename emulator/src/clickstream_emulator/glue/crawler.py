"""A crawl, run in a background thread inside LocalStack: S3 in, the Glue catalog (moto's) out.

``StartCrawler`` returns at once and the crawler moves READY -> RUNNING -> STOPPING -> READY, as
on AWS: RUNNING lists the S3 targets and reads every Parquet footer (two ranged GETs per object),
STOPPING writes the table and partitions that ``crawl.plan_crawl`` decided, then ``LastCrawl``
records SUCCEEDED, CANCELLED (StopCrawler) or FAILED with its error. A folder whose files disagree
with the table fails the crawl with ``HIVE_PARTITION_SCHEMA_MISMATCH`` (the error Athena would
raise reading it) instead of being merged; the other folders are still registered. The crawl log
goes to CloudWatch Logs ``/aws-glue/crawlers``, stream = crawler name, as on AWS.
"""

from __future__ import annotations

import contextlib
import json
import logging
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clickstream_emulator.glue import catalog
from clickstream_emulator.glue.crawl import (
    MISMATCH,
    TAIL_SIZE,
    CrawlPlan,
    DataFile,
    NotParquetError,
    UnsupportedTypeError,
    footer_length,
    is_excluded,
    is_hidden,
    plan_crawl,
    read_footer,
    settings_from_crawler,
    table_name_for,
)

LOG = logging.getLogger(__name__)
LOG_GROUP = "/aws-glue/crawlers"


class CrawlCancelled(Exception):
    """StopCrawler was called while the crawl was reading."""


class CrawlFailed(Exception):
    """The crawl cannot complete (missing database, unreadable bucket, ...)."""


@dataclass
class CrawlRun:
    """One crawl of one crawler: what GetCrawler's State/LastCrawl and GetCrawlerMetrics report."""

    crawler: str
    crawl_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended: datetime | None = None
    state: str = "RUNNING"  # RUNNING, STOPPING, then SUCCEEDED | CANCELLED | FAILED
    error: str | None = None
    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.state in ("SUCCEEDED", "CANCELLED", "FAILED")

    def seconds(self) -> float:
        end = self.ended or datetime.now(UTC)
        return (end - self.started).total_seconds()


class CrawlRegistry:
    """Crawl runs per (account, region, crawler); moto's backend keeps the crawler definitions."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, str, str], list[CrawlRun]] = {}

    def current(self, key: tuple[str, str, str]) -> CrawlRun | None:
        with self._lock:
            runs = self._runs.get(key) or []
            return runs[-1] if runs and not runs[-1].finished else None

    def last_finished(self, key: tuple[str, str, str]) -> CrawlRun | None:
        with self._lock:
            return next((r for r in reversed(self._runs.get(key) or []) if r.finished), None)

    def finished_runs(self, key: tuple[str, str, str]) -> list[CrawlRun]:
        with self._lock:
            return [r for r in self._runs.get(key) or [] if r.finished]

    def begin(self, key: tuple[str, str, str]) -> CrawlRun | None:
        """A new run, or None when one is still running (CrawlerRunningException)."""
        with self._lock:
            runs = self._runs.setdefault(key, [])
            if runs and not runs[-1].finished:
                return None
            run = CrawlRun(crawler=key[2])
            runs.append(run)
            return run

    def forget(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._runs.pop(key, None)

    # ------------------------------------------------------------------ GetCrawler fields
    def decorate(self, key: tuple[str, str, str], crawler: dict[str, Any]) -> dict[str, Any]:
        """Overwrite moto's State/LastCrawl/CrawlElapsedTime with this registry's runs."""
        running = self.current(key)
        crawler["State"] = running.state if running else "READY"
        crawler["CrawlElapsedTime"] = int(running.seconds() * 1000) if running else 0
        last = self.last_finished(key)
        crawler.pop("LastCrawl", None)
        if last:
            info = {
                "Status": last.state,
                "LogGroup": LOG_GROUP,
                "LogStream": last.crawler,
                "MessagePrefix": last.crawl_id,
                "StartTime": last.started,
            }
            if last.error:
                info["ErrorMessage"] = last.error
            crawler["LastCrawl"] = info
        return crawler

    def metrics(self, key: tuple[str, str, str]) -> dict[str, Any]:
        runs = self.finished_runs(key)
        running = self.current(key)
        last = runs[-1] if runs else None
        return {
            "CrawlerName": key[2],
            "TimeLeftSeconds": 0.0,
            "StillEstimating": running is not None,
            "LastRuntimeSeconds": last.seconds() if last else 0.0,
            "MedianRuntimeSeconds": statistics.median(r.seconds() for r in runs) if runs else 0.0,
            "TablesCreated": last.tables_created if last else 0,
            "TablesUpdated": last.tables_updated if last else 0,
            "TablesDeleted": last.tables_deleted if last else 0,
        }


REGISTRY = CrawlRegistry()


# ---------------------------------------------------------------------------- the crawl
def _s3_files(s3: Any, target: dict[str, Any], run: CrawlRun, log: list[str]) -> list[DataFile]:
    """Every data file under one S3 target with its footer's schema (hidden/excluded skipped)."""
    path = target["Path"]
    if not path.startswith("s3://"):
        raise CrawlFailed(f"S3 target {path!r} is not an s3:// path")
    bucket, _, prefix = path[len("s3://") :].partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    exclusions = list(target.get("Exclusions") or [])
    files: list[DataFile] = []
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        objects = [o for page in pages for o in page.get("Contents") or []]
    except Exception as exc:  # the bucket is gone or unreadable: the crawl fails, as on AWS
        raise CrawlFailed(f"cannot list {path}: {exc}") from None
    for obj in objects:
        if run.stop.is_set():
            raise CrawlCancelled
        key = obj["Key"][len(prefix) :]
        if not key or key.endswith("/") or is_hidden(key) or is_excluded(key, exclusions):
            continue
        size = int(obj["Size"])
        try:
            if size < 2 * TAIL_SIZE:
                raise NotParquetError("too small to be Parquet")
            tail = _read_range(s3, bucket, obj["Key"], f"bytes=-{TAIL_SIZE}")
            length = footer_length(tail)
            footer = _read_range(s3, bucket, obj["Key"], f"bytes=-{length + TAIL_SIZE}")
            columns, rows = read_footer(footer)
        except (NotParquetError, UnsupportedTypeError) as exc:
            log.append(
                f"WARN : Skipped s3://{bucket}/{obj['Key']}: {exc} (only Parquet is classified)"
            )
            continue
        files.append(DataFile(key=key, columns=columns, rows=rows, size=size))
    return files


def _read_range(s3: Any, bucket: str, key: str, byte_range: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, Range=byte_range)["Body"].read()


def _apply(backend: Any, glue: Any, database: str, plan: CrawlPlan, run: CrawlRun) -> None:
    """Write one target's plan to the catalog through :mod:`clickstream_emulator.glue.catalog`
    (the Glue API, the same writes as the local Athena's); ``backend`` is only read."""
    name = plan.table_name
    if plan.create_table is not None:
        catalog.create_table(glue, database, plan.create_table)
        run.tables_created += 1
    elif plan.update_table is not None:
        catalog.update_table(glue, database, plan.update_table)
        run.tables_updated += 1
    if (
        plan.create_table is None
        and plan.update_table is None
        and not _has_table(backend, database, name)
    ):
        return
    catalog.create_partitions(glue, database, name, plan.create_partitions)
    for partition in plan.update_partitions:
        catalog.update_partition(glue, database, name, partition)
    catalog.delete_partitions(glue, database, name, plan.delete_partitions)


def _has_table(backend: Any, database: str, name: str) -> bool:
    return name in backend.get_database(database).tables


def _existing(
    backend: Any, database: str, name: str
) -> tuple[dict[str, Any] | None, list[list[str]]]:
    tables = backend.get_database(database).tables
    if name not in tables:
        return None, []
    table = tables[name]
    return table.as_dict(), [list(p.values) for p in table.partitions.values()]


def crawl(backend: Any, s3: Any, logs: Any, glue: Any, name: str, run: CrawlRun) -> None:
    """Run one crawl to its end; never raises (the outcome is in ``run``)."""
    lines: list[str] = [f"BENCHMARK : Running Start Crawl for Crawler {name}"]
    try:
        crawler = backend.get_crawler(name)
        database = crawler.database_name
        if database not in backend.databases:
            raise CrawlFailed(f"EntityNotFoundException: Database {database} not found")
        configuration = json.loads(crawler.configuration) if crawler.configuration else {}
        settings = settings_from_crawler(crawler.as_dict(), configuration)
        targets = (crawler.targets or {}).get("S3Targets") or []
        if not targets:
            raise CrawlFailed("the crawler has no S3 targets (only S3 targets are crawled locally)")
        scanned = [(t, _s3_files(s3, t, run, lines)) for t in targets]
        if run.stop.is_set():
            raise CrawlCancelled
        run.state = "STOPPING"
        mismatches: list[str] = []
        for target, files in scanned:
            table_name = table_name_for(target["Path"], settings.table_prefix)
            table, partitions = _existing(backend, database, table_name)
            plan = plan_crawl(
                target_path=target["Path"],
                files=files,
                existing_table=table,
                existing_partitions=partitions,
                settings=settings,
                crawler_name=name,
                database=database,
            )
            _apply(backend, glue, database, plan, run)
            lines += [f"INFO : {m}" for m in plan.messages]
            lines += [f"ERROR : {m}" for m in plan.mismatches]
            mismatches += plan.mismatches
        if mismatches:
            run.error = (
                f"{MISMATCH}: {len(mismatches)} file(s) disagree with their table; their "
                f"partitions were not registered. First: {mismatches[0]}"
            )
            run.state = "FAILED"
        else:
            run.state = "SUCCEEDED"
    except CrawlCancelled:
        lines.append("INFO : Crawl stopped by StopCrawler; the catalog was not changed.")
        run.state = "CANCELLED"
    except CrawlFailed as exc:
        run.error = str(exc)
        lines.append(f"ERROR : {exc}")
        run.state = "FAILED"
    except Exception as exc:  # a bug of ours: fail the crawl loudly, keep LocalStack serving
        LOG.exception("local Glue crawl of %s failed", name)
        run.error = f"InternalServiceException: {type(exc).__name__}: {exc}"
        lines.append(f"ERROR : {run.error}")
        run.state = "FAILED"
    run.ended = datetime.now(UTC)
    lines.append(f"BENCHMARK : Crawler has finished running and is in state READY ({run.state})")
    for line in lines:
        LOG.info("glue crawler %s [%s] %s", name, run.crawl_id, line)
    _write_log(logs, name, run.crawl_id, lines)


def _write_log(logs: Any, stream: str, crawl_id: str, lines: list[str]) -> None:
    """The crawl log in CloudWatch Logs, one event per line prefixed with the crawl id (as AWS)."""
    try:
        for create, kwargs in (
            (logs.create_log_group, {"logGroupName": LOG_GROUP}),
            (logs.create_log_stream, {"logGroupName": LOG_GROUP, "logStreamName": stream}),
        ):
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                create(**kwargs)
        now = int(time.time() * 1000)
        logs.put_log_events(
            logGroupName=LOG_GROUP,
            logStreamName=stream,
            logEvents=[{"timestamp": now, "message": f"[{crawl_id}] {line}"} for line in lines],
        )
    except Exception:  # the crawl's outcome is in LastCrawl either way
        LOG.exception("could not write the crawl log of %s to CloudWatch Logs", stream)
