"""The CLI and the HTML report, on a real local Parquet directory."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest

from athena_local import cli, format, report

from .conftest import event

DB = "clickstream_pipeline_local_db"


@pytest.fixture
def events_dir(parquet_dir) -> Path:
    rows = [
        event(
            f"2024-12-{day}T10:{n:02d}:00Z",
            event_type=etype,
            page_url=f"/p{n % 3}",
            country="US" if n % 2 else None,
            device_type="mobile",
            browser="Safari",
            event_id=f"{day}-{etype}-{n}",
        )
        for day in ("24", "25")
        for etype, count in (("page_view", 6), ("search", 2))
        for n in range(count)
    ]
    return parquet_dir(rows, files_per_day=2)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_table_output_shows_rows_and_the_cost_beside_them(events_dir, capsys) -> None:
    code, out, _ = run_cli(capsys, "count_by_event_type", "--source", str(events_dir))
    assert code == 0
    assert re.search(r"\| page_view\s+\|\s+12 \|", out)
    assert re.search(r"\| search\s+\|\s+4 \|", out)
    assert "Athena estimate: scans" in out and "billed 10.0 MB" in out


def test_csv_and_json_outputs_are_machine_readable(events_dir, capsys) -> None:
    code, out, err = run_cli(
        capsys, "events_per_country", "--source", str(events_dir), "--format", "csv"
    )
    assert code == 0
    assert sorted(csv.reader(io.StringIO(out))) == sorted(
        [["country", "events"], ["US", "8"], ["", "8"]]
    )
    assert "Athena estimate" in err  # cost goes to stderr, keeping stdout clean CSV
    code, out, _ = run_cli(capsys, "--all", "--source", str(events_dir), "--format", "json")
    data = json.loads(out)
    assert sorted(data) == [
        "count_by_event_type",
        "device_breakdown",
        "events_per_country",
        "top_pages",
        "user_sessions",
    ]
    assert data["user_sessions"] == [{"user_id": "u1", "session_id": "s1", "actions": 8}]


def test_explain_shows_translated_sql_and_files_read(events_dir, capsys) -> None:
    code, out, _ = run_cli(capsys, "user_sessions", "--source", str(events_dir), "--explain")
    assert code == 0
    assert f"FROM {DB}.events AS events" in out
    assert "-- files read: 2/4" in out
    code, out, _ = run_cli(capsys, "user_sessions", "--source", f"arrow:{events_dir}", "--explain")
    assert "-- files read: 2/4" in out and "day=25" in out


def test_errors_are_one_line_and_exit_1(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "top_pages", "--source", str(tmp_path))
    assert code == 1 and "no Parquet files" in err
    code, _, err = run_cli(capsys, "no_such_query", "--source", str(tmp_path))
    assert code == 1
    assert run_cli(capsys)[0] == 2


def test_report_is_a_self_contained_page_with_one_chart_per_query(
    events_dir, tmp_path, capsys
) -> None:
    target = tmp_path / "report" / "index.html"
    code, _, err = run_cli(capsys, "--all", "--source", str(events_dir), "--report", str(target))
    assert code == 0, err
    page = target.read_text()
    assert page.count("<svg") == 5
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in page
    assert page.count("Athena estimate") == 5


def test_chart_uses_labels_and_the_count_column() -> None:
    table = pa.table(
        {"device_type": ["mobile", None], "browser": ["Safari", "Chrome"], "cnt": [5, 2]}
    )
    labels, values = report.chart_series(table)
    assert labels == ["mobile / Safari", "NULL / Chrome"] and values == [5.0, 2.0]
    svg = report.bar_chart_svg(labels, values, "#000")
    widths = [float(w) for w in re.findall(r'<rect[^>]*width="([\d.]+)"', svg)]
    assert widths[0] > widths[1] and widths[0] == pytest.approx(widths[1] * 2.5)


def test_text_table_alignment() -> None:
    table = pa.table({"name": ["a", None], "n": [1, 100]})
    text = format.to_text_table(table)
    assert "| a    |   1 |" in text and "| NULL | 100 |" in text and text.endswith("(2 rows)")
