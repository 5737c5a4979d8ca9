"""``catalog_mode = "crawler"`` applied to the local stack: the Terraform crawler builds `events`.

The deployed stack runs in projection mode. This module applies the crawler mode with the real
Terraform (the table goes, the crawler with its role and security configuration comes), runs the
Terraform-defined crawler over the demo data, and checks that the table it creates equals the one
Terraform defined from the contract, with exactly the days present in S3. A second plan in crawler
mode is empty (the crawler's own table is not Terraform's to fight over). The projection mode is
re-applied at the end, whatever happened; the crawled table is dropped first, since Terraform's
CreateTable would collide with it (switching modes on AWS needs the same step).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from clickstream_common import outputs as tf_outputs

from .support import REPO, clean_pipeline, client, run_cli, wait_for, wait_reconciled

pytestmark = pytest.mark.slow

EVENTS = 1_000
START, END = "2024-12-24", "2024-12-26"  # two days; end is exclusive
TF = str(REPO / "scripts" / "tf.sh")


def terraform(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TF, *args, "-no-color"], capture_output=True, text=True, timeout=900, cwd=REPO
    )


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"


def _columns(table: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]


def _keys(table: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k["Name"], k["Type"]) for k in table["PartitionKeys"]]


@pytest.fixture(scope="module")
def crawler_mode(s3: Any, outputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Demo data, the Terraform-defined table as deployed, then crawler mode applied."""
    glue = client("glue")
    clean_pipeline(s3, outputs)
    run_cli(
        [
            "clickstream-generate",
            *("--count", str(EVENTS), "--start", START, "--end", END, "--seed", "7"),
            "--quiet",
        ]
    )
    inv = wait_reconciled(s3, outputs, rows=EVENTS, quarantined=0, what="generated events")
    database, table = outputs["glue_database"], outputs["table_name"]
    defined = glue.get_table(DatabaseName=database, Name=table)["Table"]
    applied = terraform("apply-local", "-var", "catalog_mode=crawler")
    try:
        assert applied.returncode == 0, explain(applied)
        yield {
            "glue": glue,
            "database": database,
            "table": table,
            "defined": defined,
            "inventory": inv,
            "outputs": tf_outputs.load_outputs(),
        }
    finally:
        with contextlib.suppress(glue.exceptions.EntityNotFoundException):
            glue.delete_table(DatabaseName=database, Name=table)
        restored = terraform("apply-local")
        assert restored.returncode == 0, explain(restored)


def test_crawler_mode_replaces_the_table_with_the_terraform_crawler(
    crawler_mode: dict[str, Any],
) -> None:
    glue, out = crawler_mode["glue"], crawler_mode["outputs"]
    assert out["catalog_mode"] == "crawler" and out["crawler_name"]
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName=crawler_mode["database"], Name=crawler_mode["table"])
    crawler = glue.get_crawler(Name=out["crawler_name"])["Crawler"]
    assert crawler["State"] == "READY" and crawler["DatabaseName"] == crawler_mode["database"]
    assert crawler["Targets"]["S3Targets"][0]["Path"] == (
        f"s3://{out['transformed_bucket']}/{out['events_prefix']}"
    )


def test_the_terraform_crawler_creates_the_table_terraform_would_define(
    crawler_mode: dict[str, Any],
) -> None:
    glue, out = crawler_mode["glue"], crawler_mode["outputs"]
    name = out["crawler_name"]
    glue.start_crawler(Name=name)
    final = wait_for(
        lambda: glue.get_crawler(Name=name)["Crawler"],
        lambda c: c["State"] == "READY" and "LastCrawl" in c,
        timeout=120,
        what=f"crawler {name}",
    )
    assert final["LastCrawl"]["Status"] == "SUCCEEDED", final["LastCrawl"]

    crawled = glue.get_table(DatabaseName=crawler_mode["database"], Name=crawler_mode["table"])[
        "Table"
    ]
    defined = crawler_mode["defined"]
    assert _columns(crawled) == _columns(defined)
    assert _keys(crawled) == _keys(defined)
    assert crawled["StorageDescriptor"]["Location"] == defined["StorageDescriptor"]["Location"]
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=crawler_mode["database"], TableName=crawler_mode["table"]
    )
    registered = sorted(tuple(p["Values"]) for page in pages for p in page["Partitions"])
    present = sorted(tuple(day.split("-")) for day in crawler_mode["inventory"].rows_by_day)
    assert registered == present and len(present) == 2


def test_a_second_plan_in_crawler_mode_is_empty(crawler_mode: dict[str, Any]) -> None:
    proc = terraform("plan-local", "-var", "catalog_mode=crawler", "-detailed-exitcode")
    assert proc.returncode == 0, explain(proc)
