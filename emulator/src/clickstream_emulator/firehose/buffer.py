"""One stream's buffer: records in, batches out when AWS's buffering hints say so.

A batch is cut when adding a record would take the buffer past ``SizeInMBs`` (measured on the
uncompressed bytes, as AWS does) — so no object holds more than the size, and a record never
waits for a timer once the size is reached — or when the oldest record has waited
``IntervalInSeconds``. Not thread-safe on its own: the engine holds its lock around every call.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Batch:
    """Records that become one S3 object, with each record's approximate arrival time (epoch s)."""

    records: list[bytes] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    nbytes: int = 0

    @property
    def oldest(self) -> float:
        return self.arrivals[0]

    def __len__(self) -> int:
        return len(self.records)


class StreamBuffer:
    """Accumulates records; hands out full batches (size) and due batches (interval)."""

    def __init__(self) -> None:
        self._current = Batch()

    @property
    def records(self) -> int:
        return len(self._current)

    @property
    def nbytes(self) -> int:
        return self._current.nbytes

    @property
    def oldest(self) -> float | None:
        return self._current.oldest if self._current.records else None

    def add(self, records: list[bytes], now: float, size_bytes: int) -> list[Batch]:
        """Append ``records``; returns the batches that reached ``size_bytes`` on the way."""
        full: list[Batch] = []
        current = self._current
        for record in records:
            if current.records and current.nbytes + len(record) > size_bytes:
                full.append(current)
                current = Batch()
            current.records.append(record)
            current.arrivals.append(now)
            current.nbytes += len(record)
        if current.records and current.nbytes >= size_bytes:
            full.append(current)
            current = Batch()
        self._current = current
        return full

    def due(self, now: float, interval_seconds: float) -> bool:
        """The oldest record has waited the interval (0 = deliver at the next tick)."""
        oldest = self.oldest
        return oldest is not None and now - oldest >= interval_seconds

    def seconds_until_due(self, now: float, interval_seconds: float) -> float | None:
        oldest = self.oldest
        return None if oldest is None else max(0.0, oldest + interval_seconds - now)

    def take(self) -> Batch | None:
        """Everything buffered, as one batch (None when empty)."""
        if not self._current.records:
            return None
        batch, self._current = self._current, Batch()
        return batch
