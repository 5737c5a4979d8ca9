"""Read a table's definition from the Glue Data Catalog (the edge around :mod:`glue_table`).

``clickstream-query`` reads ``<database>.events`` from the Glue catalog of the stack it targets
(:mod:`clickstream_common.target`: LocalStack or AWS), so a schema change flows contract ->
Terraform -> catalog -> DuckDB. A plain local directory, or a catalog without the table, uses the
built-in schema; a catalog that cannot be asked is an error, not a fallback.
"""

from __future__ import annotations

from typing import Any

from athena_local.glue_table import CatalogTable


class CatalogUnavailable(RuntimeError):
    """The Glue catalog answered, without the table (no such database or table, or a refusal):
    the caller may use the built-in table of the event contract instead."""


class CatalogUnreachable(RuntimeError):
    """No Glue catalog could be asked (endpoint down, no region, no credentials): an error."""


def fetch_table(database: str, name: str, glue: Any | None = None) -> CatalogTable:
    """GetTable (plus GetPartitions for a table without projection) as a :class:`CatalogTable`."""
    import botocore.exceptions

    try:
        if glue is None:
            import boto3
            from botocore.config import Config

            glue = boto3.client(
                "glue",
                config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
            )
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        probe = CatalogTable.from_glue(table)
        partitions = None
        if probe.partition_keys and not probe.projection_enabled:
            pages = glue.get_paginator("get_partitions").paginate(
                DatabaseName=database, TableName=name
            )
            partitions = [p for page in pages for p in page["Partitions"]]
        return CatalogTable.from_glue(table, partitions)
    except botocore.exceptions.ClientError as err:
        raise CatalogUnavailable(f"Glue table {database}.{name}: {err}") from err
    except botocore.exceptions.BotoCoreError as err:
        raise CatalogUnreachable(f"Glue table {database}.{name}: {err}") from err
