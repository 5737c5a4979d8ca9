"""The transformer benchmark's own machinery: its stage profile times the real code path, and
its DuckDB baseline writes the transformer's partition layout. Small inputs, real engines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from bench.bench_transformer import REPO_ROOT, STAGE_HOOKS, duckdb_copy_sql, generate_sdk


def _sdk_events(tmp_path: Path) -> Path:
    path = tmp_path / "sdk.ndjson"
    generate_sdk(path, 1)  # ~1 MB of the generator's own events
    return path


def test_stage_profile_times_every_stage_of_the_real_pipeline(tmp_path: Path) -> None:
    # Run as the bench runs it (its own process: the hooks patch the transformer's modules).
    path = _sdk_events(tmp_path)
    cmd = [sys.executable, "-m", "bench.bench_transformer", "--child", "stages"]
    proc = subprocess.run(
        [*cmd, str(path), str(tmp_path / "out")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout.splitlines()[-1])
    stages = result["stages"]
    # A renamed or bypassed function would leave its stage at zero: the profile would lie.
    unused = {"blocks (cut at newlines)", "Parquet close (footers)"}  # ~0 by design, still hooked
    for stage in STAGE_HOOKS:
        assert stage in stages
        if stage not in unused:
            assert stages[stage] > 0, f"stage {stage!r} was never timed"
    timed = sum(v for k, v in stages.items() if k in STAGE_HOOKS)
    assert 0 < timed <= result["core_cpu_seconds"]
    assert result["duckdb_copy_cpu_seconds"] > 0


def test_duckdb_baseline_writes_the_transformers_layout(tmp_path: Path) -> None:
    path = _sdk_events(tmp_path)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    row = con.execute(duckdb_copy_sql(path, tmp_path / "out")).fetchone()
    lines = path.read_bytes().count(b"\n")
    assert row is not None and row[0] == lines  # every event, none dropped
    days = sorted(
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").glob("*/*/*")
    )
    assert days == ["year=2024/month=12/day=24", "year=2024/month=12/day=25"]
