"""Where records go: Kinesis Firehose (PutRecordBatch) or an NDJSON file / stdout.

Both sinks take packed batches and hand back completed ones with the indices that failed for
good, so the caller (and the manifest) knows exactly which records were delivered. The Firehose
sink keeps a few calls in flight on a small thread pool: botocore releases the GIL while it
waits on the socket, so 2-4 concurrent calls overlap network/LocalStack latency with
generating the next batch.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Protocol

from generator.aggregate import Envelope
from generator.batching import Batch
from generator.retry import DeliveryResult, RetryPolicy, deliver

if TYPE_CHECKING:
    from types_boto3_firehose import FirehoseClient

#: Whole-call errors worth retrying (the service said "not now", not "never").
RETRYABLE_CODES = frozenset(
    {
        "ServiceUnavailableException",
        "ThrottlingException",
        "LimitExceededException",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


@dataclass(slots=True)
class Completed:
    """A batch whose delivery finished; ``result.failed`` indexes ``batch.items`` (Firehose records)."""

    batch: Batch[Envelope]
    result: DeliveryResult


@dataclass(slots=True)
class SinkStats:
    """Totals the CLI prints and the manifest records.

    ``sent``/``failed`` count events; ``records_*`` count Firehose records (envelopes), which
    differ when several events share a record; ``retried`` counts re-sent Firehose records.
    """

    sent: int = 0
    failed: int = 0
    records_sent: int = 0
    records_failed: int = 0
    retried: int = 0
    calls: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, c: Completed) -> None:
        failed = set(c.result.failed)
        items = c.batch.items
        self.records_sent += len(items) - len(failed)
        self.records_failed += len(failed)
        for i, env in enumerate(items):
            if i in failed:
                self.failed += len(env.records)
            else:
                self.sent += len(env.records)
        self.retried += c.result.retried
        self.calls += c.result.attempts
        self.errors.update(c.result.errors)


class Sink(Protocol):
    """Accepts batches; returns the ones that finished (possibly earlier ones, in order)."""

    stats: SinkStats
    description: str

    def submit(self, batch: Batch[Envelope]) -> list[Completed]: ...

    def close(self) -> list[Completed]: ...

    def abort(self) -> list[Completed]: ...


class FileSink:
    """NDJSON to a file or ``-`` (stdout): the offline destination and the pure-generation bench."""

    def __init__(self, target: str | IO[bytes]) -> None:
        if isinstance(target, str):
            self.description = "stdout" if target == "-" else target
            self._own = target != "-"
            self._f: IO[bytes] = open(target, "wb") if self._own else _stdout_bytes()  # noqa: SIM115
        else:
            self.description = getattr(target, "name", "stream")
            self._own = False
            self._f = target
        self.stats = SinkStats()

    def submit(self, batch: Batch[Envelope]) -> list[Completed]:
        self._f.write(b"".join(r.data for r in batch.items))
        done = Completed(batch, DeliveryResult(attempts=1))
        self.stats.add(done)
        return [done]

    def close(self) -> list[Completed]:
        self._f.flush()
        if self._own:
            self._f.close()
        return []

    def abort(self) -> list[Completed]:
        return self.close()


def _stdout_bytes() -> IO[bytes]:
    import sys

    return sys.stdout.buffer


def is_retryable(exc: Exception) -> bool:
    """Throttling, 5xx and connection-level errors are retried; everything else is final."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, ConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return err.get("Code") in RETRYABLE_CODES or status >= 500
    return False


