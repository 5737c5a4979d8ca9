"""Pack records into PutRecordBatch calls that Firehose accepts (pure, no I/O).

Firehose limits (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html):
at most 500 records and 4 MiB per call, at most 1,000 KiB per record (before base64). A batch
that breaks a limit is rejected as a whole, so the packer never builds one; a single record over
the per-record limit can never be sent and is *reported* (as a :class:`Rejected`), not dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 4 * 1024 * 1024  # 4 MiB
MAX_BYTES_PER_RECORD = 1_000 * 1024  # 1,000 KiB


@dataclass(frozen=True, slots=True)
class Limits:
    """Batch limits; the defaults are Firehose's (smaller ones are useful for tests and tuning)."""

    max_records: int = MAX_RECORDS_PER_CALL
    max_bytes: int = MAX_BYTES_PER_CALL
    max_record_bytes: int = MAX_BYTES_PER_RECORD

    def __post_init__(self) -> None:
        if not 1 <= self.max_records <= MAX_RECORDS_PER_CALL:
            raise ValueError(f"max_records must be within 1..{MAX_RECORDS_PER_CALL}")
        if not 1 <= self.max_record_bytes <= self.max_bytes <= MAX_BYTES_PER_CALL:
            raise ValueError("need 1 <= max_record_bytes <= max_bytes <= 4 MiB")


@dataclass(slots=True)
class Batch[T]:
    """Records for one call and their total payload size."""

    items: list[T] = field(default_factory=list)
    nbytes: int = 0


@dataclass(frozen=True, slots=True)
class Rejected[T]:
    """A record that can never be sent because it is larger than the per-record limit."""

    item: T
    nbytes: int


class Batcher[T: Sized]:
    """Incremental packer: feed records one by one, get full batches back.

    Incremental (rather than only a generator) so the caller can also flush on a timer, which
    matters when ``--rate`` makes a 500-record batch take long to fill.
    """

    def __init__(self, limits: Limits = Limits(), size: Callable[[T], int] = len) -> None:
        self.limits = limits
        self.size = size
        self._cur: Batch[T] = Batch()

    def __len__(self) -> int:
        return len(self._cur.items)

    def add(self, item: T) -> Batch[T] | Rejected[T] | None:
        """Add one record; returns a batch that became full, a rejection, or None.

        When the new record does not fit, the current batch is returned and the record starts
        the next one, so records keep their order.
        """
        n = self.size(item)
        lim = self.limits
        if n > lim.max_record_bytes:
            return Rejected(item, n)
        cur = self._cur
        if cur.items and (cur.nbytes + n > lim.max_bytes or len(cur.items) >= lim.max_records):
            self._cur = Batch([item], n)
            return cur
        cur.items.append(item)
        cur.nbytes += n
        if len(cur.items) >= lim.max_records:
            self._cur = Batch()
            return cur
        return None

    def flush(self) -> Batch[T] | None:
        """Return the partly filled batch (None when empty)."""
        cur = self._cur
        if not cur.items:
            return None
        self._cur = Batch()
        return cur


def pack[T: Sized](
    items: Iterable[T],
    limits: Limits = Limits(),
    size: Callable[[T], int] = len,
) -> Iterator[Batch[T] | Rejected[T]]:
    """Pack ``items`` in order into batches within ``limits``; oversized items come out as Rejected."""
    batcher: Batcher[T] = Batcher(limits, size)
    for item in items:
        out = batcher.add(item)
        if out is not None:
            yield out
    last = batcher.flush()
    if last is not None:
        yield last
