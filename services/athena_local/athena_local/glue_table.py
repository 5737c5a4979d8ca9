"""A Glue table as Athena sees it: location, typed columns, partition keys, and which files it holds.

:class:`CatalogTable` is built from the dicts of Glue's ``GetTable`` (and ``GetPartitions`` for a
table without projection), or from the event contract (:meth:`CatalogTable.builtin`, the fallback
for a plain local directory). Everything here is pure: it turns catalog metadata plus a listing of
paths into the columns DuckDB must expose and the partition values of every file, so the same rules
serve ``clickstream-query`` and the local Athena API (``clickstream_emulator.athena``).

Which files belong to the table, the way Athena decides it:

* **partition projection** (``projection.enabled = true``): a file belongs to the partition whose
  values the ``storage.location.template`` (default: Hive folders ``key=value`` under the location)
  yields for its folder, if the values are inside the projected ranges (``enum``, ``integer``,
  ``date``; ``injected`` accepts any value). Registered partitions are ignored, as on Athena.
* **registered partitions**: a file belongs to the partition whose ``Location`` contains it.
  A folder that no partition names is not read (Athena needs ``MSCK REPAIR TABLE`` or a crawler).
* **unpartitioned**: every file under the location.

A file is any object but hidden ones (``_``/``.`` prefixes) and folder markers, whatever its name:
Athena's own CTAS and UNLOAD files have no extension.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from clickstream_common.catalog import GLUE_TYPES
from clickstream_common.schema import EVENTS_PREFIX, FIELDS, PARTITION_KEYS, TABLE_NAME


class UnsupportedTableError(ValueError):
    """The Glue table uses something the local engine cannot read (named in the message)."""


#: Glue (Hive) primitive types -> (Arrow type DuckDB reads, SQL type for sqlglot's schema).
_PRIMITIVES: dict[str, tuple[pa.DataType, str]] = {
    "string": (pa.string(), "VARCHAR"),
    "varchar": (pa.string(), "VARCHAR"),
    "char": (pa.string(), "VARCHAR"),
    "bigint": (pa.int64(), "BIGINT"),
    "int": (pa.int32(), "INT"),
    "integer": (pa.int32(), "INT"),
    "smallint": (pa.int16(), "SMALLINT"),
    "tinyint": (pa.int8(), "TINYINT"),
    "double": (pa.float64(), "DOUBLE"),
    "float": (pa.float32(), "FLOAT"),
    "boolean": (pa.bool_(), "BOOLEAN"),
    # Parquet written by the pipeline (and by Athena/Spark) stores UTC instants
    "timestamp": (pa.timestamp("us", tz="UTC"), "TIMESTAMP"),
    "date": (pa.date32(), "DATE"),
    "binary": (pa.binary(), "VARBINARY"),
}
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_TEMPLATE_VAR = re.compile(r"\\\$\\\{([A-Za-z_][A-Za-z0-9_]*)\\\}")


def _base_type(glue_type: str) -> str:
    return glue_type.strip().lower().split("(", 1)[0]


def arrow_type(glue_type: str) -> pa.DataType:
    """The Arrow type of a Glue column type (raises :class:`UnsupportedTableError`)."""
    decimal = _DECIMAL.match(glue_type.strip().lower())
    if decimal:
        return pa.decimal128(int(decimal.group(1)), int(decimal.group(2)))
    try:
        return _PRIMITIVES[_base_type(glue_type)][0]
    except KeyError:
        raise UnsupportedTableError(
            f"column type {glue_type!r} is not supported by the local engine"
        ) from None


def sql_type(glue_type: str) -> str:
    """The SQL type sqlglot annotates a Glue column with."""
    decimal = _DECIMAL.match(glue_type.strip().lower())
    if decimal:
        return f"DECIMAL({decimal.group(1)}, {decimal.group(2)})"
    try:
        return _PRIMITIVES[_base_type(glue_type)][1]
    except KeyError:
        raise UnsupportedTableError(
            f"column type {glue_type!r} is not supported by the local engine"
        ) from None


@dataclass(frozen=True, slots=True)
class Column:
    """A column with its Glue type (``string``, ``bigint``, ``timestamp``, ``decimal(10,2)``...)."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Partition:
    """A registered partition: its values (in partition-key order) and its folder."""

    values: tuple[str, ...]
    location: str


