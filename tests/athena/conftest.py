"""Fixtures of the local Athena's tests: the events table in an in-memory catalog over Parquet."""

from __future__ import annotations

from pathlib import Path

import pytest

from clickstream_emulator.athena import engine
from clickstream_emulator.athena.ports import Context
from clickstream_emulator.athena.relations import Execution
from tests.queries.conftest import event, write_hive_parquet
from tests.queries.test_glue_table import glue_table, projection

from .memory_catalog import MemoryCatalog

RESULTS = "s3://results/athena/"


@pytest.fixture
def cat(tmp_path: Path) -> MemoryCatalog:
    rows = [
        event("2024-12-25T10:00:00Z", user_id="a", price=1.5, quantity=2),
        event("2024-12-25T11:00:00Z", user_id="b", event_type="search"),
        event("2024-12-26T10:00:00Z", user_id="a"),
    ]
    catalog = MemoryCatalog(tmp_path / "s3")
    write_hive_parquet(catalog.root / "b" / "events", rows)
    catalog.create_database({"Name": "db"})
    catalog.create_table(
        "db", glue_table("s3://b/events/", **projection()) | {"TableType": "EXTERNAL_TABLE"}
    )
    return catalog


def run(
    cat: MemoryCatalog,
    sql: str,
    cutoff: int | None = None,
    *,
    query_id: str = "q-1",
    enforced: bool = False,
) -> engine.Outcome:
    ctx = Context(query_id, "db", RESULTS, workgroup="wg", enforced=enforced, cutoff_bytes=cutoff)
    return engine.run(sql, ctx, cat, Execution())
