"""Read a table's definition from the Glue Data Catalog (the edge around :mod:`glue_table`).

``clickstream-query`` reads ``<database>.events`` from Glue when a catalog answers (LocalStack
through ``AWS_ENDPOINT_URL``, or AWS), so a schema change flows contract -> Terraform -> catalog
-> DuckDB; without one (a plain local directory, or no catalog) the built-in schema is used.
"""

from __future__ import annotations

from typing import Any

from athena_local.glue_table import CatalogTable


class CatalogUnavailable(RuntimeError):
    """No Glue catalog answered, or it has no such table (the message says which)."""


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
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
        raise CatalogUnavailable(f"Glue table {database}.{name}: {err}") from err
