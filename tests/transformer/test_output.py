"""Parquet layout and schema, deterministic keys, idempotency and stale-output cleanup."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from clickstream_common.schema import arrow_schema
from transformer.keys import event_key, quarantine_key, safe_name, source_digest
from transformer.model import SourceRef
from transformer.partition import Day

from .helpers import SOURCE, make_event, ndjson

NOW_TS = datetime(2024, 12, 25, 10, tzinfo=UTC)

MULTI_DAY = [
    make_event(i, event_timestamp=f"2024-12-{24 + i % 3}T0{i % 10}:00:00Z") for i in range(30)
]


def test_parquet_schema_is_the_contract_and_partitions_are_strings_in_the_path(run):
    r = run(ndjson(MULTI_DAY))
    files = r.event_files()
    assert len(files) == 3
    for f in files:
        assert pq.read_schema(f).remove_metadata() == arrow_schema()
        meta = pq.ParquetFile(f).metadata
        names = meta.schema.names
        for i, name in enumerate(names):
            col = meta.row_group(0).column(i)
            assert col.compression == "ZSTD"
            has_min_max = col.statistics is not None and col.statistics.has_min_max
            if name in ("event_timestamp", "event_type", "price"):
                assert has_min_max, name  # what lets engines skip row groups
            if name in ("event_id", "session_id", "page_url"):
                assert not has_min_max, name  # never prunes: not worth computing
    days = sorted(f.parent.relative_to(r.root).as_posix() for f in files)
    assert days == [
        "events/year=2024/month=12/day=24",
        "events/year=2024/month=12/day=25",
        "events/year=2024/month=12/day=26",
    ]


def test_hive_partitions_read_back_as_zero_padded_strings(run):
    r = run(ndjson([make_event(1, event_timestamp="2024-01-05T10:00:00Z")]))
    import pyarrow as pa
    import pyarrow.dataset as ds

    # Glue declares partition columns as strings; the queries filter year = '2024'.
    part = ds.partitioning(
        pa.schema([(k, pa.string()) for k in ("year", "month", "day")]), flavor="hive"
    )
    table = ds.dataset(r.root / "events", format="parquet", partitioning=part).to_table()
    assert table.select(["year", "month", "day"]).to_pylist() == [
        {"year": "2024", "month": "01", "day": "05"}
    ]


def test_rows_match_input_values(run):
    e = make_event(7, search_query="red shoes", referrer=None)
    row = run(ndjson([e])).events().to_pylist()[0]
    for k in ("event_id", "event_type", "user_id", "session_id", "page_url", "city", "price"):
        assert row[k] == e[k]
    assert row["quantity"] == e["quantity"]
    assert row["referrer"] is None
    assert row["search_query"] == "red shoes"


def test_multi_day_object_counts(run):
    r = run(ndjson(MULTI_DAY))
    per_file = [pq.read_metadata(f).num_rows for f in r.event_files()]
    assert per_file == [10, 10, 10]
    assert r.stats.records_written == 30


def test_keys_are_deterministic_and_safe():
    src = SourceRef("b", "raw/2024/12/25/10/my file+name%.json")
    again = SourceRef("b", "raw/2024/12/25/10/my file+name%.json", etag="other", version_id="v2")
    day = Day("2024", "12", "25")
    assert event_key("events/", day, src) == event_key("events/", day, again)
    assert event_key("events/", day, src).startswith("events/year=2024/month=12/day=25/")
    assert safe_name(src.key) == "my_file_name_.json"
    assert source_digest(src) != source_digest(SourceRef("b2", src.key))
    assert quarantine_key("quarantine/", src).startswith("quarantine/2024/12/25/10/")
    assert quarantine_key("quarantine/", SourceRef("b", "x.json")) == (
        f"quarantine/{source_digest(SourceRef('b', 'x.json'))}-x.json.jsonl"
    )


def test_reprocessing_is_idempotent(run):
    data = ndjson([*MULTI_DAY, MULTI_DAY[0]]) + b"broken\n"
    first = run(data)
    snapshot = {p: (first.root / p).read_bytes() for p in first.files()}
    second = run(data)
    assert second.files() == sorted(snapshot)
    assert second.events().num_rows == 30
    for p, content in snapshot.items():
        if p.endswith((".jsonl", ".json")):
            assert (second.root / p).read_bytes() == content
    assert first.events().sort_by("event_id").equals(second.events().sort_by("event_id"))
    assert second.stats.deleted_keys == []


def test_different_sources_do_not_overwrite_each_other(run, tmp_path):
    root = tmp_path / "shared"
    run(ndjson(MULTI_DAY[:10]), source=SourceRef("raw", "raw/a"), root=root)
    r = run(ndjson(MULTI_DAY[10:]), source=SourceRef("raw", "raw/b"), root=root)
    assert r.events().num_rows == 30
    assert len(r.event_files()) == 6


def test_reprocess_with_fewer_partitions_deletes_stale_outputs(run):
    first = run(ndjson(MULTI_DAY) + b"bad\n")
    assert len(first.event_files()) == 3
    # Same source key, new content (e.g. a fixed producer re-uploaded it): only one day left,
    # no bad lines. The old day=24/26 files and the quarantine file must not linger.
    fixed = [e for e in MULTI_DAY if e["event_timestamp"].startswith("2024-12-25")]
    second = run(ndjson(fixed))
    assert [f.parent.name for f in second.event_files()] == ["day=25"]
    assert second.events().num_rows == 10
    assert second.quarantine() == []
    assert len(second.stats.deleted_keys) == 3
    manifest = json.loads(next((second.root / "manifests").glob("*.json")).read_text())
    assert manifest["keys"] == second.stats.output_keys
    assert manifest["source_key"] == SOURCE.key


def test_failed_run_publishes_nothing(run, tmp_path):
    from transformer.pipeline import process_object
    from transformer.sink import LocalSink

    class Exploding:
        def __init__(self, data):
            self.data, self.calls = data, 0

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 6:
                raise ConnectionError("S3 went away")
            out, self.data = self.data[:n], self.data[n:]
            return out

    data = ndjson([make_event(i) for i in range(3000)])
    root = tmp_path / "fail"
    import pytest

    from .helpers import config

    with pytest.raises(ConnectionError):
        process_object(
            Exploding(data),
            SOURCE,
            LocalSink(root),
            config(block_size=4096, row_group_rows=10, max_buffered_rows=20),
        )
    leftovers = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    assert leftovers == []


@pytest.mark.parametrize("shared_pool", [False, True])
def test_a_failed_background_row_group_write_surfaces_and_publishes_nothing(tmp_path, shared_pool):
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa

    from transformer.sink import LocalSink
    from transformer.writer import PartitionedParquetWriter

    from .helpers import config

    pool = ThreadPoolExecutor(2) if shared_pool else None
    writer = PartitionedParquetWriter(LocalSink(tmp_path), SOURCE, config(row_group_rows=2), pool)
    good = pa.Table.from_pylist(
        [{"event_id": "x", "event_timestamp": NOW_TS, "event_type": "page_view"}],
        schema=arrow_schema(),
    )
    writer.write(Day("2024", "12", "24"), good)  # another day: written at close, in parallel
    wrong = pa.table({"event_id": ["a", "b", "c"]})  # not the contract: Arrow refuses it
    writer.write(Day("2024", "12", "25"), wrong)  # flushed on the background thread
    with pytest.raises((ValueError, pa.ArrowInvalid)):
        writer.close()
    writer.abort()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    if pool is not None:
        assert pool.submit(lambda: 42).result() == 42  # a shared pool is not shut down
        pool.shutdown()
