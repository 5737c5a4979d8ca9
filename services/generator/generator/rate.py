"""Pacing for ``--rate`` (events per second) and the ``--duration`` stop condition.

The clock and sleep are injectable so the pacing arithmetic is tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """Hold the average rate at ``rate`` events/s by sleeping when ahead of schedule.

    Event k (0-based) is due at ``start + k / rate``. Sleeping only when more than
    ``min_sleep`` ahead avoids thousands of sub-millisecond sleeps at high rates while keeping
    the long-run average exact (the schedule, not the last sleep, decides).
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        min_sleep: float = 0.005,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._min_sleep = min_sleep
        self._start: float | None = None
        self._count = 0

    def acquire(self) -> None:
        """Block until the next event is due."""
        now = self._clock()
        if self._start is None:
            self._start = now
        due = self._start + self._count / self.rate
        self._count += 1
        ahead = due - now
        if ahead > self._min_sleep:
            self._sleep(ahead)


class Deadline:
    """``--duration``: true once ``seconds`` have passed since construction (None = never)."""

    def __init__(
        self, seconds: float | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._end = None if seconds is None else clock() + seconds

    def expired(self) -> bool:
        return self._end is not None and self._clock() >= self._end
