"""Query executions: the state machine, the worker pool and the result files.

``StartQueryExecution`` records a QUEUED execution and returns its id at once; a worker thread
moves it to RUNNING, runs it (:mod:`clickstream_emulator.athena.engine`) and ends it SUCCEEDED,
FAILED or CANCELLED, writing ``<OutputLocation><id>.csv`` and ``<id>.csv.metadata`` to S3 on
success, as Athena does. ``StopQueryExecution`` interrupts DuckDB. Executions live in memory,
per account and region, like the rest of the local stack (``PERSISTENCE=0``).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from clickstream_emulator.athena import engine
from clickstream_emulator.athena.ports import Context
from clickstream_emulator.athena.relations import Execution
from clickstream_emulator.athena.results import CSV, DATA, SYSTEM, TXT, Outcome, QueryFailed

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = (
    "QUEUED",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
)
FINAL_STATES = frozenset({SUCCEEDED, FAILED, CANCELLED})
#: Athena runs queries concurrently; the laptop has few cores, DuckDB uses them all per query.
WORKERS = 4
ENGINE_VERSION = {
    "SelectedEngineVersion": "AUTO",
    "EffectiveEngineVersion": "Athena engine version 3",
}


@dataclass
class QueryExecution:
    """One execution, as GetQueryExecution describes it."""

    id: str
    query: str
    workgroup: str
    database: str
    output_location: str
    encryption: dict[str, Any] | None
    cutoff_bytes: int | None
    account_id: str
    region: str
    enforced: bool = False
    state: str = QUEUED
    reason: str | None = None
    error: QueryFailed | None = None
    submitted: float = field(default_factory=time.time)
    completed: float | None = None
    outcome: Outcome | None = None
    handle: Execution = field(default_factory=Execution)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def context(self) -> Context:
        return Context(
            self.id,
            self.database,
            self.output_location,
            workgroup=self.workgroup,
            enforced=self.enforced,
            cutoff_bytes=self.cutoff_bytes,
        )

    @property
    def result_key(self) -> str:
        """Athena's result file: ``<id>.csv`` (query), ``<id>.txt`` (utility, DDL), or ``<id>``
        (CTAS under ``tables/``, INSERT, UNLOAD: the data is elsewhere, listed by the manifest)."""
        outcome = self.outcome
        layout = outcome.layout if outcome else CSV
        folder = outcome.output_folder if outcome else ""
        base = f"{self.output_location}{folder}{self.id}"
        return {CSV: f"{base}.csv", TXT: f"{base}.txt"}.get(layout, base)

    @property
    def metadata_key(self) -> str:
        return f"{self.result_key}.metadata"

    @property
    def manifest_key(self) -> str | None:
        """``<id>-manifest.csv`` beside the result, for statements that write data files."""
        outcome = self.outcome
        if outcome is None or outcome.layout != DATA:
            return None
        return f"{self.result_key}-manifest.csv"

    def describe(self) -> dict[str, Any]:
        """The ``QueryExecution`` structure of the API."""
        status: dict[str, Any] = {
            "State": self.state,
            "SubmissionDateTime": dt.datetime.fromtimestamp(self.submitted, dt.UTC),
        }
        if self.completed is not None:
            status["CompletionDateTime"] = dt.datetime.fromtimestamp(self.completed, dt.UTC)
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.error is not None and self.state == FAILED:
            status["AthenaError"] = {
                "ErrorCategory": self.error.category,
                "ErrorType": self.error.error_type,
                "Retryable": False,
                "ErrorMessage": self.reason,
            }
        result_configuration: dict[str, Any] = {"OutputLocation": self.result_key}
        if self.encryption:
            result_configuration["EncryptionConfiguration"] = self.encryption
        outcome = self.outcome
        total_ms = int(((self.completed or time.time()) - self.submitted) * 1000)
        statistics = {
            "EngineExecutionTimeInMillis": outcome.engine_ms if outcome else 0,
            "DataScannedInBytes": outcome.data_scanned if outcome else 0,
            "TotalExecutionTimeInMillis": total_ms,
            "QueryQueueTimeInMillis": 0,
            "QueryPlanningTimeInMillis": outcome.planning_ms if outcome else 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        }
        if self.manifest_key and self.state == SUCCEEDED:
            statistics["DataManifestLocation"] = self.manifest_key
        described = {
            "QueryExecutionId": self.id,
            "Query": self.query,
            "StatementType": outcome.statement_type if outcome else "DML",
            "ResultConfiguration": result_configuration,
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {"Database": self.database, "Catalog": "awsdatacatalog"},
            "Status": status,
            "Statistics": statistics,
            "WorkGroup": self.workgroup,
            "EngineVersion": ENGINE_VERSION,
        }
        if outcome:
            described["SubstatementType"] = outcome.substatement_type
        return described


class Executions:
    """Every execution of every account and region, and the pool that runs them."""

    def __init__(self) -> None:
        self._by_id: dict[tuple[str, str, str], QueryExecution] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="athena-query")

    def start(
        self,
        execution: QueryExecution,
        catalog: Any,
        write_results: Callable[[QueryExecution], None],
    ) -> None:
        with self._lock:
            self._by_id[(execution.account_id, execution.region, execution.id)] = execution
        self._pool.submit(self._run, execution, catalog, write_results)

    def get(self, account_id: str, region: str, query_id: str) -> QueryExecution | None:
        with self._lock:
            return self._by_id.get((account_id, region, query_id))

    def list(self, account_id: str, region: str, workgroup: str) -> list[QueryExecution]:
        with self._lock:
            found = [
                e
                for (acc, reg, _), e in self._by_id.items()
                if acc == account_id and reg == region and e.workgroup == workgroup
            ]
        return sorted(found, key=lambda e: e.submitted, reverse=True)

    def stop(self, execution: QueryExecution) -> None:
        """StopQueryExecution: a queued query never runs, a running one is interrupted."""
        with execution.lock:
            if execution.state in FINAL_STATES:
                return
            execution.handle.cancel()
            if execution.state == QUEUED:
                self._finish(execution, CANCELLED, "Query was cancelled by the user")

    def _run(
        self,
        execution: QueryExecution,
        catalog: Any,
        write_results: Callable[[QueryExecution], None],
    ) -> None:
        with execution.lock:
            if execution.state != QUEUED:
                return
            execution.state = RUNNING
        try:
            outcome = engine.run(execution.query, execution.context(), catalog, execution.handle)
            execution.outcome = outcome
            write_results(execution)
        except QueryFailed as failure:
            with execution.lock:
                execution.outcome = None
                execution.error = failure
                self._finish(execution, failure.state, failure.reason)
            return
        except Exception as err:  # an engine bug must end the query, not hang it RUNNING
            with execution.lock:
                execution.outcome = None
                execution.error = QueryFailed(
                    f"GENERIC_INTERNAL_ERROR: {type(err).__name__}: {err}", SYSTEM, 1012
                )
                self._finish(execution, FAILED, execution.error.reason)
            return
        with execution.lock:
            if execution.handle.cancelled:
                self._finish(execution, CANCELLED, "Query was cancelled by the user")
            else:
                self._finish(execution, SUCCEEDED, None)

    @staticmethod
    def _finish(execution: QueryExecution, state: str, reason: str | None) -> None:
        execution.state = state
        execution.reason = reason
        execution.completed = time.time()


def new_id() -> str:
    return str(uuid.uuid4())


def metadata_document(execution: QueryExecution) -> bytes:
    """The ``.csv.metadata`` object: the result's column info (see docs/athena-local.md: Athena writes a
    binary encoding of the same information, which no client parses)."""
    outcome = execution.outcome
    columns = outcome.columns if outcome else []
    return json.dumps({"ColumnInfo": columns}, indent=2).encode()
