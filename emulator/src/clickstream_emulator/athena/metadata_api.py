"""Athena's metadata API, answered from the Glue catalog: what BI tools browse schemas with.

``ListDataCatalogs``/``GetDataCatalog`` know ``AwsDataCatalog`` (type ``GLUE``, the account's
Glue catalog); ``ListDatabases``, ``GetDatabase``, ``ListTableMetadata`` and ``GetTableMetadata``
read Glue and answer Athena's shapes: ``TableMetadata`` with ``TableType``, the columns and
partition keys with their Hive types, and the ``Parameters`` Athena folds the storage into
(``location``, ``inputformat``, ``outputformat``, ``serde.serialization.lib``...). An unknown
catalog, database or table is a ``MetadataException``; an out-of-range ``MaxResults`` or a bad
token an ``InvalidRequestException``, as on Athena.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from clickstream_emulator.athena.ports import Catalog

AWS_DATA_CATALOG = "AwsDataCatalog"
#: ListDatabases' and ListTableMetadata's MaxResults upper bound.
MAX_PAGE = 50


class MetadataError(Exception):
    """An error the API answers: ``code`` is the exception name, ``message`` its text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _metadata(message: str) -> MetadataError:
    return MetadataError("MetadataException", message)


def _invalid(message: str) -> MetadataError:
    return MetadataError("InvalidRequestException", message)


def is_glue_catalog(name: str | None) -> bool:
    return (name or AWS_DATA_CATALOG).lower() == AWS_DATA_CATALOG.lower()


def data_catalog(account_id: str) -> dict[str, Any]:
    return {
        "Name": AWS_DATA_CATALOG,
        "Description": "AWS Glue Data Catalog",
        "Type": "GLUE",
        "Parameters": {"catalog-id": account_id},
    }


def catalog_summary() -> dict[str, Any]:
    return {"CatalogName": AWS_DATA_CATALOG, "Type": "GLUE"}


def _check_catalog(name: str) -> None:
    if not is_glue_catalog(name):
        raise _metadata(f"Catalog {name} does not exist")


def _page(items: Sequence[Any], request: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    size = int(request.get("MaxResults") or MAX_PAGE)
    if not 1 <= size <= MAX_PAGE:
        raise _invalid(
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_PAGE}"
        )
    start = 0
    token = request.get("NextToken")
    if token:
        try:
            kind, _, value = base64.urlsafe_b64decode(str(token).encode()).decode().partition(":")
            if kind != "offset" or not value.isdigit():
                raise ValueError(token)
            start = int(value)
        except (ValueError, UnicodeDecodeError):
            raise _invalid("The NextToken is invalid.") from None
    end = start + size
    following = (
        base64.urlsafe_b64encode(f"offset:{end}".encode()).decode() if end < len(items) else None
    )
    return list(items[start:end]), following


def _matcher(expression: str | None) -> Callable[[str], bool]:
    """``Expression``: a regular expression the names must match (Athena's filter)."""
    if not expression:
        return lambda _name: True
    try:
        regex = re.compile(expression)
    except re.error as err:
        raise _invalid(f"Invalid expression {expression!r}: {err}") from None
    return lambda name: bool(regex.fullmatch(name))


def _database(entry: Mapping[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {"Name": entry["Name"]}
    if entry.get("Description"):
        shaped["Description"] = entry["Description"]
    shaped["Parameters"] = dict(entry.get("Parameters") or {})
    if entry.get("LocationUri"):
        shaped["Parameters"].setdefault("location", entry["LocationUri"])
    return shaped


def table_metadata(table: Mapping[str, Any]) -> dict[str, Any]:
    """Glue's ``Table`` as Athena's ``TableMetadata``."""
    descriptor = table.get("StorageDescriptor") or {}
    serde = descriptor.get("SerdeInfo") or {}
    parameters = dict(table.get("Parameters") or {})
    folded = {
        "location": descriptor.get("Location"),
        "inputformat": descriptor.get("InputFormat"),
        "outputformat": descriptor.get("OutputFormat"),
        "serde.serialization.lib": serde.get("SerializationLibrary"),
    }
    for key, value in folded.items():
        if value:
            parameters.setdefault(key, value)
    for key, value in (serde.get("Parameters") or {}).items():
        parameters.setdefault(f"serde.param.{key}", value)

    def columns(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for c in entries:
            column = {"Name": c["Name"], "Type": c.get("Type", "")}
            if c.get("Comment"):
                column["Comment"] = c["Comment"]
            out.append(column)
        return out

    shaped: dict[str, Any] = {
        "Name": table["Name"],
        "TableType": table.get("TableType") or "EXTERNAL_TABLE",
        "Columns": columns(descriptor.get("Columns") or []),
        "PartitionKeys": columns(table.get("PartitionKeys") or []),
        "Parameters": parameters,
    }
    if table.get("CreateTime"):
        shaped["CreateTime"] = table["CreateTime"]
    if table.get("LastAccessTime"):
        shaped["LastAccessTime"] = table["LastAccessTime"]
    return shaped


def list_databases(cat: Catalog, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_catalog(request["CatalogName"])
    databases = sorted(cat.list_databases(), key=lambda d: str(d["Name"]))
    page, token = _page([_database(d) for d in databases], request)
    answer: dict[str, Any] = {"DatabaseList": page}
    if token:
        answer["NextToken"] = token
    return answer


def get_database(cat: Catalog, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_catalog(request["CatalogName"])
    name = str(request["DatabaseName"])
    entry = cat.get_database(name.lower())
    if entry is None:
        raise _metadata(f"Database {name} not found.")
    return {"Database": _database(entry)}


def list_table_metadata(cat: Catalog, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_catalog(request["CatalogName"])
    name = str(request["DatabaseName"]).lower()
    if cat.get_database(name) is None:
        raise _metadata(f"Database {request['DatabaseName']} not found.")
    keep = _matcher(request.get("Expression"))
    tables = sorted(
        (t for t in cat.list_tables(name) if keep(str(t["Name"]))), key=lambda t: str(t["Name"])
    )
    page, token = _page([table_metadata(t) for t in tables], request)
    answer: dict[str, Any] = {"TableMetadataList": page}
    if token:
        answer["NextToken"] = token
    return answer


def get_table_metadata(cat: Catalog, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_catalog(request["CatalogName"])
    database = str(request["DatabaseName"]).lower()
    if cat.get_database(database) is None:
        raise _metadata(f"Database {request['DatabaseName']} not found.")
    table = cat.get_table(database, str(request["TableName"]).lower())
    if table is None:
        raise _metadata(
            f"Table {request['TableName']} not found in database {request['DatabaseName']}."
        )
    return {"TableMetadata": table_metadata(table)}
