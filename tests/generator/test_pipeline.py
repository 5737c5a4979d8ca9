"""The run loop: every record is accounted for (sent, failed, rejected or unsent)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace

from generator.batching import MAX_BYTES_PER_RECORD
from generator.events import Record
from generator.pipeline import GenConfig, generate_records, run
from generator.sink import FileSink

CFG = GenConfig(seed=2, start_ms=1_735_000_000_000, end_ms=1_735_100_000_000, count=1000)


def test_an_event_over_the_record_limit_is_reported_not_dropped_silently() -> None:
    good = list(generate_records(CFG))
    huge = Record(b'{"x":"' + b"y" * MAX_BYTES_PER_RECORD + b'"}\n', None, "too_large", "test")
    buf = io.BytesIO()
    res = run(iter([*good[:10], huge, *good[10:]]), FileSink(buf), events_per_record=1)
    assert res.rejected == 1 and not res.ok
    assert res.stats.errors["RecordTooLarge"] == 1
    assert res.stats.sent == 1000 and res.unsent == 0
    assert buf.getvalue() == b"".join(r.data for r in good)  # everything else, in order


def test_interrupt_stops_cleanly_and_counts_what_was_generated() -> None:
    def interrupted() -> Iterator[Record]:
        yield from generate_records(replace(CFG, count=700))
        raise KeyboardInterrupt

    buf = io.BytesIO()
    res = run(interrupted(), FileSink(buf), events_per_record=1)
    assert res.interrupted and res.generated == 700
    assert res.stats.sent == 500 and res.unsent == 200  # the partial batch never went out


def test_rate_limited_runs_flush_partial_batches_on_a_timer() -> None:
    writes: list[int] = []

    class CountingSink(FileSink):
        def submit(self, batch):  # type: ignore[no-untyped-def]
            writes.append(sum(len(e.records) for e in batch.items))
            return super().submit(batch)

    res = run(
        generate_records(replace(CFG, count=60)),
        CountingSink(io.BytesIO()),
        rate=200.0,
        flush_interval=0.05,
    )
    assert res.ok and sum(writes) == 60
    assert len(writes) > 3  # trickled out in small batches instead of one batch at the end


def test_unlimited_count_with_duration_stops() -> None:
    gen = generate_records(replace(CFG, count=None))
    res = run(gen, FileSink(io.BytesIO()), duration=0.2, events_per_record=10)
    assert res.ok and res.generated > 0 and res.stats.sent == res.generated
