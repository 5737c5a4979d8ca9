"""The delivery engine: every stream's buffer, a timer thread, a small pool of S3 writers.

``put`` (on the request thread) only appends to the stream's buffer, and hands batches that
reached the size to the pool; the timer thread cuts batches whose interval ran out and re-runs
failed deliveries when their backoff is over. ``flush`` delivers everything now and waits (the
``/_clickstream/firehose/flush`` endpoint and LocalStack's shutdown use it); ``stats`` is what
``/_clickstream/firehose/buffers`` and ``make status`` show.

Every failed attempt is one log line. Nothing accepted is dropped: a batch is retried for the
retry duration, then sent to the error output, and retried there for as long as LocalStack runs;
``shutdown`` writes whatever is still undeliverable to ``spill_dir`` and logs where.

Standard library only: the S3 write is injected (``write``), so the engine is tested without
LocalStack.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clickstream_emulator.firehose import delivery as dl
from clickstream_emulator.firehose.buffer import StreamBuffer
from clickstream_emulator.firehose.config import DeliveryConfig
from clickstream_emulator.firehose.delivery import Delivery, DeliveryError, StreamKey

LOG = logging.getLogger(__name__)

#: write(config, key, body): put one object into config.bucket; raise DeliveryError on failure
Writer = Callable[[DeliveryConfig, str, bytes], None]
#: the timer thread wakes at least this often (seconds)
MAX_TICK = 1.0


@dataclass
class StreamState:
    """One stream's buffer and its delivery counters (since LocalStack started)."""

    config: DeliveryConfig
    buffer: StreamBuffer = field(default_factory=StreamBuffer)
    accepted_records: int = 0
    accepted_bytes: int = 0
    delivered_objects: int = 0
    delivered_records: int = 0
    delivered_bytes: int = 0
    error_output_objects: int = 0
    error_output_records: int = 0
    failed_attempts: int = 0
    in_flight_records: int = 0
    in_flight_bytes: int = 0
    last_error: str | None = None


