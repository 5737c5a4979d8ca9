"""Deliver one batch, re-sending ONLY the entries that failed (pure algorithm, no AWS).

PutRecordBatch is not all-or-nothing: a 200 response can still report ``FailedPutCount > 0``
with an ``ErrorCode`` on some entries. Re-sending the whole batch would duplicate the entries
that did succeed, so only the failed ones go into the next attempt, after an exponential
backoff with full jitter, up to ``max_attempts`` calls. The algorithm takes the ``put``
operation as a callable so it is tested deterministically with a callable that fails chosen
entries; :mod:`generator.sink` plugs in the real Firehose call.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: Sends payloads; returns one error code per payload (None = accepted), in order.
PutFn = Callable[[Sequence[bytes]], Sequence[str | None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: ``max_attempts`` calls per batch, backoff base/cap in seconds."""

    max_attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Full-jitter backoff before retry number ``retry`` (1-based): U(0, min(cap, base*2^(r-1)))."""
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (retry - 1)))


@dataclass(slots=True)
class DeliveryResult:
    """Outcome of one batch: indices that failed for good (with their last error), effort spent."""

    failed: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    retried: int = 0  # entries re-sent, summed over retries


def deliver(
    payloads: Sequence[bytes],
    put: PutFn,
    policy: RetryPolicy = RetryPolicy(),
    *,
    retryable: Callable[[Exception], bool] = lambda exc: False,
    error_code: Callable[[Exception], str] = lambda exc: type(exc).__name__,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> DeliveryResult:
    """Send ``payloads`` with ``put``; retry failed entries until they succeed or attempts run out.

    An exception from ``put`` that ``retryable`` accepts (throttling, 5xx, connection reset)
    counts as "every pending entry failed" for that attempt; any other exception propagates,
    because retrying a missing stream or bad credentials cannot succeed.
    """
    rng = rng or random.Random()
    pending = list(range(len(payloads)))
    last_error: dict[int, str] = {}
    result = DeliveryResult()
    while pending:
        result.attempts += 1
        try:
            codes = put([payloads[i] for i in pending])
            if len(codes) != len(pending):
                raise RuntimeError(f"put returned {len(codes)} results for {len(pending)} records")
        except Exception as exc:
            if not retryable(exc):
                raise
            codes = [error_code(exc)] * len(pending)
        still = []
        for i, code in zip(pending, codes, strict=True):
            if code is not None:
                still.append(i)
                last_error[i] = code
        if not still:
            break
        if result.attempts >= policy.max_attempts:
            result.failed = still
            result.errors = Counter(last_error[i] for i in still)
            break
        result.retried += len(still)
        sleep(policy.delay(result.attempts, rng))
        pending = still
    return result
