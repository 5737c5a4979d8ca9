"""The engine's view of AWS inside LocalStack: Glue through internal clients, S3 through pyarrow.

Internal clients (``localstack.aws.connect.connect_to``) go through LocalStack's own gateway, so
the Glue tables and partitions are whatever the glue service holds (moto's backend plus our
provider), Glue writes go through :mod:`clickstream_emulator.glue.catalog` (shared with the
crawler), and result objects land in S3 exactly as a client's PutObject would. DuckDB reads the
Parquet through pyarrow's S3 filesystem pointed at the same gateway, from a local mirror
(measured faster than the alternatives and works offline: bench/bench_athena_s3_read.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from athena_local.catalog import ArrowSource
from athena_local.glue_table import CatalogTable, strip_scheme
from clickstream_emulator.athena import s3_mirror, writer
from clickstream_emulator.athena.executions import QueryExecution, metadata_document
from clickstream_emulator.athena.results import (
    CSV,
    DATA,
    SYSTEM,
    USER,
    QueryFailed,
    csv_text,
    txt_text,
)
from clickstream_emulator.glue import catalog as glue_writes

#: LocalStack reads a 12-digit access key as the account id; the secret is not checked.
_SECRET = "test"


def mirror_root() -> Path:
    """Under LocalStack's cache directory (``.local/localstack/...`` in host mode)."""
    from localstack import config

    return Path(config.dirs.cache) / "athena-s3-mirror"


def _metastore_error(err: Exception) -> QueryFailed:
    return QueryFailed(f"HIVE_METASTORE_ERROR: {err}", SYSTEM, 1012)


class LocalStackCatalog:
    """:class:`~clickstream_emulator.athena.ports.Catalog` for one account and region."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self._fs: pafs.S3FileSystem | None = None

    def _clients(self) -> Any:
        from localstack.aws.connect import connect_to

        return connect_to(
            region_name=self.region,
            aws_access_key_id=self.account_id,
            aws_secret_access_key=_SECRET,
        )

    def _glue(self) -> Any:
        return self._clients().glue

    # ------------------------------------------------------------------ Glue reads
    def get_database(self, name: str) -> Mapping[str, Any] | None:
        glue = self._glue()
        try:
            return glue.get_database(Name=name)["Database"]
        except glue.exceptions.EntityNotFoundException:
            return None

    def list_databases(self) -> list[Mapping[str, Any]]:
        pages = self._glue().get_paginator("get_databases").paginate()
        return [d for page in pages for d in page["DatabaseList"]]

    def get_table(self, database: str, name: str) -> Mapping[str, Any] | None:
        glue = self._glue()
        try:
            return glue.get_table(DatabaseName=database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            return None

    def list_tables(self, database: str) -> list[Mapping[str, Any]]:
        pages = self._glue().get_paginator("get_tables").paginate(DatabaseName=database)
        return [t for page in pages for t in page["TableList"]]

    def get_partitions(self, database: str, name: str) -> list[Mapping[str, Any]]:
        paginator = self._glue().get_paginator("get_partitions")
        return [
            partition
            for page in paginator.paginate(DatabaseName=database, TableName=name)
            for partition in page["Partitions"]
        ]

    # ------------------------------------------------------------------ Glue writes
    def _write(self, operation: Any, *args: Any) -> None:
        try:
            operation(self._glue(), *args)
        except glue_writes.CatalogWriteError as err:
            raise _metastore_error(err) from err
        except Exception as err:  # botocore ClientError: Glue's own words
            raise _metastore_error(err) from err

    def create_database(self, database_input: Mapping[str, Any]) -> None:
        self._write(glue_writes.create_database, database_input)

    def delete_database(self, name: str) -> None:
        self._write(glue_writes.delete_database, name)

    def create_table(self, database: str, table_input: Mapping[str, Any]) -> None:
        self._write(glue_writes.create_table, database, table_input)

    def update_table(self, database: str, table_input: Mapping[str, Any]) -> None:
        self._write(glue_writes.update_table, database, table_input)

    def delete_table(self, database: str, name: str) -> None:
        self._write(glue_writes.delete_table, database, name)

    def create_partitions(self, database: str, name: str, partitions: list[dict[str, Any]]) -> None:
        if partitions:
            self._write(glue_writes.create_partitions, database, name, partitions)

    def delete_partitions(self, database: str, name: str, values: Sequence[Sequence[str]]) -> None:
        if values:
            self._write(glue_writes.delete_partitions, database, name, values)

    # ------------------------------------------------------------------ S3
    def filesystem(self) -> pafs.FileSystem:
        if self._fs is None:
            from urllib.parse import urlparse

            from localstack import config

            url = urlparse(config.internal_service_url())
            self._fs = pafs.S3FileSystem(
                access_key=self.account_id,
                secret_key=_SECRET,
                region=self.region,
                endpoint_override=url.netloc,
                scheme=url.scheme or "http",
                force_virtual_addressing=False,
            )
        return self._fs

    def list_paths(self, location: str) -> list[str]:
        selector = pafs.FileSelector(
            strip_scheme(location).rstrip("/"), recursive=True, allow_not_found=True
        )
        return [
            info.path
            for info in self.filesystem().get_file_info(selector)
            if info.type == pafs.FileType.File
        ]

    def readable(self, table: CatalogTable) -> tuple[ArrowSource, CatalogTable]:
        """The table's objects synced to the local mirror (see :mod:`s3_mirror`), read from there."""
        root = mirror_root() / self.account_id
        s3_mirror.sync(self.filesystem(), table.location, root)
        local = s3_mirror.localize(table, root)
        base = local.location.rstrip("/")
        Path(base).mkdir(parents=True, exist_ok=True)
        return ArrowSource(pafs.LocalFileSystem(), base, table.location, is_local=True), local

    # ------------------------------------------------------------------ result files
    def write_results(self, execution: QueryExecution) -> None:
        """The result files Athena writes under the output location (see executions.result_key)."""
        outcome = execution.outcome
        if outcome is None:
            return
        bucket, _, key = strip_scheme(execution.result_key).partition("/")
        extra: dict[str, Any] = {}
        encryption = execution.encryption or {}
        if encryption.get("EncryptionOption") == "SSE_S3":
            extra["ServerSideEncryption"] = "AES256"
        elif encryption.get("EncryptionOption") == "SSE_KMS":
            extra["ServerSideEncryption"] = "aws:kms"
            if encryption.get("KmsKey"):
                extra["SSEKMSKeyId"] = encryption["KmsKey"]
        s3 = self._clients().s3
        objects: list[tuple[str, bytes, str]] = []
        if outcome.layout == CSV:
            objects.append((key, csv_text(outcome.columns, outcome.rows).encode(), "text/csv"))
        elif outcome.layout == DATA:
            manifest = strip_scheme(execution.manifest_key or "").partition("/")[2]
            objects.append((manifest, writer.manifest_text(outcome.written).encode(), "text/csv"))
        else:
            objects.append((key, txt_text(outcome.rows).encode(), "text/plain"))
        objects.append(
            (f"{key}.metadata", metadata_document(execution), "application/octet-stream")
        )
        try:
            for object_key, body, content_type in objects:
                s3.put_object(
                    Bucket=bucket, Key=object_key, Body=body, ContentType=content_type, **extra
                )
        except Exception as err:
            raise QueryFailed(
                f"Unable to verify/create output bucket {bucket}: {err}", USER, 1010
            ) from err