class DeliveryEngine:
    """Buffers records per stream and delivers them as AWS Firehose does (see module doc)."""

    def __init__(
        self,
        write: Writer,
        *,
        retry_seconds: float,
        spill_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        workers: int = 2,
        exists: Callable[[StreamKey], bool] = lambda _stream: True,
    ) -> None:
        self._write = write
        self._exists = exists
        self.retry_seconds = retry_seconds
        self._spill_dir = spill_dir
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._streams: dict[StreamKey, StreamState] = {}
        self._retries: list[Delivery] = []
        self._futures: set[Future[bool]] = set()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="firehose-delivery")
        self._stopped = False
        self._timer = threading.Thread(target=self._run_timer, name="firehose-timer", daemon=True)
        self._timer.start()

    # ------------------------------------------------------------------ intake
    def put(self, stream: StreamKey, config: DeliveryConfig, records: list[bytes]) -> None:
        """Accept records for ``stream`` (the config is the stream's current one)."""
        now = self._clock()
        with self._lock:
            state = self._streams.get(stream)
            if state is None:
                state = self._streams[stream] = StreamState(config)
            state.config = config
            full = state.buffer.add(records, now, config.size_bytes)
            state.accepted_records += len(records)
            state.accepted_bytes += sum(map(len, records))
            jobs = [Delivery(stream, config, batch, owner=state) for batch in full]
            self._wake.notify()
        for job in jobs:
            self._submit(job)

    # ------------------------------------------------------------------ delivery
    def _submit(self, job: Delivery) -> Future[bool]:
        with self._lock:
            state: StreamState = job.owner
            state.in_flight_records += job.records
            state.in_flight_bytes += job.batch.nbytes
            future = self._pool.submit(self._attempt, job)
            self._futures.add(future)
        future.add_done_callback(self._forget_future)
        return future

    def _forget_future(self, future: Future[bool]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _attempt(self, job: Delivery) -> bool:
        """One attempt to write ``job``; on failure it is queued for a retry. True if written."""
        now = self._clock()
        if not job.to_error_output and job.give_up_main(now, self.retry_seconds):
            job.to_error_output = True
            LOG.warning(
                "firehose %s: giving up on s3://%s after %d attempts over %.0fs (%s); "
                "writing %d records to the error output prefix",
                job.config.stream,
                job.config.bucket,
                job.attempts,
                now - (job.first_failure or now),
                job.error_code,
                job.records,
            )
        try:
            key, body = dl.error_object(job, now) if job.to_error_output else dl.main_object(job)
            self._write(job.config, key, body)
        except Exception as exc:  # every failure is retried, never lost
            code, message = (
                (exc.code, exc.message)
                if isinstance(exc, DeliveryError)
                else ("InternalError", f"{type(exc).__name__}: {exc}")
            )
            self._failed(job, now, code, message)
            return False
        self._delivered(job, key)
        return True

    def _delivered(self, job: Delivery, key: str) -> None:
        with self._lock:
            state: StreamState = job.owner
            state.in_flight_records -= job.records
            state.in_flight_bytes -= job.batch.nbytes
            if job.to_error_output:
                state.error_output_objects += 1
                state.error_output_records += job.records
            else:
                state.delivered_objects += 1
                state.delivered_records += job.records
                state.delivered_bytes += job.batch.nbytes
        LOG.debug("firehose %s: %d records -> %s", job.config.stream, job.records, key)

    def _failed(self, job: Delivery, now: float, code: str, message: str) -> None:
        job.attempts += 1
        job.first_failure = job.first_failure if job.first_failure is not None else now
        job.error_code, job.error_message = code, message
        wait_s = dl.backoff(job.attempts)
        job.next_attempt = now + wait_s
        target = "error output" if job.to_error_output else "prefix"
        LOG.warning(
            "firehose %s: delivery of %d records (%d bytes) to s3://%s (%s) failed, attempt %d: "
            "%s: %s; retrying in %.0fs",
            job.config.stream,
            job.records,
            job.batch.nbytes,
            job.config.bucket,
            target,
            job.attempts,
            code,
            message,
            wait_s,
        )
        with self._lock:
            state: StreamState = job.owner
            state.in_flight_records -= job.records
            state.in_flight_bytes -= job.batch.nbytes
            state.failed_attempts += 1
            state.last_error = f"{code}: {message}"
            self._retries.append(job)
            self._wake.notify()

    # ------------------------------------------------------------------ timer
    def _run_timer(self) -> None:
        while True:
            with self._lock:
                if self._stopped:
                    return
                jobs, timeout = self._due_jobs(self._clock())
                if not jobs:
                    self._wake.wait(timeout)
                    continue
            for job in jobs:
                self._submit(job)

    def _due_jobs(self, now: float) -> tuple[list[Delivery], float]:
        """Batches whose interval ran out and retries whose backoff is over (lock held)."""
        jobs: list[Delivery] = []
        timeout = MAX_TICK
        for key, state in self._streams.items():
            interval = state.config.interval_seconds
            if state.buffer.due(now, interval):
                batch = state.buffer.take()
                if batch is not None:
                    jobs.append(Delivery(key, state.config, batch, owner=state))
            else:
                left = state.buffer.seconds_until_due(now, interval)
                if left is not None:
                    timeout = min(timeout, left)
        # a stream deleted while a put raced the delete: once its last records are out, drop it
        retrying = {job.stream for job in self._retries}
        for key in [
            k
            for k, s in self._streams.items()
            if not (s.buffer.records or s.in_flight_records or k in retrying or self._exists(k))
        ]:
            del self._streams[key]
        waiting: list[Delivery] = []
        for job in self._retries:
            if job.next_attempt <= now:
                jobs.append(job)
            else:
                waiting.append(job)
                timeout = min(timeout, job.next_attempt - now)
        self._retries = waiting
        return jobs, max(timeout, 0.01)

    # ------------------------------------------------------------------ flush / stats
    def flush(self, stream: StreamKey | None = None) -> dict[str, Any]:
        """Deliver every buffer (and retry every queued failure once) now, and wait for it.

        Returns a summary per stream: records flushed, delivered, still undelivered."""
        with self._lock:
            running = list(self._futures)
        wait(running)  # batches already on their way (a failure among them is retried below)
        with self._lock:
            jobs: list[Delivery] = []
            for key, state in self._streams.items():
                if stream is None or key == stream:
                    batch = state.buffer.take()
                    if batch is not None:
                        jobs.append(Delivery(key, state.config, batch, owner=state))
            retried = [j for j in self._retries if stream is None or j.stream == stream]
            self._retries = [j for j in self._retries if j not in retried]
        results = [(job, self._submit(job)) for job in jobs + retried]
        wait([future for _, future in results])
        flushed: dict[StreamKey, dict[str, int]] = {}
        for job, future in results:
            entry = flushed.setdefault(job.stream, {"records": 0, "delivered": 0, "failed": 0})
            entry["records"] += job.records
            entry["delivered" if future.result() else "failed"] += job.records
        stats = self.stats()
        for row in stats["streams"]:
            key = (row["account"], row["region"], row["stream"])
            row["flushed"] = flushed.get(key, {"records": 0, "delivered": 0, "failed": 0})
        stats["undelivered_records"] = sum(
            r["buffered_records"] + r["retrying_records"] + r["in_flight_records"]
            for r in stats["streams"]
        )
        return stats

    def stats(self) -> dict[str, Any]:
        """Per stream: what is buffered, retrying, delivered and failed (JSON-ready)."""
        now = self._clock()
        with self._lock:
            retrying: dict[StreamKey, list[Delivery]] = {}
            for job in self._retries:
                retrying.setdefault(job.stream, []).append(job)
            rows = []
            for key, s in sorted(self._streams.items()):
                jobs = retrying.get(key, [])
                oldest = s.buffer.oldest
                rows.append(
                    {
                        "account": key[0],
                        "region": key[1],
                        "stream": key[2],
                        "buffered_records": s.buffer.records,
                        "buffered_bytes": s.buffer.nbytes,
                        "oldest_buffered_age_seconds": None
                        if oldest is None
                        else round(now - oldest, 3),
                        "in_flight_records": s.in_flight_records,
                        "retrying_records": sum(j.records for j in jobs),
                        "retrying_bytes": sum(j.batch.nbytes for j in jobs),
                        "retrying_to_error_output_records": sum(
                            j.records for j in jobs if j.to_error_output
                        ),
                        "accepted_records": s.accepted_records,
                        "accepted_bytes": s.accepted_bytes,
                        "delivered_objects": s.delivered_objects,
                        "delivered_records": s.delivered_records,
                        "delivered_bytes": s.delivered_bytes,
                        "error_output_objects": s.error_output_objects,
                        "error_output_records": s.error_output_records,
                        "failed_attempts": s.failed_attempts,
                        "last_error": s.last_error,
                        "buffer_size_bytes": s.config.size_bytes,
                        "buffer_interval_seconds": s.config.interval_seconds,
                        "compression": s.config.compression,
                    }
                )
        return {"retry_seconds": self.retry_seconds, "streams": rows}

    # ------------------------------------------------------------------ shutdown
    def shutdown(self) -> dict[str, Any]:
        """Flush everything, stop the threads, keep what is still undeliverable on disk."""
        summary = self.flush()
        with self._lock:
            self._stopped = True
            self._wake.notify_all()
            leftovers, self._retries = self._retries, []
        self._timer.join(timeout=5)
        self._pool.shutdown(wait=True)
        for job in leftovers:
            self._spill(job)
        return summary

    def _spill(self, job: Delivery) -> None:
        """Last resort at shutdown: the records, as error records, in a local file."""
        if self._spill_dir is None:
            LOG.error(
                "firehose %s: %d records could not be delivered (%s) and there is no spill "
                "directory: they are lost",
                job.config.stream,
                job.records,
                job.error_code,
            )
            return
        self._spill_dir.mkdir(parents=True, exist_ok=True)
        path = self._spill_dir / f"{job.config.stream}-{job.object_id}.jsonl"
        path.write_bytes(b"".join(dl.error_records(job, self._clock())))
        LOG.error(
            "firehose %s: %d records could not be delivered to s3://%s (%s: %s); kept in %s",
            job.config.stream,
            job.records,
            job.config.bucket,
            job.error_code,
            job.error_message,
            path,
        )

    def forget_stream(self, stream: StreamKey) -> None:
        """A deleted stream: what it buffered is delivered now, its queued retries keep going.

        Taking the buffer and dropping the stream happen under one lock, so a put racing with
        the delete either lands in the batch delivered here or starts a new buffer that the
        timer delivers: nothing accepted is left behind."""
        with self._lock:
            state = self._streams.pop(stream, None)
            batch = state.buffer.take() if state is not None else None
            running = [f for f in self._futures]
        if state is not None and batch is not None:
            running.append(self._submit(Delivery(stream, state.config, batch, owner=state)))
        wait(running)  # size-cut batches already on their way land before the delete returns
