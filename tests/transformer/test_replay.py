"""The replay CLI on local files, and the local entry point other components build datasets with."""

from __future__ import annotations

import gzip
from datetime import date

import pytest

from transformer.local import process_file
from transformer.replay import day_prefixes, main

from .helpers import make_event, ndjson


def test_process_file_writes_the_lambda_layout(tmp_path):
    src = tmp_path / "in.json"
    src.write_bytes(ndjson([make_event(i) for i in range(5)]) + b"bad\n")
    stats = process_file(src, tmp_path / "out")
    assert (stats.records_in, stats.records_written, stats.records_quarantined) == (6, 5, 1)
    assert len(list((tmp_path / "out/events/year=2024/month=12/day=25").glob("*.parquet"))) == 1
    assert len(list((tmp_path / "out/quarantine").rglob("*.jsonl"))) == 1


def test_replay_local_dir_is_idempotent_and_reports_reconciliation(tmp_path, capsys):
    raw = tmp_path / "raw" / "2024" / "12" / "25" / "10"
    raw.mkdir(parents=True)
    (raw / "a").write_bytes(ndjson([make_event(i) for i in range(10)]))
    (raw / "b.gz").write_bytes(
        gzip.compress(ndjson([make_event(i) for i in range(10, 15)]) + b"x\n")
    )
    out = tmp_path / "out"
    assert main(["--local-dir", str(tmp_path / "raw"), "--out", str(out)]) == 0
    first = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert main(["--local-dir", str(tmp_path / "raw"), "--out", str(out)]) == 0
    second = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert first == second
    text = capsys.readouterr().out
    assert "records in:          16" in text
    assert "records written:     15" in text
    assert "malformed_json: 1" in text
    assert "(OK)" in text


def test_replay_dry_run_writes_nothing(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a").write_bytes(ndjson([make_event(1)]))
    assert main(["--local-dir", str(tmp_path / "in"), "--dry-run"]) == 0
    assert "records written:     1" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a"]


def test_day_prefixes():
    assert day_prefixes("raw/", date(2024, 12, 30), date(2025, 1, 1)) == [
        "raw/2024/12/30/",
        "raw/2024/12/31/",
        "raw/2025/01/01/",
    ]
    with pytest.raises(ValueError):
        day_prefixes("raw/", date(2025, 1, 2), date(2025, 1, 1))
