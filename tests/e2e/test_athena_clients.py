"""Real Athena clients, unchanged, against the local stack: PyAthena's cursors, awswrangler's
defaults, a dbt project, and the metadata API BI tools browse with.

PyAthena 4.2 runs in this venv (requirements/dev.txt); awswrangler 3.17 and dbt-athena 1.10 run
from .venv-clients (requirements/clients.txt: their pins conflict with the project's), as a user
runs them from their own environment. Nothing is mocked: the clients reach LocalStack through
``AWS_ENDPOINT_URL``, as they would reach AWS without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import json
import math
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from clickstream_common.schema import TABLE_NAME

from .support import REPO, clean_pipeline, client, run_cli, wait_reconciled

pytestmark = pytest.mark.e2e

EVENTS = 3_000
CLIENTS_BIN = REPO / ".venv-clients" / "bin"
DBT_PROJECT = Path(__file__).parent / "dbt_project"
SQL = (
    "SELECT event_type, count(*) AS n, min(event_timestamp) AS first_seen, "
    "max(search_query) AS last_query, CAST(sum(price) AS DECIMAL(12, 2)) AS revenue "
    "FROM events GROUP BY event_type ORDER BY event_type"
)


@pytest.fixture(scope="module")
def database(outputs: dict[str, Any], s3: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Terraform database with events delivered through the real pipeline."""
    clean_pipeline(s3, outputs)
    manifest = tmp_path_factory.mktemp("clients") / "manifest.json"
    run_cli(
        [
            "clickstream-generate",
            *("--count", str(EVENTS), "--start", "2024-12-24", "--end", "2024-12-26"),
            *("--seed", "2424", "--manifest", str(manifest), "--quiet"),
        ]
    )
    wait_reconciled(s3, outputs, rows=EVENTS, quarantined=0, what="generated events")
    return str(outputs["glue_database"])


def normalize(value: Any) -> Any:
    """A value as comparable text/number, whatever the client's type for it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    if isinstance(value, decimal.Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.datetime) or hasattr(value, "to_pydatetime"):
        moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
        return moment.replace(tzinfo=None).isoformat(timespec="milliseconds")
    if hasattr(value, "item"):  # numpy scalars
        return normalize(value.item())
    return value


def rows_of(values: Any) -> list[tuple[Any, ...]]:
    return [tuple(normalize(v) for v in row) for row in values]


# ---------------------------------------------------------------------------- PyAthena
def _frame_rows(frame: Any) -> list[tuple[Any, ...]]:
    """Rows of a pandas or polars frame as plain tuples."""
    if hasattr(frame, "iter_rows"):  # polars
        return rows_of(frame.iter_rows())
    return rows_of(frame.itertuples(index=False))


def _sync_cursor_rows(connection: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every blocking and future-returning cursor of PyAthena that reaches LocalStack."""
    from pyathena.async_cursor import AsyncCursor, AsyncDictCursor
    from pyathena.cursor import DictCursor
    from pyathena.pandas.async_cursor import AsyncPandasCursor
    from pyathena.pandas.cursor import PandasCursor
    from pyathena.polars.async_cursor import AsyncPolarsCursor
    from pyathena.polars.cursor import PolarsCursor
    from pyathena.s3fs.async_cursor import AsyncS3FSCursor
    from pyathena.s3fs.cursor import S3FSCursor

    got: dict[str, list[tuple[Any, ...]]] = {}
    dicts = connection.cursor(DictCursor)
    dicts.execute(SQL)
    got["DictCursor"] = rows_of([tuple(r.values()) for r in dicts.fetchall()])
    for name, cursor in {
        "PandasCursor": connection.cursor(PandasCursor),
        "PandasCursor(unload=True)": connection.cursor(PandasCursor, unload=True),
    }.items():
        got[name] = _frame_rows(cursor.execute(SQL).as_pandas())
    for name, cursor in {
        "PolarsCursor": connection.cursor(PolarsCursor),
        "PolarsCursor(unload=True)": connection.cursor(PolarsCursor, unload=True),
    }.items():
        got[name] = _frame_rows(cursor.execute(SQL).as_polars())
    s3fs = connection.cursor(S3FSCursor)
    s3fs.execute(SQL)
    got["S3FSCursor"] = rows_of(s3fs.fetchall())
    for name, cursor_class in {
        "AsyncCursor": AsyncCursor,
        "AsyncDictCursor": AsyncDictCursor,
        "AsyncS3FSCursor": AsyncS3FSCursor,
        "AsyncPandasCursor": AsyncPandasCursor,
        "AsyncPolarsCursor": AsyncPolarsCursor,
    }.items():
        _query_id, future = connection.cursor(cursor_class).execute(SQL)
        result = future.result()
        if name == "AsyncPandasCursor":
            got[name] = _frame_rows(result.as_pandas())
        elif name == "AsyncPolarsCursor":
            got[name] = _frame_rows(result.as_polars())
        elif name == "AsyncDictCursor":
            got[name] = rows_of([tuple(r.values()) for r in result.fetchall()])
        else:
            got[name] = rows_of(result.fetchall())
    return got


