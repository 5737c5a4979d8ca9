"""The Athena API locally: the named queries run through boto3 as on AWS, executed by DuckDB.

The workgroup and the five named queries are the Terraform's (``enable_catalog = true`` in
envs/local.tfvars); the table is the Glue ``events`` table. Each named query goes through
``start_query_execution`` with the work group -> poll ``get_query_execution`` -> paginated
``get_query_results``, and its rows must equal the generator's manifest, compared the way the SQL
defines its answer (tie-aware ``ORDER BY``/``LIMIT``). Failures must read as Athena's.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from athena_local.compare import mismatches, order_spec
from clickstream_common.catalog import PARQUET_SERDE, glue_table_input
from clickstream_common.schema import TABLE_NAME

from .support import REPO, VENV_BIN, clean_pipeline, client, run_cli, wait_reconciled
from .test_happy_path import SESSIONS_DAY, truth

pytestmark = pytest.mark.e2e

EVENTS = 6_000
START, END = "2024-12-24", "2024-12-27"
SEED = 1414
#: Athena's smallest allowed BytesScannedCutoffPerQuery.
MIN_CUTOFF = 10 * 1024 * 1024
FINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


@pytest.fixture(scope="module")
def athena(outputs: dict[str, Any]) -> Any:
    return client("athena")


@pytest.fixture(scope="module")
def glue(outputs: dict[str, Any]) -> Any:
    return client("glue")


def events_table_input(location: str) -> dict[str, Any]:
    """The ``events`` table with partition projection, as infra/glue.tf declares it."""
    return glue_table_input(location)


@pytest.fixture(scope="module")
def events_table(glue: Any, outputs: dict[str, Any]) -> str:
    """The Glue ``events`` table that Terraform declares (infra/glue.tf); its database."""
    database = str(outputs["glue_database"])
    table = glue.get_table(DatabaseName=database, Name=TABLE_NAME)["Table"]
    assert table["Parameters"].get("projection.enabled") == "true", table["Parameters"]
    return database


@pytest.fixture(scope="module")
def delivered(
    s3: Any, outputs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """Events through the real Firehose -> Lambda -> Parquet, all reconciled."""
    clean_pipeline(s3, outputs)
    manifest_path = tmp_path_factory.mktemp("athena") / "manifest.json"
    run_cli(
        [
            "clickstream-generate",
            *("--count", str(EVENTS), "--start", START, "--end", END, "--seed", str(SEED)),
            *("--batch-size", "40", "--manifest", str(manifest_path), "--quiet"),
        ]
    )
    manifest = json.loads(manifest_path.read_text())
    assert manifest["good"] == EVENTS and SESSIONS_DAY in manifest["sessions_by_day"]
    wait_reconciled(s3, outputs, rows=EVENTS, quarantined=0, what="generated events")
    return manifest


def start(athena: Any, sql: str, workgroup: str, database: str) -> str:
    return athena.start_query_execution(
        QueryString=sql,
        QueryExecutionContext={"Database": database},
        WorkGroup=workgroup,
    )["QueryExecutionId"]


def wait(athena: Any, query_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if execution["Status"]["State"] in FINAL or time.monotonic() > deadline:
            return execution
        time.sleep(0.1)


def results(athena: Any, query_id: str, page_size: int) -> list[dict[str, Any]]:
    """Every row through the paginator, typed by ResultSetMetadata (header row dropped)."""
    pages = athena.get_paginator("get_query_results").paginate(
        QueryExecutionId=query_id, PaginationConfig={"PageSize": page_size}
    )
    rows, columns = [], None
    for page in pages:
        columns = columns or page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
    assert columns is not None
    names = [c["Name"] for c in columns]
    assert rows[0] == names, "the first row is the header, as on Athena"
    integer = {c["Name"] for c in columns if c["Type"] in ("bigint", "integer")}
    return [
        {n: int(v) if n in integer and v is not None else v for n, v in zip(names, r, strict=True)}
        for r in rows[1:]
    ]


def test_the_five_named_queries_are_listed(athena: Any, outputs: dict[str, Any]) -> None:
    workgroup = outputs["athena_workgroup"]
    ids = athena.list_named_queries(WorkGroup=workgroup)["NamedQueryIds"]
    names = {athena.get_named_query(NamedQueryId=i)["NamedQuery"]["Name"] for i in ids}
    assert names == set(truth_names())


def truth_names() -> list[str]:
    return [
        "count_by_event_type",
        "top_pages",
        "events_per_country",
        "user_sessions",
        "device_breakdown",
    ]


@pytest.mark.parametrize("name", truth_names())
def test_named_query_through_the_api_equals_the_manifest(
    name: str,
    athena: Any,
    s3: Any,
    outputs: dict[str, Any],
    events_table: str,
    delivered: dict[str, Any],
) -> None:
    workgroup = outputs["athena_workgroup"]
    named = {
        q["Name"]: q
        for q in athena.batch_get_named_query(
            NamedQueryIds=athena.list_named_queries(WorkGroup=workgroup)["NamedQueryIds"]
        )["NamedQueries"]
    }[name]
    query_id = start(athena, named["QueryString"], workgroup, named["Database"])
    execution = wait(athena, query_id)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    # small pages: the paginator must follow NextToken across several of them
    actual = results(athena, query_id, page_size=7)
    expected = truth(delivered)[name]
    assert actual, f"{name} returned no rows: the comparison would prove nothing"
    assert mismatches(actual, expected, order_spec(named["QueryString"])) == [], actual[:20]
    output = execution["ResultConfiguration"]["OutputLocation"]
    assert output == f"s3://{outputs['athena_results_bucket']}/results/{query_id}.csv"
    bucket, key = output.removeprefix("s3://").split("/", 1)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert body.splitlines()[0] == ",".join(f'"{c}"' for c in actual[0])
    assert len(body.splitlines()) == len(actual) + 1
    s3.head_object(Bucket=bucket, Key=key + ".metadata")
    stats = execution["Statistics"]
    assert stats["DataScannedInBytes"] > 0
    assert stats["TotalExecutionTimeInMillis"] >= stats["EngineExecutionTimeInMillis"] >= 0


def failed(athena: Any, sql: str, workgroup: str, database: str) -> dict[str, Any]:
    execution = wait(athena, start(athena, sql, workgroup, database))
    return execution["Status"]


def test_bad_sql_fails_naming_line_and_column(
    athena: Any, outputs: dict[str, Any], events_table: str
) -> None:
    status = failed(
        athena,
        "SELECT event_type\nFROM events WHERE GROUP BY 1",
        outputs["athena_workgroup"],
        events_table,
    )
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith("SYNTAX_ERROR: line 2:"), status
    with pytest.raises(athena.exceptions.InvalidRequestException, match="FAILED"):
        athena.get_query_results(QueryExecutionId=wait_id(athena, outputs, events_table))


def wait_id(athena: Any, outputs: dict[str, Any], database: str) -> str:
    query_id = start(athena, "SELEC 1", outputs["athena_workgroup"], database)
    wait(athena, query_id)
    return query_id


def test_unknown_table_and_column_fail_as_athena_says(
    athena: Any, outputs: dict[str, Any], events_table: str
) -> None:
    status = failed(athena, "SELECT * FROM nope", outputs["athena_workgroup"], events_table)
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"] == (
        f"TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.{events_table}.nope' does not exist"
    )
    status = failed(athena, "SELECT colour FROM events", outputs["athena_workgroup"], events_table)
    assert status["StateChangeReason"].startswith("COLUMN_NOT_FOUND: line 1:8: Column 'colour'")


@pytest.fixture
def big_table(glue: Any, s3: Any, outputs: dict[str, Any], events_table: str) -> Iterator[str]:
    """A table of ~12 MB of incompressible strings: over Athena's smallest cutoff (10 MB)."""
    name = f"e2e_big_{uuid.uuid4().hex[:8]}"
    bucket, prefix = outputs["transformed_bucket"], f"e2e-athena/{name}/"
    values = [os.urandom(32).hex() for _ in range(200_000)]
    buffer = io.BytesIO()
    pq.write_table(pa.table({"blob": values}), buffer, compression="snappy")
    assert buffer.tell() > MIN_CUTOFF
    s3.put_object(Bucket=bucket, Key=prefix + "part-0.parquet", Body=buffer.getvalue())
    glue.create_table(
        DatabaseName=events_table,
        TableInput={
            "Name": name,
            "StorageDescriptor": {
                "Location": f"s3://{bucket}/{prefix}",
                "Columns": [{"Name": "blob", "Type": "string"}],
                "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE},
            },
        },
    )
    yield name
    glue.delete_table(DatabaseName=events_table, Name=name)
    s3.delete_object(Bucket=bucket, Key=prefix + "part-0.parquet")


