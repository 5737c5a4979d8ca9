"""Writes to the Glue Data Catalog: the one module both the crawler and the local Athena use.

Each function takes a Glue client (LocalStack's internal ``connect_to().glue``, so a write goes
through the glue service - moto's backend and our provider - exactly as a user's would) and
writes in the API's own limits: ``BatchCreatePartition`` 100 at a time, ``BatchDeletePartition``
25 at a time, a batch error raised rather than ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class CatalogWriteError(RuntimeError):
    """Glue refused a write (the message is Glue's)."""


def create_database(glue: Any, database_input: Mapping[str, Any]) -> None:
    glue.create_database(DatabaseInput=dict(database_input))


def delete_database(glue: Any, name: str) -> None:
    glue.delete_database(Name=name)


def create_table(glue: Any, database: str, table_input: Mapping[str, Any]) -> None:
    glue.create_table(DatabaseName=database, TableInput=dict(table_input))


def update_table(glue: Any, database: str, table_input: Mapping[str, Any]) -> None:
    """Replace a table's definition (Glue keeps the previous one as a table version)."""
    glue.update_table(DatabaseName=database, TableInput=dict(table_input))


def delete_table(glue: Any, database: str, name: str) -> None:
    glue.delete_table(DatabaseName=database, Name=name)


def create_partitions(
    glue: Any, database: str, table: str, partitions: Sequence[Mapping[str, Any]]
) -> None:
    for start in range(0, len(partitions), 100):  # BatchCreatePartition's limit
        answer = glue.batch_create_partition(
            DatabaseName=database,
            TableName=table,
            PartitionInputList=[dict(p) for p in partitions[start : start + 100]],
        )
        errors = answer.get("Errors") or []
        if errors:
            detail = errors[0].get("ErrorDetail") or {}
            raise CatalogWriteError(
                f"{detail.get('ErrorCode', 'GlueError')}: {detail.get('ErrorMessage', detail)}"
            )


def update_partition(glue: Any, database: str, table: str, partition: Mapping[str, Any]) -> None:
    glue.update_partition(
        DatabaseName=database,
        TableName=table,
        PartitionValueList=list(partition["Values"]),
        PartitionInput=dict(partition),
    )


def delete_partitions(
    glue: Any, database: str, table: str, values: Sequence[Sequence[str]]
) -> None:
    for start in range(0, len(values), 25):  # BatchDeletePartition's limit
        answer = glue.batch_delete_partition(
            DatabaseName=database,
            TableName=table,
            PartitionsToDelete=[{"Values": list(v)} for v in values[start : start + 25]],
        )
        errors = answer.get("Errors") or []
        if errors:
            detail = errors[0].get("ErrorDetail") or {}
            raise CatalogWriteError(
                f"{detail.get('ErrorCode', 'GlueError')}: {detail.get('ErrorMessage', detail)}"
            )