async def _aio_cursor_rows(**connect_args: Any) -> dict[str, list[tuple[Any, ...]]]:
    """PyAthena's native asyncio cursors (``aio_connect``), unload included."""
    from pyathena import aio_connect
    from pyathena.aio.cursor import AioCursor, AioDictCursor
    from pyathena.aio.pandas.cursor import AioPandasCursor
    from pyathena.aio.polars.cursor import AioPolarsCursor
    from pyathena.aio.s3fs.cursor import AioS3FSCursor

    connection = await aio_connect(**connect_args)
    got: dict[str, list[tuple[Any, ...]]] = {}
    for name, cursor_class in {
        "AioCursor": AioCursor,
        "AioDictCursor": AioDictCursor,
        "AioS3FSCursor": AioS3FSCursor,
    }.items():
        cursor = connection.cursor(cursor_class)
        await cursor.execute(SQL)
        rows = await cursor.fetchall()
        got[name] = rows_of([tuple(r.values()) if isinstance(r, dict) else r for r in rows])
    for unload in (False, True):
        pandas_cursor = connection.cursor(AioPandasCursor, unload=unload)
        await pandas_cursor.execute(SQL)
        got[f"AioPandasCursor(unload={unload})"] = _frame_rows(await pandas_cursor.as_pandas())
        polars_cursor = connection.cursor(AioPolarsCursor, unload=unload)
        await polars_cursor.execute(SQL)
        got[f"AioPolarsCursor(unload={unload})"] = _frame_rows(await polars_cursor.as_polars())
    return got


def test_every_pyathena_cursor_returns_the_same_rows(
    database: str, outputs: dict[str, Any]
) -> None:
    """Every cursor that can reach LocalStack unchanged: blocking, future-returning and asyncio;
    tuple, dict, pandas, polars and S3FS results; pandas and polars through UNLOAD too. The Arrow
    cursors cannot: PyAthena builds their pyarrow S3FileSystem with no endpoint, and pyarrow
    ignores AWS_ENDPOINT_URL, so they read from real S3 (see docs: What differs from Athena).
    Spark cursors need an Athena Spark workgroup (the Athena notebook API), which this stack does
    not have."""
    from pyathena import connect
    from pyathena.cursor import Cursor

    connect_args: dict[str, Any] = {
        "s3_staging_dir": f"s3://{outputs['athena_results_bucket']}/pyathena/",
        "work_group": outputs["athena_workgroup"],
        "schema_name": database,
        "region_name": os.environ["AWS_DEFAULT_REGION"],
    }
    connection = connect(**connect_args)
    plain = connection.cursor(Cursor)
    plain.execute(SQL)
    expected = rows_of(plain.fetchall())
    assert [d[0] for d in plain.description] == [
        "event_type",
        "n",
        "first_seen",
        "last_query",
        "revenue",
    ]
    assert [d[1] for d in plain.description] == [
        "varchar",
        "bigint",
        "timestamp",
        "varchar",
        "decimal",
    ]
    assert len(expected) >= 5 and any(r[3] is None for r in expected)  # NULLs come through
    assert sum(r[1] for r in expected) == EVENTS

    got = _sync_cursor_rows(connection)
    got.update(asyncio.run(_aio_cursor_rows(**connect_args)))
    assert len(got) == 18, sorted(got)  # + Cursor itself: 19 ways to read a result
    for name, rows in got.items():
        assert rows == expected, name


