"""Ad-hoc SQL end to end: `clickstream-query --sql` and `make shell` on the deployed pipeline's
Parquet (the transformed bucket in LocalStack, read through the same view as the query files)."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.parse
from typing import Any

import pytest

from generator.pipeline import GenConfig, generate_records

from .support import (
    ENDPOINT,
    REPO,
    VENV_BIN,
    arrival_prefix,
    clean_pipeline,
    run_cli,
    wait_reconciled,
)

START_MS = 1_734_912_000_000  # 2024-12-23T00:00:00Z
ROWS = 300


@pytest.fixture(scope="module")
def loaded(s3: Any, outputs: dict[str, Any]) -> dict[str, Any]:
    clean_pipeline(s3, outputs)
    cfg = GenConfig(seed=7, start_ms=START_MS, end_ms=START_MS + 2 * 86_400_000, count=ROWS)
    body = b"".join(r.data for r in generate_records(cfg))
    s3.put_object(
        Bucket=outputs["raw_bucket"], Key=f"{arrival_prefix(outputs)}adhoc-sql", Body=body
    )
    wait_reconciled(s3, outputs, rows=ROWS, quarantined=0, what="the ad-hoc SQL fixture")
    return outputs


def test_sql_prints_one_row(loaded: dict[str, Any]) -> None:
    proc = run_cli(["clickstream-query", "--sql", "SELECT count(*) AS n FROM events"])
    rows = [line for line in proc.stdout.splitlines() if re.match(r"^\|\s+\d+ \|$", line)]
    assert len(rows) == 1, proc.stdout
    assert re.match(rf"^\|\s+{ROWS} \|$", rows[0])
    assert "Athena estimate: scans" in proc.stdout


def test_a_bad_query_prints_one_line_and_fails(loaded: dict[str, Any]) -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "clickstream-query"), "--sql", "SELECT no_such_column FROM events"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "no_such_column" in proc.stderr, proc.stderr


def test_make_shell_opens_with_the_view_defined(loaded: dict[str, Any]) -> None:
    env = dict(os.environ, LOCALSTACK_PORT=str(urllib.parse.urlparse(ENDPOINT).port or 4566))
    proc = subprocess.run(
        ["make", "shell"],
        input=".schema\nSELECT count(*) AS n FROM events;\n",
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "clickstream_pipeline_local_db.events over s3://" in proc.stderr
    assert "event_timestamp" in proc.stdout
    assert re.search(rf"^\|\s+{ROWS} \|$", proc.stdout, re.MULTILINE), proc.stdout
