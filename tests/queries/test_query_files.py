"""The query files: one per seed query, seed text kept, valid Terraform templates."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from athena_local import sql

SEED_README = Path(__file__).with_name("fixtures") / "seed_queries.md"
SEED_TABLE = "clickstream_pipeline_dev_db.<table_name>"

#: Seed README heading -> our file name.
SEED_QUERIES = {
    "Count events by type": "count_by_event_type",
    "Top pages by views": "top_pages",
    "Events per country": "events_per_country",
    "User sessions (filter by partition)": "user_sessions",
    "Device breakdown": "device_breakdown",
}


def seed_queries() -> dict[str, str]:
    """``{our name: seed SQL}`` parsed from the seed README's sample query blocks."""
    if not SEED_README.exists():
        pytest.fail(
            f"seed queries not found at {SEED_README} (the original design's sample queries)"
        )
    text = SEED_README.read_text()
    found = {}
    for heading, body in re.findall(r"\*\*(.+?):\*\*\s*```sql\n(.*?)```", text, re.S):
        found[SEED_QUERIES[heading]] = body.strip()
    return found


def test_one_file_per_seed_query() -> None:
    assert [q.name for q in sql.list_queries()] == sorted(SEED_QUERIES.values())


@pytest.mark.parametrize("name", sorted(SEED_QUERIES.values()))
def test_file_keeps_the_seed_text_with_only_the_table_filled_in(name: str) -> None:
    seed = seed_queries()[name]
    query = sql.load_query(name)
    assert query.body == seed.replace(SEED_TABLE, "${database}.events")
    assert query.description, "each file starts with a comment saying what it answers"


@pytest.mark.parametrize("name", sorted(SEED_QUERIES.values()))
def test_file_is_a_terraform_template_with_only_the_database_placeholder(name: str) -> None:
    query = sql.load_query(name)
    assert sql.template_problems(query.template) == []
    rendered = query.render("clickstream_pipeline_local_db")
    assert "FROM clickstream_pipeline_local_db.events" in rendered
    assert "${" not in rendered and "%{" not in rendered


@pytest.mark.parametrize(
    "bad",
    [
        "SELECT 1 FROM ${database}.events WHERE x = '${other}'",
        "SELECT 1 FROM ${database}.events %{ if true }x%{ endif }",
        "SELECT 1 FROM clickstream_pipeline_dev_db.events",
    ],
)
def test_template_check_rejects_what_terraform_would_misread(bad: str) -> None:
    assert sql.template_problems(bad)
    with pytest.raises(sql.QueryFileError):
        sql.render(bad, "db")


def test_render_refuses_a_database_name_that_is_not_an_identifier() -> None:
    with pytest.raises(sql.QueryFileError):
        sql.render("SELECT 1 FROM ${database}.events", "db; DROP TABLE x")


def test_unknown_query_lists_the_known_ones() -> None:
    with pytest.raises(sql.QueryFileError, match="top_pages"):
        sql.load_query("top_page")


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not on PATH")
def test_terraform_templatefile_renders_the_same_sql(tmp_path: Path) -> None:
    """What Terraform deploys as the named query is byte-for-byte what the local runner runs."""
    qdir = sql.queries_dir()
    expr = (
        f'jsonencode({{for f in fileset("{qdir}", "*.sql") : '
        f'f => templatefile("{qdir}/${{f}}", {{database = "clickstream_pipeline_local_db"}})}})'
    )
    proc = subprocess.run(
        ["terraform", "console"],
        input=expr,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    rendered_by_terraform = json.loads(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert rendered_by_terraform == {
        f"{q.name}.sql": q.render("clickstream_pipeline_local_db") for q in sql.list_queries()
    }
