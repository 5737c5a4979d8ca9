"""Collect an execution environment's output and cut it into per-invocation log text.

The subprocess writes everything (function output, START/END/REPORT) to one pipe. Output that
arrives between invocations (the init phase) belongs to the next invocation, as on AWS where init
lines precede the first START in the log stream. The bootstrap ends each invocation with
DONE_MARKER, so once the marker is read, nothing of that invocation is still in the pipe.
"""

from __future__ import annotations

import collections
import threading
import time
from datetime import UTC, datetime

from clickstream_emulator.lambda_executor.bootstrap import DONE_MARKER


class LogCollector:
    """Thread-safe line sink fed by the pipe reader, drained by ``invoke``."""

    def __init__(self, tail_lines: int = 2000) -> None:
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._done = threading.Event()
        self._tail: collections.deque[str] = collections.deque(maxlen=tail_lines)

    def feed(self, line: str) -> None:
        """Add one line read from the pipe (with or without its newline)."""
        line = line.rstrip("\n")
        if line == DONE_MARKER:
            self._done.set()
            return
        with self._lock:
            self._pending.append(line)
            self._tail.append(line)

    def begin(self) -> None:
        """An invocation is about to be sent: its marker has not been seen yet."""
        self._done.clear()

    def mark_done(self) -> None:
        """No marker will come (the process died or was killed): stop waiting."""
        self._done.set()

    def take(self, wait_s: float) -> str:
        """Wait up to ``wait_s`` for the marker, then return and forget the collected text."""
        self._done.wait(wait_s)
        with self._lock:
            lines, self._pending = self._pending, []
        return "".join(f"{line}\n" for line in lines)

    def append(self, text: str) -> None:
        """Add lines produced by the executor itself (e.g. the timeout message)."""
        for line in text.splitlines():
            self.feed(line)

    def tail(self) -> str:
        with self._lock:
            return "\n".join(self._tail)


def timeout_lines(request_id: str, timeout_s: float, memory_mb: int, peak_mb: int = 0) -> str:
    """What AWS logs when it kills a function at its timeout."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    duration_ms = timeout_s * 1000
    return (
        f"{now} {request_id} Task timed out after {timeout_s:.2f} seconds\n"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {int(duration_ms)} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {peak_mb} MB\tStatus: timeout\n"
    )


def exit_lines(request_id: str, started: float, returncode: int, memory_mb: int) -> str:
    """What AWS logs when the runtime process exits during an invocation."""
    duration_ms = (time.perf_counter() - started) * 1000
    return (
        f"RequestId: {request_id} Error: Runtime exited with error: exit status {returncode}\n"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: 0 MB\tStatus: error\tError Type: Runtime.ExitError\n"
    )