def test_pyathena_reads_ddl_results_and_row_counts(database: str, outputs: dict[str, Any]) -> None:
    from pyathena import connect

    cursor = connect(
        s3_staging_dir=f"s3://{outputs['athena_results_bucket']}/pyathena/",
        work_group=outputs["athena_workgroup"],
        schema_name=database,
        region_name=os.environ["AWS_DEFAULT_REGION"],
    ).cursor()
    cursor.execute("SHOW TABLES")
    assert (TABLE_NAME,) in cursor.fetchall()
    cursor.execute(f"DESCRIBE {TABLE_NAME}")
    assert cursor.fetchone()[0].split("\t")[0].strip() == "event_id"
    name = f"e2e_ctas_{uuid.uuid4().hex[:8]}"
    try:
        cursor.execute(f"CREATE TABLE {name} AS SELECT event_id FROM events")
        assert cursor.rowcount == EVENTS
        cursor.execute(f"INSERT INTO {name} SELECT 'one more'")
        assert cursor.rowcount == 1
        cursor.execute(f"SELECT count(*) FROM {name}")
        assert cursor.fetchone() == (EVENTS + 1,)
    finally:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


# ---------------------------------------------------------------------------- awswrangler
def _clients_python() -> Path:
    python = CLIENTS_BIN / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run `make clients-venv` (make e2e does)", pytrace=False)
    return python


