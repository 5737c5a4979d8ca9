"""The engine's view of AWS inside LocalStack: Glue through internal clients, S3 through pyarrow.

Internal clients (``localstack.aws.connect.connect_to``) go through LocalStack's own gateway, so
the Glue tables and partitions are whatever the glue service holds (moto's backend plus our
provider), and the result objects land in S3 exactly as a client's PutObject would. DuckDB reads
the Parquet through pyarrow's S3 filesystem pointed at the same gateway (measured faster than the
alternatives and works offline: bench/bench_athena_s3_read.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from athena_local.catalog import ArrowSource
from athena_local.glue_table import CatalogTable, strip_scheme
from clickstream_emulator.athena import engine, s3_mirror
from clickstream_emulator.athena.executions import QueryExecution, metadata_document

#: LocalStack reads a 12-digit access key as the account id; the secret is not checked.
_SECRET = "test"


def mirror_root() -> Path:
    """Under LocalStack's cache directory (``.local/localstack/...`` in host mode)."""
    from localstack import config

    return Path(config.dirs.cache) / "athena-s3-mirror"


class LocalStackCatalog:
    """:class:`engine.Catalog` for one account and region of this LocalStack."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def _clients(self) -> Any:
        from localstack.aws.connect import connect_to

        return connect_to(
            region_name=self.region,
            aws_access_key_id=self.account_id,
            aws_secret_access_key=_SECRET,
        )

    def get_table(self, database: str, name: str) -> Mapping[str, Any] | None:
        glue = self._clients().glue
        try:
            return glue.get_table(DatabaseName=database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            return None

    def get_partitions(self, database: str, name: str) -> list[Mapping[str, Any]]:
        paginator = self._clients().glue.get_paginator("get_partitions")
        return [
            partition
            for page in paginator.paginate(DatabaseName=database, TableName=name)
            for partition in page["Partitions"]
        ]

    def list_paths(self, location: str) -> list[str]:
        selector = pafs.FileSelector(
            strip_scheme(location).rstrip("/"), recursive=True, allow_not_found=True
        )
        return [
            info.path
            for info in self._s3().get_file_info(selector)
            if info.type == pafs.FileType.File
        ]

    def create_partitions(self, database: str, name: str, partitions: list[dict[str, Any]]) -> None:
        glue = self._clients().glue
        for start in range(0, len(partitions), 100):  # BatchCreatePartition's limit
            answer = glue.batch_create_partition(
                DatabaseName=database,
                TableName=name,
                PartitionInputList=partitions[start : start + 100],
            )
            errors = answer.get("Errors") or []
            if errors:
                raise engine.QueryFailed(
                    f"HIVE_METASTORE_ERROR: {errors[0].get('ErrorDetail')}", engine.SYSTEM, 1012
                )

    def _s3(self) -> pafs.S3FileSystem:
        from urllib.parse import urlparse

        from localstack import config

        url = urlparse(config.internal_service_url())
        return pafs.S3FileSystem(
            access_key=self.account_id,
            secret_key=_SECRET,
            region=self.region,
            endpoint_override=url.netloc,
            scheme=url.scheme or "http",
            force_virtual_addressing=False,
        )

    def readable(self, table: CatalogTable) -> tuple[ArrowSource, CatalogTable]:
        """The table's objects synced to the local mirror (see :mod:`s3_mirror`), read from there."""
        root = mirror_root() / self.account_id
        s3_mirror.sync(self._s3(), table.location, root)
        local = s3_mirror.localize(table, root)
        base = local.location.rstrip("/")
        Path(base).mkdir(parents=True, exist_ok=True)
        return ArrowSource(pafs.LocalFileSystem(), base, table.location, is_local=True), local

    def write_results(self, execution: QueryExecution) -> None:
        """``<id>.csv`` and ``<id>.csv.metadata`` under the output location, as Athena writes."""
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
        try:
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=engine.csv_text(outcome.columns, outcome.rows).encode(),
                ContentType="text/csv",
                **extra,
            )
            s3.put_object(
                Bucket=bucket, Key=f"{key}.metadata", Body=metadata_document(execution), **extra
            )
        except Exception as err:
            raise engine.QueryFailed(
                f"Unable to verify/create output bucket {bucket}: {err}", engine.USER, 1010
            ) from err