@dataclass(frozen=True)
class CatalogTable:
    """One table of the catalog, as Athena reads it (see the module docstring)."""

    database: str
    name: str
    location: str
    columns: tuple[Column, ...]
    partition_keys: tuple[Column, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)
    partitions: tuple[Partition, ...] | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_glue(
        cls, table: Mapping[str, Any], partitions: Iterable[Mapping[str, Any]] | None = None
    ) -> CatalogTable:
        """From ``GetTable``'s ``Table`` and, without projection, ``GetPartitions``' list."""
        descriptor = table.get("StorageDescriptor") or {}
        location = descriptor.get("Location") or ""
        if not location:
            raise UnsupportedTableError(f"table {table.get('Name')!r} has no location")
        serde = (descriptor.get("SerdeInfo") or {}).get("SerializationLibrary") or ""
        input_format = descriptor.get("InputFormat") or ""
        if "parquet" not in (serde + input_format).lower():
            raise UnsupportedTableError(
                f"table {table.get('Name')!r} is not Parquet (SerDe {serde or 'none'}): "
                "the local engine reads Parquet tables only"
            )
        registered = None
        if partitions is not None:
            registered = tuple(
                Partition(
                    tuple(p.get("Values") or ()),
                    (p.get("StorageDescriptor") or {}).get("Location") or "",
                )
                for p in partitions
            )
        return cls(
            database=str(table.get("DatabaseName") or ""),
            name=str(table["Name"]),
            location=location,
            columns=tuple(Column(c["Name"], c["Type"]) for c in descriptor.get("Columns") or ()),
            partition_keys=tuple(
                Column(c["Name"], c["Type"]) for c in table.get("PartitionKeys") or ()
            ),
            parameters=dict(table.get("Parameters") or {}),
            partitions=registered,
        )

    @classmethod
    def builtin(cls, database: str, location: str = EVENTS_PREFIX) -> CatalogTable:
        """The ``events`` table from the event contract: the fallback without a catalog.

        Partitions are the Hive folders under the location (what projection without a template
        reads, so the fallback and the catalog agree on the same layout).
        """
        return cls(
            database=database,
            name=TABLE_NAME,
            location=location,
            columns=tuple(Column(f.name, GLUE_TYPES[f.type]) for f in FIELDS),
            partition_keys=tuple(Column(key, "string") for key in PARTITION_KEYS),
            parameters={"projection.enabled": "true"}
            | {f"projection.{key}.type": "injected" for key in PARTITION_KEYS},
        )

    # ------------------------------------------------------------------ schema
    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def partition_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.partition_keys)

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Data columns then partition keys: Athena's ``SELECT *`` order."""
        return self.columns + self.partition_keys

    def sql_types(self) -> dict[str, str]:
        """Column -> SQL type, for sqlglot's schema (qualification and type annotation)."""
        return {c.name: sql_type(c.type) for c in self.all_columns}

    def data_schema(self) -> pa.Schema:
        """Arrow schema of the data columns (what the Parquet files hold)."""
        return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in self.columns])

    def partition_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, arrow_type(c.type)) for c in self.partition_keys])

    # ------------------------------------------------------------------ files
    @property
    def projection_enabled(self) -> bool:
        return str(self.parameters.get("projection.enabled", "")).lower() == "true"

    def partition_of(self, path: str) -> dict[str, str] | None:
        """The partition values of the file at ``path``, or ``None`` if Athena would not read it.

        ``path`` may carry a scheme (``s3://b/k``) or not (``b/k``, as pyarrow lists S3).
        """
        key = strip_scheme(path)
        if not key.startswith(strip_scheme(self.location).rstrip("/") + "/"):
            return None
        if not self.partition_keys:
            return {}
        if self.projection_enabled:
            values = self._template_values(key)
            if values is None or not all(
                projected_value_allowed(self.parameters, name, values[name])
                for name in self.partition_names
            ):
                return None
            return values
        for partition in self.partitions or ():
            folder = strip_scheme(partition.location).rstrip("/") + "/"
            if partition.location and key.startswith(folder):
                return dict(zip(self.partition_names, partition.values, strict=False))
        return None

    def _template_values(self, key: str) -> dict[str, str] | None:
        template = self.parameters.get("storage.location.template")
        if template:
            pattern = _TEMPLATE_VAR.sub(
                lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(strip_scheme(template).rstrip("/"))
            )
            match = re.match(pattern + "/", key)
            if not match:
                return None
            values = match.groupdict()
            return values if set(values) == set(self.partition_names) else None
        # no template: Hive folders key=value in partition-key order under the location
        rest = key[len(strip_scheme(self.location).rstrip("/")) + 1 :].split("/")
        if len(rest) <= len(self.partition_keys):
            return None
        values = {}
        for name, folder in zip(self.partition_names, rest, strict=False):
            folder_key, sep, value = folder.partition("=")
            if not sep or folder_key != name:
                return None
            values[name] = value
        return values


