"""A tiny progress bar for terminals (no dependency: one line, redrawn at most 10 times/s).

It only draws when the stream is a TTY, so CI logs and pipes stay quiet.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    """Counts delivered records and redraws ``[####....] n/total  pct  rate`` on stderr."""

    def __init__(
        self,
        total: int | None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.done = 0
        self._interval = interval
        self._t0 = time.monotonic()
        self._last_draw = 0.0

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw >= self._interval:
            self._last_draw = now
            self._draw(now)

    def render(self, now: float) -> str:
        """The bar text (separate from drawing so it is testable)."""
        elapsed = max(now - self._t0, 1e-9)
        rate = self.done / elapsed
        if self.total:
            frac = min(self.done / self.total, 1.0)
            filled = int(frac * WIDTH)
            bar = "#" * filled + "." * (WIDTH - filled)
            return f"[{bar}] {self.done:,}/{self.total:,} {frac:4.0%} {rate:,.0f} ev/s"
        return f"{self.done:,} events {rate:,.0f} ev/s {elapsed:.1f}s"

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.render(now) + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
