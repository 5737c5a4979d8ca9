"""An in-memory Glue catalog over a local directory standing in for S3 (``s3://b/k`` ->
``<root>/b/k``): the engine's :class:`~clickstream_emulator.athena.ports.Catalog` without
LocalStack. Glue objects are the API's dicts, as LocalStack's catalog answers them; DuckDB reads
real Parquet files. The LocalStack wiring is covered by tests/e2e/test_athena_api.py."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from athena_local.catalog import ArrowSource
from athena_local.glue_table import CatalogTable, strip_scheme
from clickstream_emulator.athena import s3_mirror


class MemoryCatalog:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.databases: dict[str, dict[str, Any]] = {}
        self.tables: dict[tuple[str, str], dict[str, Any]] = {}
        self.versions: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.partitions: dict[tuple[str, str], list[dict[str, Any]]] = {}

    # Glue reads
    def get_database(self, name: str) -> Mapping[str, Any] | None:
        return self.databases.get(name)

    def list_databases(self) -> list[Mapping[str, Any]]:
        return list(self.databases.values())

    def get_table(self, database: str, name: str) -> Mapping[str, Any] | None:
        table = self.tables.get((database, name))
        return None if table is None else copy.deepcopy(table) | {"DatabaseName": database}

    def list_tables(self, database: str) -> list[Mapping[str, Any]]:
        return [copy.deepcopy(t) for (db, _), t in self.tables.items() if db == database]

    def get_partitions(self, database: str, name: str) -> list[Mapping[str, Any]]:
        return copy.deepcopy(self.partitions.get((database, name), []))

    # Glue writes
    def create_database(self, database_input: Mapping[str, Any]) -> None:
        assert database_input["Name"] not in self.databases
        self.databases[database_input["Name"]] = dict(database_input)

    def delete_database(self, name: str) -> None:
        del self.databases[name]

    def create_table(self, database: str, table_input: Mapping[str, Any]) -> None:
        key = (database, table_input["Name"])
        assert database in self.databases and key not in self.tables
        self.tables[key] = copy.deepcopy(dict(table_input))

    def update_table(self, database: str, table_input: Mapping[str, Any]) -> None:
        key = (database, table_input["Name"])
        self.versions.setdefault(key, []).append(self.tables[key])
        self.tables[key] = copy.deepcopy(dict(table_input))

    def delete_table(self, database: str, name: str) -> None:
        del self.tables[(database, name)]
        self.partitions.pop((database, name), None)

    def create_partitions(self, database: str, name: str, partitions: list[dict[str, Any]]) -> None:
        self.partitions.setdefault((database, name), []).extend(copy.deepcopy(partitions))

    def delete_partitions(self, database: str, name: str, values: Sequence[Sequence[str]]) -> None:
        doomed = {tuple(v) for v in values}
        self.partitions[(database, name)] = [
            p for p in self.partitions.get((database, name), []) if tuple(p["Values"]) not in doomed
        ]

    # S3
    def filesystem(self) -> pafs.FileSystem:
        return pafs.SubTreeFileSystem(str(self.root), pafs.LocalFileSystem())

    def list_paths(self, location: str) -> list[str]:
        selector = pafs.FileSelector(
            strip_scheme(location).rstrip("/"), recursive=True, allow_not_found=True
        )
        return [
            i.path
            for i in self.filesystem().get_file_info(selector)
            if i.type == pafs.FileType.File
        ]

    def readable(self, table: CatalogTable) -> tuple[ArrowSource, CatalogTable]:
        local = s3_mirror.localize(table, self.root)
        base = local.location.rstrip("/")
        Path(base).mkdir(parents=True, exist_ok=True)
        return ArrowSource(pafs.LocalFileSystem(), base, table.location, is_local=True), local

    # test helpers
    def objects(self, location: str) -> list[str]:
        return sorted(self.list_paths(location))