def strip_scheme(path: str) -> str:
    """``s3://bucket/key`` -> ``bucket/key`` (pyarrow's S3 paths have no scheme)."""
    return re.sub(r"^[a-z0-9]+://", "", path.replace("\\", "/"))


def projected_value_allowed(parameters: Mapping[str, str], name: str, value: str) -> bool:
    """Is ``value`` inside the projection of partition column ``name``?"""
    kind = parameters.get(f"projection.{name}.type", "").lower()
    if kind == "injected":
        return True
    if kind == "enum":
        allowed = parameters.get(f"projection.{name}.values", "")
        return value in {v.strip() for v in allowed.split(",")}
    if kind == "integer":
        low, high = _range(parameters, name)
        digits = int(parameters.get(f"projection.{name}.digits", "0") or 0)
        if not value.lstrip("-").isdigit() or (digits and len(value.lstrip("-")) != digits):
            return False
        return int(low) <= int(value) <= int(high)
    if kind == "date":
        fmt = _java_to_strftime(parameters.get(f"projection.{name}.format", "yyyy-MM-dd"))
        low, high = _range(parameters, name)
        try:
            when = dt.datetime.strptime(value, fmt)
        except ValueError:
            return False
        return _date_bound(low, fmt) <= when <= _date_bound(high, fmt)
    raise UnsupportedTableError(
        f"partition projection type {kind or '(missing)'!r} of column {name!r} is not supported"
    )


def _range(parameters: Mapping[str, str], name: str) -> tuple[str, str]:
    raw = parameters.get(f"projection.{name}.range", "")
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) != 2:
        raise UnsupportedTableError(f"projection.{name}.range {raw!r} is not 'low,high'")
    return parts[0], parts[1]


_JAVA_DATE = (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S"))


def _java_to_strftime(java: str) -> str:
    out = java
    for java_token, c_token in _JAVA_DATE:
        out = out.replace(java_token, c_token)
    return out


def _date_bound(bound: str, fmt: str) -> dt.datetime:
    """A date range bound: a date in the format, or ``NOW`` (offsets are read as NOW)."""
    if bound.upper().startswith("NOW"):
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return dt.datetime.strptime(bound, fmt)


def table_files(
    table: CatalogTable, listing: Iterable[tuple[str, int]]
) -> list[tuple[str, dict[str, str], int]]:
    """``(path, size)`` pairs -> the table's files with their partition values, sorted by path."""
    kept = []
    for path, size in listing:
        name = path.rsplit("/", 1)[-1]
        if name.startswith(("_", ".")) or name.endswith("$folder$"):
            continue  # hidden files, and folder markers: Athena skips them; it reads the rest
        values = table.partition_of(path)
        if values is not None:
            kept.append((path, values, size))
    return sorted(kept, key=lambda f: f[0])