def test_awswrangler_defaults_return_the_frame_of_the_plain_query_and_leave_no_table(
    database: str, outputs: dict[str, Any], s3: Any
) -> None:
    glue = client("glue")
    before = {t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]}
    unload_path = f"s3://{outputs['athena_results_bucket']}/wrangler-unload/{uuid.uuid4().hex}/"
    proc = subprocess.run(
        [
            str(_clients_python()),
            str(Path(__file__).parent / "clients" / "wrangler_read.py"),
            SQL,
            database,
            unload_path,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    answer = json.loads(proc.stdout)
    assert answer["default_equals_plain"], answer["difference"]
    # the timestamp's resolution is the only dtype difference (INT96 Parquet vs CSV, as on AWS)
    assert answer["dtype_differences"] == {"first_seen": ["datetime64[ns]", "datetime64[us]"]}
    assert len(answer["default"]) >= 5 and sum(r["n"] for r in answer["default"]) == EVENTS
    assert answer["dtypes"]["n"] == "Int64" and answer["dtypes"]["first_seen"].startswith(
        "datetime64"
    )
    assert sorted(answer["unload"], key=lambda r: r["event_type"]) == answer["plain"]
    after = {t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]}
    assert after == before, "awswrangler's temp table is left behind"
    assert not [t for t in after if t.startswith("temp_table_")]


# ---------------------------------------------------------------------------- dbt
def dbt(*args: str, env: dict[str, str], target: Path) -> subprocess.CompletedProcess[str]:
    binary = CLIENTS_BIN / "dbt"
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `make clients-venv` (make e2e does)", pytrace=False)
    return subprocess.run(
        [
            str(binary),
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(target / "target"),
            "--log-path",
            str(target / "logs"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=target,
    )


@pytest.mark.slow  # ~90 s: three dbt invocations, each starting dbt and its adapter
def test_dbt_builds_a_table_and_a_view_twice_and_its_tests_pass(
    database: str, outputs: dict[str, Any], tmp_path: Path
) -> None:
    schema = f"dbt_e2e_{uuid.uuid4().hex[:6]}"
    env = os.environ | {
        "DBT_ATHENA_SCHEMA": schema,
        "DBT_ATHENA_SOURCE_SCHEMA": database,
        "DBT_ATHENA_STAGING_DIR": f"s3://{outputs['athena_results_bucket']}/dbt/",
        "DBT_ATHENA_WORKGROUP": outputs["athena_workgroup"],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    glue = client("glue")
    try:
        for attempt in ("first", "second"):
            run = dbt("run", env=env, target=tmp_path)
            assert run.returncode == 0, (
                f"dbt run ({attempt}):\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
            )
            assert "Completed successfully" in run.stdout
        tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=schema)["TableList"]}
        assert tables["event_type_counts"]["TableType"] == "EXTERNAL_TABLE"
        assert tables["busy_event_types"]["TableType"] == "VIRTUAL_VIEW"
        tested = dbt("test", env=env, target=tmp_path)
        assert tested.returncode == 0, f"dbt test:\n{tested.stdout[-4000:]}"
        assert "PASS=6 " in tested.stdout and "ERROR=0" in tested.stdout, tested.stdout[-2000:]
        athena = client("athena")
        query_id = athena.start_query_execution(
            QueryString="SELECT sum(events) FROM busy_event_types",
            QueryExecutionContext={"Database": schema},
            WorkGroup=outputs["athena_workgroup"],
        )["QueryExecutionId"]
        waited = _wait(athena, query_id)
        assert waited == "SUCCEEDED"
        rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
        assert rows[1]["Data"][0]["VarCharValue"] == str(EVENTS)
    finally:
        for table in (
            glue.get_tables(DatabaseName=schema).get("TableList", [])
            if _exists(glue, schema)
            else []
        ):
            glue.delete_table(DatabaseName=schema, Name=table["Name"])
        if _exists(glue, schema):
            glue.delete_database(Name=schema)
        shutil.rmtree(tmp_path / "target", ignore_errors=True)


def _exists(glue: Any, name: str) -> bool:
    try:
        glue.get_database(Name=name)
        return True
    except glue.exceptions.EntityNotFoundException:
        return False


def _wait(athena: Any, query_id: str) -> str:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"][
            "State"
        ]
        if state in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return str(state)
        time.sleep(0.1)
    return "TIMEOUT"


# ---------------------------------------------------------------------------- metadata API
def test_the_metadata_api_describes_the_glue_catalog(
    database: str, outputs: dict[str, Any]
) -> None:
    athena, glue = client("athena"), client("glue")
    catalogs = athena.list_data_catalogs()["DataCatalogsSummary"]
    assert catalogs[0] == {"CatalogName": "AwsDataCatalog", "Type": "GLUE"}
    assert athena.get_data_catalog(Name="AwsDataCatalog")["DataCatalog"]["Type"] == "GLUE"
    names = [d["Name"] for d in athena.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]]
    assert database in names
    assert (
        athena.get_database(CatalogName="AwsDataCatalog", DatabaseName=database)["Database"]["Name"]
        == database
    )
    listed = athena.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName=database)
    assert TABLE_NAME in [t["Name"] for t in listed["TableMetadataList"]]
    metadata = athena.get_table_metadata(
        CatalogName="AwsDataCatalog", DatabaseName=database, TableName=TABLE_NAME
    )["TableMetadata"]
    table = glue.get_table(DatabaseName=database, Name=TABLE_NAME)["Table"]
    assert [(c["Name"], c["Type"]) for c in metadata["Columns"]] == [
        (c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]
    ]
    assert [c["Name"] for c in metadata["PartitionKeys"]] == ["year", "month", "day"]
    assert metadata["TableType"] == "EXTERNAL_TABLE"
    assert metadata["Parameters"]["location"] == table["StorageDescriptor"]["Location"]
    with pytest.raises(athena.exceptions.MetadataException):
        athena.get_table_metadata(
            CatalogName="AwsDataCatalog", DatabaseName=database, TableName="nope"
        )
    with pytest.raises(athena.exceptions.MetadataException):
        athena.list_databases(CatalogName="NoSuchCatalog")
