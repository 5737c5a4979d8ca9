"""Put several newline-terminated events into one Firehose record (pure, no I/O).

Firehose writes records to S3 byte for byte, one after another, so N events in one record land
in S3 exactly as N one-event records would: the transformer cannot tell the difference. Fewer,
larger records are what make the generator fast (the per-record cost of PutRecordBatch dominates
on LocalStack) and cheap on AWS (ingestion is billed per record rounded up to 5 KB, so a 1 KB
event alone in a record is billed as 5 KB). ``events_per_record=1`` gives the classic one event
per record. Events are never split across records.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from generator.batching import MAX_BYTES_PER_RECORD
from generator.events import Record


@dataclass(slots=True)
class Envelope:
    """One Firehose record: the concatenated bytes of ``records`` (each newline-terminated)."""

    data: bytes
    records: list[Record] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.data)


class Aggregator:
    """Group events into envelopes of at most ``events_per_record`` events and ``max_bytes``.

    An event larger than ``max_bytes`` on its own still gets its own envelope; the batcher then
    reports it as too large instead of it vanishing here.
    """

    def __init__(self, events_per_record: int = 1, max_bytes: int = MAX_BYTES_PER_RECORD) -> None:
        if events_per_record < 1:
            raise ValueError("events_per_record must be >= 1")
        self.events_per_record = events_per_record
        self.max_bytes = max_bytes
        self._records: list[Record] = []
        self._nbytes = 0

    def add(self, record: Record) -> Envelope | None:
        """Add one event; returns a finished envelope or None."""
        if self.events_per_record == 1:
            return Envelope(record.data, [record])
        n = len(record.data)
        if self._records and self._nbytes + n > self.max_bytes:
            out = self.flush()
            self._records.append(record)
            self._nbytes = n
            return out
        self._records.append(record)
        self._nbytes += n
        if len(self._records) >= self.events_per_record:
            return self.flush()
        return None

    def flush(self) -> Envelope | None:
        """The partly filled envelope (None when empty)."""
        if not self._records:
            return None
        recs, self._records, self._nbytes = self._records, [], 0
        return Envelope(b"".join(r.data for r in recs), recs)


def aggregate(
    records: Iterable[Record], events_per_record: int = 1, max_bytes: int = MAX_BYTES_PER_RECORD
) -> Iterator[Envelope]:
    """All records, in order, grouped into envelopes."""
    agg = Aggregator(events_per_record, max_bytes)
    for rec in records:
        env = agg.add(rec)
        if env is not None:
            yield env
    last = agg.flush()
    if last is not None:
        yield last
