"""The compactor's engine on local files: dedup by earliest arrival, conflicts, event-time order,
the transformer's schema and Parquet settings, target file sizes, sources published again."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from compactor.config import CompactorConfig
from compactor.engine import SCHEMA, DayInputs, DayOutputs, compact_files
from transformer.writer import STATISTICS_COLUMNS

T0 = datetime(2024, 12, 25, tzinfo=UTC)
CONFIG = CompactorConfig(memory_limit_mb=128, threads=2)


def events(ids: list[str], *, second: int = 0, page: str = "/home") -> pa.Table:
    n = len(ids)
    values = {f.name: [None] * n for f in SCHEMA}
    values.update(
        event_id=ids,
        event_type=["page_view"] * n,
        event_timestamp=[T0 + timedelta(seconds=second + i) for i in range(n)],
        user_id=["u1"] * n,
        session_id=["s1"] * n,
        page_url=[page] * n,
        price=[1.5] * n,
        quantity=[1] * n,
    )
    return pa.table(values, schema=SCHEMA)


def delta(tmp_path: Path, name: str, table: pa.Table) -> Path:
    path = tmp_path / f"{name}.parquet"
    pq.write_table(table, path)
    return path


def run(
    tmp_path: Path, name: str, inputs: DayInputs, config: CompactorConfig = CONFIG
) -> DayOutputs:
    return compact_files(inputs, tmp_path / name, config)


def kept(out: DayOutputs) -> pa.Table:
    return pa.concat_tables(pq.read_table(p.path) for p in out.parts)


def test_each_event_once_earliest_arrival_kept_conflicts_counted(tmp_path: Path) -> None:
    a = delta(tmp_path, "a", events(["e1", "e2", "e3"], second=30))
    b = delta(tmp_path, "b", events(["e3", "e4"], second=32))  # e3 again, same content
    c = delta(tmp_path, "c", events(["e4", "e5"], second=0, page="/other"))  # e4 differs
    out = run(
        tmp_path,
        "out",
        DayInputs(deltas=[(a, "A"), (b, "B"), (c, "C")], ranks={"A": 0, "B": 1, "C": 2}),
    )
    table = kept(out)
    assert sorted(table.column("event_id").to_pylist()) == ["e1", "e2", "e3", "e4", "e5"]
    assert (out.rows_in, out.rows_out, out.duplicate_rows, out.conflicts) == (7, 5, 2, 1)
    assert out.per_source == {"A": (3, 3), "B": (2, 1), "C": (2, 1)}
    times = table.column("event_timestamp").to_pylist()
    assert times == sorted(times)
    e4 = table.filter(pa.compute.equal(table.column("event_id"), "e4")).to_pylist()[0]
    assert e4["page_url"] == "/home", "B arrived before C: B's e4 is kept"
    assert out.conflict_sample == [{"event_id": "e4", "source": "C", "kept_source": "B"}]
    dups = pq.read_table(out.duplicates).to_pylist()
    assert [(d["event_id"], d["source"], d["kept_source"], d["conflict"]) for d in dups] == [
        ("e3", "B", "A", False),
        ("e4", "C", "B", True),
    ]
    assert pq.read_table(out.provenance).num_rows == table.num_rows


def test_output_has_the_transformers_schema_and_parquet_settings(tmp_path: Path) -> None:
    a = delta(tmp_path, "a", events([f"id{i}" for i in range(100)]))
    out = run(tmp_path, "out", DayInputs(deltas=[(a, "A")], ranks={"A": 0}))
    f = pq.ParquetFile(out.parts[0].path)
    assert f.schema_arrow.equals(SCHEMA, check_metadata=False)
    assert [f.schema_arrow.field(n).nullable for n in ("event_id", "price")] == [False, True]
    meta = f.metadata.row_group(0)
    stats = {
        meta.column(i).path_in_schema
        for i in range(meta.num_columns)
        if meta.column(i).is_stats_set
    }
    assert stats == set(STATISTICS_COLUMNS)
    assert meta.column(0).compression == "ZSTD"


def test_a_source_published_again_replaces_its_rows_and_freed_duplicates_return(
    tmp_path: Path,
) -> None:
    a = delta(tmp_path, "a", events(["e1", "e2"], second=10))
    b = delta(tmp_path, "b", events(["e2", "e3"], second=11, page="/b"))
    first = run(tmp_path, "one", DayInputs(deltas=[(a, "A"), (b, "B")], ranks={"A": 0, "B": 1}))
    assert first.duplicate_rows == 1 and first.conflicts == 1
    # A is published again without e2 (now quarantined, say): B's e2 must come back.
    a2 = delta(tmp_path, "a2", events(["e1"], second=10))
    second = run(
        tmp_path,
        "two",
        DayInputs(
            compacted=[p.path for p in first.parts],
            provenance=first.provenance,
            duplicates=first.duplicates,
            deltas=[(a2, "A")],
            ranks={"A": 0, "B": 1},
            replaced=frozenset({"A"}),
        ),
    )
    table = kept(second)
    rows = {r["event_id"]: r["page_url"] for r in table.to_pylist()}
    assert rows == {"e1": "/home", "e2": "/b", "e3": "/b"}
    assert second.per_source == {"A": (1, 1), "B": (2, 2)}
    assert second.duplicates is None and second.duplicate_rows == 0
    # An empty delta retires a source's rows entirely.
    empty = delta(tmp_path, "empty", SCHEMA.empty_table())
    third = run(
        tmp_path,
        "three",
        DayInputs(
            compacted=[p.path for p in second.parts],
            provenance=second.provenance,
            deltas=[(empty, "B")],
            ranks={"A": 0, "B": 1},
            replaced=frozenset({"B"}),
        ),
    )
    assert kept(third).column("event_id").to_pylist() == ["e1"]
    assert pq.read_table(third.provenance).column("source").to_pylist() == ["A"]


def test_files_of_the_target_size(tmp_path: Path) -> None:
    deltas = [
        (
            delta(tmp_path, f"d{k}", events([f"k{k}-{i:05d}" for i in range(4000)], second=k)),
            f"S{k}",
        )
        for k in range(20)
    ]
    config = CompactorConfig(
        memory_limit_mb=128, threads=2, target_file_bytes=30_000, row_group_rows=4096
    )
    out = run(
        tmp_path,
        "out",
        DayInputs(deltas=deltas, ranks={s: i for i, (_, s) in enumerate(deltas)}),
        config,
    )
    sizes = [p.bytes for p in out.parts]
    assert len(sizes) > 1
    assert len(sizes) <= math.ceil(sum(sizes) / config.target_file_bytes)
    assert all(size >= config.target_file_bytes for size in sizes[:-1])
    assert sum(p.rows for p in out.parts) == 80_000
    times = kept(out).column("event_timestamp").to_pylist()
    assert times == sorted(times), "sorted across files, not just within each"


def test_inconsistent_provenance_is_refused(tmp_path: Path) -> None:
    a = delta(tmp_path, "a", events(["e1", "e2"]))
    prov = tmp_path / "prov.parquet"
    pq.write_table(pa.table({"source": ["A"]}), prov)
    with pytest.raises(RuntimeError, match="provenance has 1 rows for 2"):
        run(tmp_path, "out", DayInputs(compacted=[a], provenance=prov))


def test_a_day_sorted_slice_by_slice_is_the_day_sorted_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large days are sorted one event-time slice at a time (each inside DuckDB's pool): the
    result is the same rows in the same global order."""
    import compactor.engine as engine

    deltas = [
        (
            delta(tmp_path, f"d{k}", events([f"k{k}-{i:05d}" for i in range(3000)], second=7 * k)),
            f"S{k}",
        )
        for k in range(10)
    ]
    inputs = DayInputs(deltas=deltas, ranks={s: i for i, (_, s) in enumerate(deltas)})
    whole = kept(run(tmp_path, "whole", inputs))
    monkeypatch.setattr(engine, "ROWS_PER_POOL_MIB", 30)  # 30,000 rows / (30 * 128) -> 8 slices
    sliced = kept(run(tmp_path, "sliced", inputs))
    assert sliced.equals(whole)
    assert sliced.num_rows == 30_000