@pytest.fixture
def small_cutoff_workgroup(athena: Any, outputs: dict[str, Any]) -> Iterator[str]:
    name = f"e2e-cutoff-{uuid.uuid4().hex[:8]}"
    athena.create_work_group(
        Name=name,
        Configuration={
            "EnforceWorkGroupConfiguration": True,
            "BytesScannedCutoffPerQuery": MIN_CUTOFF,
            "ResultConfiguration": {
                "OutputLocation": f"s3://{outputs['athena_results_bucket']}/e2e/",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
            },
        },
    )
    yield name
    athena.delete_work_group(WorkGroup=name, RecursiveDeleteOption=True)


def test_a_query_over_the_cutoff_is_stopped_as_athena_words_it(
    athena: Any, big_table: str, small_cutoff_workgroup: str, events_table: str
) -> None:
    status = failed(
        athena, f"SELECT max(blob) FROM {big_table}", small_cutoff_workgroup, events_table
    )
    # Athena engine 3 cancels the query when the scan passes the workgroup's limit
    assert status["State"] == "CANCELLED", status
    assert status["StateChangeReason"] == "Bytes scanned limit was exceeded"
    ok = failed(athena, f"SELECT count(*) FROM {big_table}", small_cutoff_workgroup, events_table)
    assert ok["State"] == "SUCCEEDED", ok  # COUNT(*) reads no column: under the limit