def error_code(exc: Exception) -> str:
    """A short code for a failed call, for the error counts in the summary."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def make_firehose_client(
    *, max_pool_connections: int = 10, region: str | None = None
) -> FirehoseClient:
    """A Firehose client from boto3's normal configuration chain, like the AWS CLI.

    Endpoint: ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_FIREHOSE``, or the profile's
    ``endpoint_url``) is honoured by botocore itself; credentials and profile (``AWS_PROFILE``)
    by the session. Region: ``region``, else ``AWS_REGION`` (the AWS CLI v2 and SDKs use it;
    boto3 alone only reads ``AWS_DEFAULT_REGION``), else the session's region (env/profile; the
    CLI first sets the deployment's, :mod:`clickstream_common.target`). Parameter validation is off
    because we build every request ourselves and validating 500 entries per call is measurable.
    """
    import boto3
    from botocore.config import Config

    session = boto3.Session()
    region = region or os.environ.get("AWS_REGION") or session.region_name
    cfg = Config(
        max_pool_connections=max_pool_connections,
        retries={"mode": "standard", "max_attempts": 3},
        parameter_validation=False,
        tcp_keepalive=True,
    )
    return session.client("firehose", region_name=region, config=cfg)


class FirehoseSink:
    """PutRecordBatch with partial-failure retries and up to ``concurrency`` calls in flight."""

    def __init__(
        self,
        client: FirehoseClient,
        stream_name: str,
        *,
        policy: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, immutable default
        concurrency: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.client = client
        self.stream_name = stream_name
        self.description = f"firehose:{stream_name}"
        self.policy = policy
        self.stats = SinkStats()
        self._sleep = sleep
        self._rng = random.Random()  # jitter only; not part of the generated data
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="firehose")
        self._max_inflight = concurrency * 2
        self._inflight: deque[tuple[Batch[Envelope], Future[DeliveryResult]]] = deque()
        self._finished_before_error: list[Completed] = []  # see submit()

    def put(self, payloads: Sequence[bytes]) -> list[str | None]:
        """One PutRecordBatch call; per-entry error codes (None = accepted)."""
        resp = self.client.put_record_batch(
            DeliveryStreamName=self.stream_name, Records=[{"Data": p} for p in payloads]
        )
        if not resp.get("FailedPutCount"):
            return [None] * len(payloads)
        return [r.get("ErrorCode") for r in resp["RequestResponses"]]

    def _deliver(self, payloads: list[bytes]) -> DeliveryResult:
        return deliver(
            payloads,
            self.put,
            self.policy,
            retryable=is_retryable,
            error_code=error_code,
            sleep=self._sleep,
            rng=self._rng,
        )

    def _finish_oldest(self) -> Completed:
        batch, fut = self._inflight.popleft()
        done = Completed(batch, fut.result())
        self.stats.add(done)
        return done

    def submit(self, batch: Batch[Envelope]) -> list[Completed]:
        fut = self._pool.submit(self._deliver, [r.data for r in batch.items])
        self._inflight.append((batch, fut))
        completed: list[Completed] = []
        try:
            while self._inflight and (
                len(self._inflight) > self._max_inflight or self._inflight[0][1].done()
            ):
                completed.append(self._finish_oldest())
        except Exception:
            # batches finished before the failing one are in the stats: abort() reports them,
            # so the manifest counts every record the stats count as sent
            self._finished_before_error.extend(completed)
            raise
        return completed

    def close(self) -> list[Completed]:
        completed: list[Completed] = []
        try:
            while self._inflight:
                completed.append(self._finish_oldest())
        except Exception:
            self._finished_before_error.extend(completed)  # reported by abort(), as in submit()
            raise
        finally:
            self._pool.shutdown(wait=True)
        return completed

    def abort(self) -> list[Completed]:
        """Stop after a fatal error: drop queued calls, wait for running ones, keep their results.

        Batches whose call finished are still accounted for; cancelled or crashed ones are not
        (the caller counts them as unsent).
        """
        self._pool.shutdown(wait=True, cancel_futures=True)
        completed, self._finished_before_error = self._finished_before_error, []
        for batch, fut in self._inflight:
            if not fut.cancelled() and fut.exception() is None:
                done = Completed(batch, fut.result())
                self.stats.add(done)
                completed.append(done)
        self._inflight.clear()
        return completed
