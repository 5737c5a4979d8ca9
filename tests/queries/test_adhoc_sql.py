"""Ad-hoc SQL (`clickstream-query --sql`, `make shell`) on real Parquet through the real runner."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from athena_local import adhoc, cli, shell
from athena_local.catalog import parse_source
from athena_local.dialect import DialectError
from athena_local.runner import Runner

from .conftest import event

DB = "clickstream_pipeline_local_db"


@pytest.fixture
def events_dir(parquet_dir) -> Path:
    rows = [
        event(f"2024-12-{day}T10:{n:02d}:00Z", event_id=f"{day}-{n}", country="US")
        for day in ("24", "25")
        for n in range(5)
    ]
    return parquet_dir(rows)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "text",
    [
        "SELECT count(*) AS n FROM events",
        f"SELECT count(*) AS n FROM {DB}.events;",
        "SELECT count(*) AS n FROM ${database}.events",
    ],
)
def test_the_table_may_be_named_bare_qualified_or_templated(text: str) -> None:
    template = adhoc.to_template(text, DB)
    assert "${database}.events" in template.replace('"', "")
    assert "${database}" in template


def test_a_table_in_another_schema_is_left_alone() -> None:
    with pytest.raises(DialectError, match="reads no events table"):
        adhoc.to_template("SELECT count(*) FROM other_db.events", DB)


def test_sql_prints_one_row_with_the_cost(events_dir: Path, capsys) -> None:
    code, out, _ = run_cli(
        capsys, "--sql", "SELECT count(*) AS n FROM events", "--source", str(events_dir)
    )
    assert code == 0
    assert re.search(r"\|\s+n \|", out) and re.search(r"\|\s+10 \|", out)
    assert "Athena estimate: scans" in out


def test_sql_from_a_file_and_from_stdin(events_dir: Path, tmp_path: Path, capsys, monkeypatch):
    path = tmp_path / "q.sql"
    path.write_text(
        "-- my question\nSELECT day, count(*) AS n FROM events GROUP BY day ORDER BY day;\n"
    )
    code, out, _ = run_cli(
        capsys, "--sql", str(path), "--source", str(events_dir), "--format", "csv"
    )
    assert code == 0
    assert out.splitlines() == ["day,n", "24,5", "25,5"]

    monkeypatch.setattr("sys.stdin", io.StringIO("SELECT max(day) AS d FROM events"))
    code, out, _ = run_cli(capsys, "--sql", "-", "--source", str(events_dir), "--format", "csv")
    assert code == 0
    assert out.splitlines() == ["d", "25"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELEC count(*) FROM events", "not valid"),
        ("SELECT nope FROM events", "nope"),
        ("SELECT count(*) FROM events WHERE year = 2024", "compares varchar with a number"),
        ("SELECT 1 FROM events; SELECT 2 FROM events", "exactly one statement"),
        ("SELECT CAST(page_url AS INTEGER) FROM events", "Conversion Error"),
        ("missing.sql", "no such SQL file"),
    ],
)
def test_a_bad_query_is_one_line_and_a_non_zero_exit(events_dir, capsys, text, message) -> None:
    code, out, err = run_cli(capsys, "--sql", text, "--source", str(events_dir))
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("clickstream-query: error: ")
    assert message in err
    assert "Traceback" not in err


def test_shell_opens_with_the_view_and_runs_piped_statements(events_dir: Path) -> None:
    stdin = io.StringIO(
        ".schema\nSELECT count(*)\n  AS n FROM events;\nSELECT nope FROM events;\n"
        f"SELECT count(DISTINCT day) AS days FROM {DB}.events;\n.quit\nSELECT 1;\n"
    )
    out = io.StringIO()
    with Runner.open(parse_source(str(events_dir))) as runner:
        code = shell.run(runner, stdin=stdin, stdout=out, interactive=False)
    text = out.getvalue()
    assert "event_timestamp" in text and "year" in text  # .schema of the view
    assert re.search(r"\|\s+10 \|", text)
    assert "error: " in text and "nope" in text  # the bad statement: one line, then go on
    assert re.search(r"\|\s+2 \|", text)
    assert code == 1  # piped: a failed statement makes the exit status non-zero
