"""The Glue Data Catalog on the local stack: the Terraform-defined table and a real crawl.

* ``get-table`` answers the table Terraform declared from the event contract: the contract's
  columns with Glue types, year/month/day string partition keys, partition projection.
* A crawler with the Terraform crawler's settings (``infra/catalog/crawler.json``, the file
  ``aws_glue_crawler.events`` reads in ``catalog_mode = "crawler"``) crawls the demo data in its
  own database: it moves READY -> RUNNING/STOPPING -> READY, creates ``events`` with the same
  columns and partition keys as the Terraform table, and registers exactly the days in S3.
* A Parquet file with a conflicting column type in one day fails the crawl with
  ``HIVE_PARTITION_SCHEMA_MISMATCH`` and changes neither the table nor its partitions.
* A second ``terraform plan`` against the stack is empty (``make up`` twice is a no-op).
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clickstream_common import catalog

from .support import REPO, clean_pipeline, client, inventory, run_cli, wait_for, wait_reconciled

EVENTS = 1_500
START, END = "2024-12-23", "2024-12-26"  # three days; end is exclusive
CRAWLER_SETTINGS = json.loads((REPO / "infra" / "catalog" / "crawler.json").read_text())


@pytest.fixture(scope="module")
def glue(outputs: dict[str, Any]) -> Any:
    return client("glue")


def _columns(table: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]


def _keys(table: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k["Name"], k["Type"]) for k in table["PartitionKeys"]]


def _partitions(glue: Any, database: str, table: str) -> list[tuple[str, ...]]:
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
    return sorted(tuple(p["Values"]) for page in pages for p in page["Partitions"])


def test_get_table_returns_the_contract_columns_keys_and_projection(
    glue: Any, outputs: dict[str, Any]
) -> None:
    table = glue.get_table(DatabaseName=outputs["glue_database"], Name=outputs["table_name"])[
        "Table"
    ]
    defined = catalog.table_definition()
    assert _columns(table) == [(c["name"], c["type"]) for c in defined["columns"]]
    assert ("event_timestamp", "timestamp") in _columns(table)
    assert ("price", "double") in _columns(table) and ("quantity", "int") in _columns(table)
    assert _keys(table) == [("year", "string"), ("month", "string"), ("day", "string")]
    params = table["Parameters"]
    events_url = f"s3://{outputs['transformed_bucket']}/{outputs['events_prefix']}"
    assert params["projection.enabled"] == "true"
    assert {params[f"projection.{k}.type"] for k in ("year", "month", "day")} == {"integer"}
    assert params["projection.month.range"] == "01,12" and params["projection.day.digits"] == "2"
    assert params["storage.location.template"] == (
        events_url + "year=${year}/month=${month}/day=${day}/"
    )
    assert table["StorageDescriptor"]["Location"] == events_url
    assert table["TableType"] == "EXTERNAL_TABLE"


def test_a_second_apply_is_a_no_op() -> None:
    proc = subprocess.run(
        [str(REPO / "scripts" / "tf.sh"), "plan-local", "-detailed-exitcode", "-no-color"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    # -detailed-exitcode: 0 = no changes, 2 = changes, 1 = error
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "No changes" in proc.stdout


# ---------------------------------------------------------------------------- a real crawl
@pytest.fixture(scope="module")
def crawl_setup(glue: Any, s3: Any, outputs: dict[str, Any], run_id: str) -> dict[str, Any]:
    """Demo data through the real pipeline, then a crawler with the Terraform crawler's settings
    in a database of its own (the deployed `events` table stays Terraform's)."""
    clean_pipeline(s3, outputs)
    run_cli(
        [
            "clickstream-generate",
            *("--count", str(EVENTS), "--start", START, "--end", END, "--seed", "13"),
            "--quiet",
        ]
    )
    inv = wait_reconciled(s3, outputs, rows=EVENTS, quarantined=0, what="generated events")
    database = f"{outputs['glue_database']}_crawl_{run_id}"
    crawler = f"e2e-crawl-{run_id}"
    glue.create_database(DatabaseInput={"Name": database})
    policy = CRAWLER_SETTINGS["schema_change_policy"]
    glue.create_crawler(
        Name=crawler,
        Role="arn:aws:iam::000000000000:role/e2e-crawler",
        DatabaseName=database,
        Targets={
            "S3Targets": [
                {"Path": f"s3://{outputs['transformed_bucket']}/{outputs['events_prefix']}"}
            ]
        },
        SchemaChangePolicy={
            "UpdateBehavior": policy["update_behavior"],
            "DeleteBehavior": policy["delete_behavior"],
        },
        RecrawlPolicy={"RecrawlBehavior": CRAWLER_SETTINGS["recrawl_behavior"]},
        Configuration=json.dumps(CRAWLER_SETTINGS["configuration"]),
    )
    yield {"database": database, "crawler": crawler, "inventory": inv}
    glue.delete_crawler(Name=crawler)
    glue.delete_database(Name=database)


def run_crawler(glue: Any, name: str) -> tuple[list[str], dict[str, Any]]:
    """StartCrawler, then poll until READY; the states seen and the final crawler."""
    before = glue.get_crawler(Name=name)["Crawler"]
    assert before["State"] == "READY"
    glue.start_crawler(Name=name)
    seen = [glue.get_crawler(Name=name)["Crawler"]["State"]]

    def probe() -> dict[str, Any]:
        crawler = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] != seen[-1]:
            seen.append(crawler["State"])
        return crawler

    final = wait_for(probe, lambda c: c["State"] == "READY", timeout=120, what=f"crawler {name}")
    return seen, final


