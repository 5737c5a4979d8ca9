"""What the engine needs from AWS: the Glue catalog and S3 (LocalStack's, or a fake in tests).

Glue objects are the dicts of Glue's API (``GetTable``'s ``Table``, ``TableInput``...), so the
LocalStack side is a thin pass-through and a test can hold them in memory. S3 is a pyarrow
filesystem addressing ``bucket/key``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pyarrow.fs as pafs

from athena_local.catalog import ArrowSource
from athena_local.glue_table import CatalogTable


class Catalog(Protocol):
    """The Glue catalog and S3 of one account and region."""

    # ------------------------------------------------------------------ Glue reads
    def get_database(self, name: str) -> Mapping[str, Any] | None: ...

    def list_databases(self) -> list[Mapping[str, Any]]: ...

    def get_table(self, database: str, name: str) -> Mapping[str, Any] | None: ...

    def list_tables(self, database: str) -> list[Mapping[str, Any]]: ...

    def get_partitions(self, database: str, name: str) -> list[Mapping[str, Any]]: ...

    # ------------------------------------------------------------------ Glue writes
    def create_database(self, database_input: Mapping[str, Any]) -> None: ...

    def delete_database(self, name: str) -> None: ...

    def create_table(self, database: str, table_input: Mapping[str, Any]) -> None: ...

    def update_table(self, database: str, table_input: Mapping[str, Any]) -> None: ...

    def delete_table(self, database: str, name: str) -> None: ...

    def create_partitions(
        self, database: str, name: str, partitions: list[dict[str, Any]]
    ) -> None: ...

    def delete_partitions(
        self, database: str, name: str, values: Sequence[Sequence[str]]
    ) -> None: ...

    # ------------------------------------------------------------------ S3
    def filesystem(self) -> pafs.FileSystem:
        """S3 as a pyarrow filesystem (paths ``bucket/key``): reads, writes, deletes."""
        ...

    def list_paths(self, location: str) -> list[str]:
        """Every object under an S3 location, as ``bucket/key``."""
        ...

    def readable(self, table: CatalogTable) -> tuple[ArrowSource, CatalogTable]:
        """Where DuckDB reads the table's files from, and the table as seen from there."""
        ...


class Context:
    """What a statement runs with besides its text: the request and the workgroup's settings."""

    def __init__(
        self,
        query_id: str,
        database: str,
        output_location: str,
        *,
        workgroup: str = "primary",
        enforced: bool = False,
        cutoff_bytes: int | None = None,
    ) -> None:
        self.query_id = query_id
        self.database = database.lower()
        #: The result location, ending with ``/`` (``s3://bucket/prefix/``).
        self.output_location = (
            output_location if output_location.endswith("/") else output_location + "/"
        )
        self.workgroup = workgroup
        #: The workgroup enforces its result configuration (it overrides client-side settings).
        self.enforced = enforced
        self.cutoff_bytes = cutoff_bytes
