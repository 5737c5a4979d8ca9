"""The compactor's memory stays bounded on a day larger than its memory: it streams and spills.

Each day is compacted in a fresh process (its ``VmHWM`` is that run's peak) with DuckDB's
buffer pool capped at 128 MB: a day three times larger costs little more memory, the peak is
a constant plus the pool. (The Lambda's memory is not enforced locally: this measurement is the
proof, not the executor.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = r"""
import json, resource, sys
from pathlib import Path
import pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
from compactor.config import CompactorConfig
from compactor.engine import SCHEMA, DayInputs, compact_files

root, files, rows = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
deltas, arrow_bytes = [], 0
for k in range(files):
    n = rows
    base = pa.array(range(k * n, (k + 1) * n), pa.int64())
    ids = pc.binary_join_element_wise("0000000-event-", pc.cast(base, pa.string()), "")
    if k:  # every file repeats 1% of the previous file's ids: duplicates across objects
        ids = pa.concat_arrays([ids.slice(0, n - n // 100), pc.binary_join_element_wise(
            "0000000-event-", pc.cast(pa.array(range((k - 1) * n, (k - 1) * n + n // 100), pa.int64()), pa.string()), "")])
    ts = pc.cast(pc.multiply(pc.cast(pc.bit_wise_and(pc.multiply(base, 7919), 0xFFFFFF), pa.int64()), 5000), pa.timestamp("us", tz="UTC"))
    text = lambda p: pc.binary_join_element_wise(p, pc.cast(pc.bit_wise_and(pc.multiply(base, 31), 0xFFFF), pa.string()), "")
    cols = {f.name: pa.nulls(n, f.type) for f in SCHEMA}
    cols.update(event_id=ids, event_type=pa.array(["page_view"] * n), event_timestamp=ts,
                user_id=text("user-"), session_id=text("session-"), page_url=text("/product/p-"),
                referrer=text("https://search.example/?q="), city=text("city-"))
    table = pa.table(cols, schema=SCHEMA)
    arrow_bytes += table.nbytes
    path = root / f"d{k}.parquet"
    pq.write_table(table, path, compression="zstd")
    deltas.append((path, f"S{k:03d}"))
(root / "day.json").write_text(json.dumps({"arrow_mb": arrow_bytes / 2**20, "deltas": [[str(p), s] for p, s in deltas]}))
"""

COMPACT = r"""
import json, sys
from pathlib import Path
from compactor.config import CompactorConfig
from compactor.engine import DayInputs, compact_files

root = Path(sys.argv[1])
day = json.loads((root / "day.json").read_text())
arrow_bytes = day["arrow_mb"] * 2**20
deltas = [(Path(p), s) for p, s in day["deltas"]]
def hwm_mb():  # this process's own peak (ru_maxrss keeps the forking parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
before = hwm_mb()
out = compact_files(DayInputs(deltas=deltas, ranks={s: i for i, (_, s) in enumerate(deltas)}),
                    root / "out", CompactorConfig(memory_limit_mb=128, threads=2))
print(json.dumps({"arrow_mb": arrow_bytes / 2**20, "peak_mb": hwm_mb(),
                  "before_mb": before, "rows_in": out.rows_in, "rows_out": out.rows_out,
                  "spilled": any((root / "out" / "duckdb").rglob("*"))}))
"""


def _compact(tmp: Path, files: int, rows: int) -> dict[str, float]:
    """Write the day's files in one process, compact them in a fresh one (its peak is the
    compaction's alone)."""
    tmp.mkdir()
    for script, args in ((RUN, [str(files), str(rows)]), (COMPACT, [])):
        proc = subprocess.run(
            [sys.executable, "-c", script, str(tmp), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_memory_stays_bounded_on_a_day_larger_than_memory(tmp_path: Path) -> None:
    small = _compact(tmp_path / "small", 8, 50_000)
    large = _compact(tmp_path / "large", 24, 50_000)
    print(f"small day: {small}\nlarge day: {large}")
    assert large["rows_out"] == 24 * 50_000 - 23 * 500  # 1% of each later file repeated
    assert large["rows_in"] == 24 * 50_000
    # Three times the rows (the small day does not even fill DuckDB's pool): the peak grows by
    # less than the pool, far less than the day. Memory is a constant plus the capped pool,
    # whatever the day's size; `make bench` (bench_compaction) compacts a day several times
    # larger than its peak.
    assert large["peak_mb"] - small["peak_mb"] < 128, (small, large)
    assert large["peak_mb"] - small["peak_mb"] < 0.5 * (large["arrow_mb"] - small["arrow_mb"])