def test_crawl_creates_the_terraform_table_and_exactly_the_present_days(
    glue: Any, s3: Any, outputs: dict[str, Any], crawl_setup: dict[str, Any]
) -> None:
    database, name = crawl_setup["database"], crawl_setup["crawler"]
    seen, crawler = run_crawler(glue, name)
    assert seen[0] in ("RUNNING", "STOPPING", "READY") and seen[-1] == "READY", seen
    assert set(seen) <= {"RUNNING", "STOPPING", "READY"}, seen
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    assert crawler["LastCrawl"]["LogGroup"] == "/aws-glue/crawlers"

    crawled = glue.get_table(DatabaseName=database, Name=outputs["table_name"])["Table"]
    defined = glue.get_table(DatabaseName=outputs["glue_database"], Name=outputs["table_name"])[
        "Table"
    ]
    assert _columns(crawled) == _columns(defined)
    assert _keys(crawled) == _keys(defined)
    assert crawled["StorageDescriptor"]["Location"] == defined["StorageDescriptor"]["Location"]
    assert crawled["Parameters"]["classification"] == "parquet"
    assert int(crawled["Parameters"]["recordCount"]) == EVENTS

    days_in_s3 = sorted(tuple(day.split("-")) for day in crawl_setup["inventory"].rows_by_day)
    assert len(days_in_s3) == 3
    assert _partitions(glue, database, outputs["table_name"]) == days_in_s3
    partition = glue.get_partition(
        DatabaseName=database, TableName=outputs["table_name"], PartitionValues=list(days_in_s3[0])
    )["Partition"]
    y, m, d = days_in_s3[0]
    assert partition["StorageDescriptor"]["Location"].endswith(
        f"/{outputs['events_prefix']}year={y}/month={m}/day={d}/"
    )
    # InheritFromTable: every partition carries the table's schema
    assert _columns(partition) == _columns(crawled)

    metrics = glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
    assert metrics["TablesCreated"] == 1 and metrics["LastRuntimeSeconds"] > 0

    logs = client("logs")
    events = wait_for(
        lambda: logs.get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=name)[
            "events"
        ],
        bool,
        timeout=10,
        what="the crawl log",
    )
    assert any("Created table events" in e["message"] for e in events), events


def test_a_conflicting_file_in_one_day_is_reported_as_a_schema_mismatch(
    glue: Any, s3: Any, outputs: dict[str, Any], crawl_setup: dict[str, Any]
) -> None:
    database, name = crawl_setup["database"], crawl_setup["crawler"]
    if "LastCrawl" not in glue.get_crawler(Name=name)["Crawler"]:
        run_crawler(glue, name)  # this test alone: crawl the clean data first
    table_before = glue.get_table(DatabaseName=database, Name=outputs["table_name"])["Table"]
    partitions_before = _partitions(glue, database, outputs["table_name"])
    y, m, d = partitions_before[1]

    # the same columns, but price written as a string: what a broken producer would do
    bad = pa.table({"event_id": ["x1"], "event_type": ["purchase"], "price": ["12.50"]})
    sink = pa.BufferOutputStream()
    pq.write_table(bad, sink)
    key = f"{outputs['events_prefix']}year={y}/month={m}/day={d}/conflicting-{int(time.time())}.parquet"
    s3.put_object(Bucket=outputs["transformed_bucket"], Key=key, Body=sink.getvalue().to_pybytes())
    try:
        _, crawler = run_crawler(glue, name)
    finally:
        s3.delete_object(Bucket=outputs["transformed_bucket"], Key=key)

    last = crawler["LastCrawl"]
    assert last["Status"] == "FAILED", last
    assert "HIVE_PARTITION_SCHEMA_MISMATCH" in last["ErrorMessage"]
    assert f"year={y}/month={m}/day={d}" in last["ErrorMessage"]
    assert "'price'" in last["ErrorMessage"] and "'string'" in last["ErrorMessage"]
    # not merged: the table keeps price double, the partitions are the same days
    table_after = glue.get_table(DatabaseName=database, Name=outputs["table_name"])["Table"]
    assert _columns(table_after) == _columns(table_before)
    assert ("price", "double") in _columns(table_after)
    assert _partitions(glue, database, outputs["table_name"]) == partitions_before
    stream = client("logs").get_log_events(logGroupName="/aws-glue/crawlers", logStreamName=name)[
        "events"
    ]
    assert any("ERROR : HIVE_PARTITION_SCHEMA_MISMATCH" in e["message"] for e in stream)


def test_crawler_api_errors_match_aws(glue: Any, crawl_setup: dict[str, Any]) -> None:
    with pytest.raises(glue.exceptions.CrawlerNotRunningException):
        glue.stop_crawler(Name=crawl_setup["crawler"])
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.start_crawler(Name="no-such-crawler")


def test_the_pipeline_inventory_is_unchanged_by_crawling(
    s3: Any, outputs: dict[str, Any], crawl_setup: dict[str, Any]
) -> None:
    """Crawling only reads: the events are still exactly the generated rows."""
    assert inventory(s3, outputs).parquet_rows == EVENTS