def test_stop_query_execution_cancels_a_running_query(
    athena: Any, outputs: dict[str, Any], big_table: str, events_table: str
) -> None:
    slow = (
        f"SELECT count(*) FROM {big_table} a CROSS JOIN (SELECT * FROM {big_table} LIMIT 20000) b "
        "WHERE a.blob < b.blob"
    )
    query_id = start(athena, slow, outputs["athena_workgroup"], events_table)
    time.sleep(0.5)
    athena.stop_query_execution(QueryExecutionId=query_id)
    status = wait(athena, query_id)["Status"]
    assert status["State"] == "CANCELLED", status


def test_clickstream_query_reads_the_glue_table(
    events_table: str, delivered: dict[str, Any], glue: Any
) -> None:
    """``clickstream-query`` builds ``<database>.events`` from Glue when the catalog answers."""
    table = glue.get_table(DatabaseName=events_table, Name=TABLE_NAME)["Table"]
    proc = run_cli(["clickstream-query", "count_by_event_type", "--format", "json"])
    assert "built-in schema" not in proc.stderr, proc.stderr
    got = {r["event_type"]: r["cnt"] for r in json.loads(proc.stdout)}
    assert got == delivered["by_event_type"]
    # the view's columns are the catalog's: drop one from the Glue table and the query says so
    narrowed = {
        k: v
        for k, v in table.items()
        if k
        in ("Name", "Description", "StorageDescriptor", "PartitionKeys", "Parameters", "TableType")
    }
    narrowed["StorageDescriptor"] = dict(
        table["StorageDescriptor"],
        Columns=[c for c in table["StorageDescriptor"]["Columns"] if c["Name"] != "event_type"],
    )
    glue.update_table(DatabaseName=events_table, TableInput=narrowed)
    try:
        failing = subprocess.run(
            [str(VENV_BIN / "clickstream-query"), "count_by_event_type"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert failing.returncode == 1, failing.stdout
        assert "event_type" in failing.stderr and "Traceback" not in failing.stderr
    finally:
        glue.update_table(
            DatabaseName=events_table,
            TableInput={k: v for k, v in table.items() if k in narrowed},
        )


def test_control_plane_calls_the_aws_provider_needs(athena: Any, outputs: dict[str, Any]) -> None:
    """UpdateWorkGroup, DeleteNamedQuery, and 'gone' answers worded as the provider reads them."""
    name = f"e2e-wg-{uuid.uuid4().hex[:8]}"
    athena.create_work_group(Name=name, Configuration={"EnforceWorkGroupConfiguration": False})
    try:
        athena.update_work_group(
            WorkGroup=name,
            Description="changed",
            ConfigurationUpdates={"BytesScannedCutoffPerQuery": MIN_CUTOFF},
        )
        group = athena.get_work_group(WorkGroup=name)["WorkGroup"]
        assert group["Description"] == "changed"
        assert group["Configuration"]["BytesScannedCutoffPerQuery"] == MIN_CUTOFF
        query_id = athena.create_named_query(
            Name="n", Database="db", QueryString="SELECT 1", WorkGroup=name
        )["NamedQueryId"]
        athena.delete_named_query(NamedQueryId=query_id)
        with pytest.raises(athena.exceptions.InvalidRequestException, match="does not exist"):
            athena.get_named_query(NamedQueryId=query_id)
        ran = athena.start_query_execution(
            QueryString="SELECT 1",
            WorkGroup=name,
            ResultConfiguration={"OutputLocation": f"s3://{outputs['athena_results_bucket']}/e2e/"},
        )["QueryExecutionId"]
        assert wait(athena, ran)["Status"]["State"] == "SUCCEEDED"
        assert ran in athena.list_query_executions(WorkGroup=name)["QueryExecutionIds"]
    finally:
        athena.delete_work_group(WorkGroup=name, RecursiveDeleteOption=True)
    with pytest.raises(athena.exceptions.InvalidRequestException, match="is not found"):
        athena.get_work_group(WorkGroup=name)


def test_msck_repair_registers_the_days_present_and_queries_then_read_them(
    athena: Any, glue: Any, outputs: dict[str, Any], events_table: str, delivered: dict[str, Any]
) -> None:
    """A table without projection (the crawler mode) sees only registered partitions."""
    name = f"e2e_hive_{uuid.uuid4().hex[:8]}"
    location = f"s3://{outputs['transformed_bucket']}/{outputs['events_prefix']}"
    table = events_table_input(location) | {"Name": name}
    table["Parameters"] = {"classification": "parquet"}
    glue.create_table(DatabaseName=events_table, TableInput=table)
    workgroup = outputs["athena_workgroup"]
    try:
        count = f"SELECT count(*) AS n FROM {name}"
        before = wait(athena, start(athena, count, workgroup, events_table))
        assert results(athena, before["QueryExecutionId"], 10) == [{"n": 0}]
        repair = wait(athena, start(athena, f"MSCK REPAIR TABLE {name}", workgroup, events_table))
        assert repair["Status"]["State"] == "SUCCEEDED", repair["Status"]
        days = sorted(delivered["by_day"])
        show = wait(athena, start(athena, f"SHOW PARTITIONS {name}", workgroup, events_table))
        rows = athena.get_query_results(QueryExecutionId=show["QueryExecutionId"])["ResultSet"]
        listed = [r["Data"][0]["VarCharValue"] for r in rows["Rows"]]
        assert listed == ["year={}/month={}/day={}".format(*day.split("-")) for day in days]
        after = wait(athena, start(athena, count, workgroup, events_table))
        assert results(athena, after["QueryExecutionId"], 10) == [{"n": EVENTS}]
    finally:
        glue.delete_table(DatabaseName=events_table, Name=name)


def test_statements_athena_has_but_the_local_engine_does_not_fail_naming_them(
    athena: Any, outputs: dict[str, Any], events_table: str
) -> None:
    workgroup = outputs["athena_workgroup"]
    explain = failed(athena, "EXPLAIN SELECT * FROM events", workgroup, events_table)
    assert explain["State"] == "FAILED"
    assert explain["StateChangeReason"].startswith("NOT_SUPPORTED: statement EXPLAIN"), explain
    show = wait(athena, start(athena, "SHOW PARTITIONS events", workgroup, events_table))
    assert show["Status"]["State"] == "SUCCEEDED" and show["StatementType"] == "UTILITY"
    # projected partitions are not registered in Glue: Athena lists none, and so do we
    rows = athena.get_query_results(QueryExecutionId=show["QueryExecutionId"])["ResultSet"]["Rows"]
    assert rows == []
