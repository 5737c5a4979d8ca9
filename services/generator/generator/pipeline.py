"""One generator run: records -> batches -> sink, with pacing, progress and ground truth.

Kept separate from the CLI so tests and the benchmark drive exactly the code path users run.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from generator.aggregate import Aggregator, Envelope
from generator.batching import Batch, Batcher, Limits, Rejected
from generator.corrupt import Corruptor
from generator.events import Record, iso_ms, iter_records
from generator.manifest import ManifestBuilder
from generator.model import build_world
from generator.progress import Progress
from generator.rate import Deadline, RateLimiter
from generator.sessions import iter_sessions
from generator.sink import Completed, Sink, SinkStats

#: Reason recorded for a record larger than Firehose's per-record limit.
ERROR_RECORD_TOO_LARGE = "RecordTooLarge"


@dataclass(frozen=True, slots=True)
class GenConfig:
    """What to generate. ``start_ms``/``end_ms`` bound event time: [start, end)."""

    seed: int
    start_ms: int
    end_ms: int
    count: int | None = 100
    bad_ratio: float = 0.0
    users: int | None = None  # None: scale with count

    def n_users(self) -> int:
        if self.users is not None:
            return self.users
        return 10_000 if self.count is None else max(10, min(self.count // 20, 200_000))


def generate_records(cfg: GenConfig) -> Iterator[Record]:
    """The deterministic record stream for ``cfg`` (endless when ``cfg.count`` is None).

    Two independent random streams: one for the world and the sessions, one deciding which
    records are corrupted, so changing ``bad_ratio`` does not reshuffle the good traffic.
    """
    rng = random.Random(cfg.seed)
    world = build_world(rng, n_users=cfg.n_users())
    corruptor = Corruptor(cfg.bad_ratio, random.Random(f"{cfg.seed}:corrupt"))
    records = iter_records(iter_sessions(world, rng, cfg.start_ms, cfg.end_ms), rng, corruptor)
    return records if cfg.count is None else itertools.islice(records, cfg.count)


@dataclass
class RunResult:
    """What happened; ``unsent`` is records generated but never handed over (fatal error)."""

    generated: int = 0
    rejected: int = 0
    elapsed: float = 0.0
    stats: SinkStats = field(default_factory=SinkStats)
    manifest: ManifestBuilder = field(default_factory=ManifestBuilder)
    error: str | None = None
    interrupted: bool = False

    @property
    def unsent(self) -> int:
        return self.generated - self.stats.sent - self.stats.failed - self.rejected

    @property
    def ok(self) -> bool:
        return not (self.stats.failed or self.rejected or self.unsent or self.error)

    @property
    def events_per_second(self) -> float:
        return self.stats.sent / self.elapsed if self.elapsed > 0 else 0.0

    def delivery(self) -> dict[str, Any]:
        """Delivery counts for the manifest."""
        return {
            "generated": self.generated,
            "sent": self.stats.sent,
            "failed": self.stats.failed,
            "firehose_records_sent": self.stats.records_sent,
            "firehose_records_failed": self.stats.records_failed,
            "rejected_too_large": self.rejected,
            "unsent": self.unsent,
            "retried": self.stats.retried,
            "calls": self.stats.calls,
            "errors": dict(self.stats.errors),
            "error": self.error,
            "interrupted": self.interrupted,
        }


def run(
    records: Iterator[Record],
    sink: Sink,
    *,
    limits: Limits = Limits(),  # noqa: B008 - frozen, immutable default
    events_per_record: int = 1,
    rate: float | None = None,
    duration: float | None = None,
    progress: Progress | None = None,
    flush_interval: float = 1.0,
) -> RunResult:
    """Pack ``records`` into batches, deliver them through ``sink``, account for every record.

    ``events_per_record`` > 1 puts several events in one Firehose record (see aggregate.py).
    With ``rate`` set, a partly filled batch is also sent once it is ``flush_interval`` seconds
    old, so a slow trickle still reaches Firehose promptly.
    """
    res = RunResult()
    aggregator = Aggregator(events_per_record, limits.max_record_bytes)
    batcher: Batcher[Envelope] = Batcher(limits, size=len)
    limiter = RateLimiter(rate) if rate else None
    deadline = Deadline(duration)
    timed = duration is not None
    oldest: float | None = None

    def completed(done: list[Completed]) -> None:
        add = res.manifest.add
        for c in done:
            failed = set(c.result.failed)
            for i, env in enumerate(c.batch.items):
                if i not in failed:
                    for rec in env.records:
                        add(rec)
            if progress:
                progress.update(sum(len(env.records) for env in c.batch.items))

    def handle(out: Batch[Envelope] | Rejected[Envelope]) -> None:
        if isinstance(out, Rejected):
            res.rejected += len(out.item.records)
        else:
            completed(sink.submit(out))

    def push(env: Envelope | None) -> bool:
        """Hand an envelope to the batcher; True when a batch went out."""
        if env is not None:
            out = batcher.add(env)
            if out is not None:
                handle(out)
                return True
        return False

    def flush_all() -> None:
        push(aggregator.flush())
        last = batcher.flush()
        if last is not None:
            handle(last)

    t0 = time.perf_counter()
    try:
        for rec in records:
            if timed and deadline.expired():
                break
            if limiter:
                limiter.acquire()
            res.generated += 1
            if push(aggregator.add(rec)):
                oldest = None
            elif limiter:
                now = time.monotonic()
                if oldest is None:
                    oldest = now
                elif now - oldest >= flush_interval:
                    flush_all()
                    oldest = None
        flush_all()
        completed(sink.close())
    except KeyboardInterrupt:
        res.interrupted = True
        completed(sink.abort())
    except Exception as exc:  # report, account for what was not sent, let the CLI exit non-zero
        from generator.sink import error_code

        res.error = f"{error_code(exc)}: {exc}"
        completed(sink.abort())
    res.elapsed = time.perf_counter() - t0
    res.stats = sink.stats
    if res.rejected:  # the sink never saw these
        res.stats.errors[ERROR_RECORD_TOO_LARGE] += res.rejected
    if progress:
        progress.close()
    return res


def describe_window(cfg: GenConfig) -> dict[str, Any]:
    """Generator parameters for the manifest (enough to reproduce the run)."""
    return {
        "seed": cfg.seed,
        "start": iso_ms(cfg.start_ms),
        "end": iso_ms(cfg.end_ms),
        "count": cfg.count,
        "bad_ratio": cfg.bad_ratio,
        "users": cfg.n_users(),
    }
