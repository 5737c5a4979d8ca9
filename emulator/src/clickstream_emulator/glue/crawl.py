"""What a Glue crawler run decides, as pure functions over file schemas and S3 keys.

The provider (``crawler.py``) lists the crawler's S3 targets and reads each Parquet footer; this
module turns those schemas into the catalog changes a crawler makes: the table (columns with Glue's
type mapping, Hive ``k=v`` folders as string partition keys), the partitions to register, update
or retire, and the folders whose files disagree with the table (``HIVE_PARTITION_SCHEMA_MISMATCH``,
the error Athena would raise reading them). No I/O here, so every rule is unit-tested with real
Parquet footers and no LocalStack.
"""

from __future__ import annotations

import fnmatch
import io
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PARQUET_MAGIC = b"PAR1"
#: Bytes at the end of a Parquet file: 4-byte little-endian footer length + magic.
TAIL_SIZE = 8

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
MISMATCH = "HIVE_PARTITION_SCHEMA_MISMATCH"


class NotParquetError(ValueError):
    """The object is not a Parquet file (no magic, or a footer that does not parse)."""


class UnsupportedTypeError(ValueError):
    """An Arrow type with no Hive equivalent."""


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class DataFile:
    """One crawled object: its key relative to the target path and what its footer says."""

    key: str
    columns: tuple[Column, ...]
    rows: int
    size: int


@dataclass(frozen=True, slots=True)
class CrawlerSettings:
    """The parts of a crawler's definition that change what a run writes to the catalog."""

    update_behavior: str = "UPDATE_IN_DATABASE"  # or LOG
    delete_behavior: str = "DEPRECATE_IN_DATABASE"  # or LOG, DELETE_FROM_DATABASE
    recrawl_behavior: str = "CRAWL_EVERYTHING"  # or CRAWL_NEW_FOLDERS_ONLY
    partitions_inherit_from_table: bool = False
    tables_merge_new_columns: bool = False
    combine_compatible_schemas: bool = False
    table_prefix: str = ""


@dataclass
class CrawlPlan:
    """The catalog changes of one target, and what the crawl log says about them."""

    table_name: str
    create_table: dict[str, Any] | None = None
    update_table: dict[str, Any] | None = None
    create_partitions: list[dict[str, Any]] = field(default_factory=list)
    update_partitions: list[dict[str, Any]] = field(default_factory=list)
    delete_partitions: list[list[str]] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- types
_SIMPLE_TYPES: dict[str, str] = {
    "bool": "boolean",
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "uint8": "smallint",
    "uint16": "int",
    "uint32": "bigint",
    "uint64": "bigint",
    "halffloat": "float",
    "float": "float",
    "double": "double",
    "string": "string",
    "large_string": "string",
    "string_view": "string",
    "binary": "binary",
    "large_binary": "binary",
    "fixed_size_binary": "binary",
    "date32[day]": "date",
    "date64[ms]": "date",
}


def glue_type(arrow_type: pa.DataType) -> str:
    """The Hive type name a Glue crawler catalogs for a Parquet column of this Arrow type."""
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision},{arrow_type.scale})"
    if pa.types.is_dictionary(arrow_type):
        return glue_type(arrow_type.value_type)
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"array<{glue_type(arrow_type.value_type)}>"
    if pa.types.is_map(arrow_type):
        return f"map<{glue_type(arrow_type.key_type)},{glue_type(arrow_type.item_type)}>"
    if pa.types.is_struct(arrow_type):
        inner = ",".join(
            f"{arrow_type.field(i).name}:{glue_type(arrow_type.field(i).type)}"
            for i in range(arrow_type.num_fields)
        )
        return f"struct<{inner}>"
    if pa.types.is_fixed_size_binary(arrow_type):
        return "binary"
    name = str(arrow_type)
    if name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[name]
    raise UnsupportedTypeError(f"no Glue type for Parquet/Arrow type {name}")


# ---------------------------------------------------------------------------- footers
def footer_length(tail: bytes) -> int:
    """Length of the footer from the last 8 bytes of a Parquet file."""
    if len(tail) != TAIL_SIZE or tail[4:] != PARQUET_MAGIC:
        raise NotParquetError("no Parquet magic at the end of the object")
    (length,) = struct.unpack("<I", tail[:4])
    return length


def read_footer(footer_and_tail: bytes) -> tuple[tuple[Column, ...], int]:
    """Columns (Glue types) and row count from the bytes ``footer + length + PAR1``.

    Only the end of a file is needed: the footer is parsed as if it followed a bare magic number,
    so a crawl reads a few KB per object, as Glue does, not the data.
    """
    try:
        metadata = pq.read_metadata(io.BytesIO(PARQUET_MAGIC + footer_and_tail))
        schema = metadata.schema.to_arrow_schema()
    except (OSError, pa.ArrowException) as exc:
        raise NotParquetError(f"unreadable Parquet footer: {exc}") from None
    columns = tuple(Column(f.name.lower(), glue_type(f.type)) for f in schema)
    return columns, metadata.num_rows


# ---------------------------------------------------------------------------- keys
_HIVE_FOLDER = re.compile(r"^([^=/]+)=([^/]*)$")


def partition_of(key: str) -> tuple[tuple[str, str], ...]:
    """Partition (name, value) pairs of a key relative to the target: ``year=2024/a.parquet``.

    Hive folders ``k=v`` give key ``k``; other folders get Glue's names ``partition_0``, ...
    """
    folders = key.split("/")[:-1]
    pairs = []
    for index, folder in enumerate(folders):
        match = _HIVE_FOLDER.match(folder)
        pairs.append(
            (match.group(1).lower(), match.group(2)) if match else (f"partition_{index}", folder)
        )
    return tuple(pairs)


def is_hidden(key: str) -> bool:
    """Files and folders starting with ``_`` or ``.`` (``_SUCCESS``, ``.tmp``) are not data."""
    return any(part.startswith(("_", ".")) for part in key.split("/")) or key.endswith("$folder$")


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Glue exclusion globs: ``*`` within a folder, ``**`` across folders, ``?``, ``[..]``, ``{a,b}``."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{":
            end = pattern.find("}", i)
            if end > i:
                out.append(
                    "(?:" + "|".join(re.escape(p) for p in pattern[i + 1 : end].split(",")) + ")"
                )
                i = end + 1
                continue
            out.append(re.escape(char))
        elif char == "[":
            end = pattern.find("]", i)
            if end > i:
                out.append(fnmatch.translate(pattern[i : end + 1])[4:-3])
                i = end + 1
                continue
            out.append(re.escape(char))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def is_excluded(key: str, patterns: list[str]) -> bool:
    """Whether a key (relative to the include path) matches one of the target's exclusions."""
    return any(_glob_regex(p).match(key) for p in patterns)


def table_name_for(target_path: str, prefix: str = "") -> str:
    """Glue names a table after the last folder of its include path (lowercase, ``_`` for others)."""
    folder = target_path.rstrip("/").rsplit("/", 1)[-1]
    return prefix + re.sub(r"[^a-z0-9_]", "_", folder.lower())


def settings_from_crawler(
    crawler: dict[str, Any], configuration: dict[str, Any]
) -> CrawlerSettings:
    """CrawlerSettings from a GetCrawler answer and its parsed ``Configuration`` JSON."""
    policy = crawler.get("SchemaChangePolicy") or {}
    output = configuration.get("CrawlerOutput") or {}
    return CrawlerSettings(
        update_behavior=policy.get("UpdateBehavior") or "UPDATE_IN_DATABASE",
        delete_behavior=policy.get("DeleteBehavior") or "DEPRECATE_IN_DATABASE",
        recrawl_behavior=(crawler.get("RecrawlPolicy") or {}).get("RecrawlBehavior")
        or "CRAWL_EVERYTHING",
        partitions_inherit_from_table=(output.get("Partitions") or {}).get("AddOrUpdateBehavior")
        == "InheritFromTable",
        tables_merge_new_columns=(output.get("Tables") or {}).get("AddOrUpdateBehavior")
        == "MergeNewColumns",
        combine_compatible_schemas=(configuration.get("Grouping") or {}).get("TableGroupingPolicy")
        == "CombineCompatibleSchemas",
        table_prefix=crawler.get("TablePrefix") or "",
    )


# ---------------------------------------------------------------------------- the plan
def _columns_json(columns: list[Column] | tuple[Column, ...]) -> list[dict[str, str]]:
    return [{"Name": c.name, "Type": c.type} for c in columns]


def _storage(
    location: str, columns: list[Column] | tuple[Column, ...], params: dict[str, str]
) -> dict[str, Any]:
    return {
        "Columns": _columns_json(columns),
        "Location": location,
        "InputFormat": PARQUET_INPUT,
        "OutputFormat": PARQUET_OUTPUT,
        "Compressed": False,
        "NumberOfBuckets": -1,
        "SerdeInfo": {
            "SerializationLibrary": PARQUET_SERDE,
            "Parameters": {"serialization.format": "1"},
        },
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": params,
        "StoredAsSubDirectories": False,
    }


def _stats(files: list[DataFile], crawler_name: str) -> dict[str, str]:
    rows = sum(f.rows for f in files)
    size = sum(f.size for f in files)
    return {
        "classification": "parquet",
        "compressionType": "none",
        "typeOfData": "file",
        "objectCount": str(len(files)),
        "recordCount": str(rows),
        "sizeKey": str(size),
        "averageRecordSize": str(size // rows if rows else 0),
        "UPDATED_BY_CRAWLER": crawler_name,
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
    }


def _conflicts(columns: dict[str, str], other: tuple[Column, ...]) -> list[tuple[str, str, str]]:
    return [
        (c.name, columns[c.name], c.type)
        for c in other
        if c.name in columns and columns[c.name] != c.type
    ]


def _majority_schema(files: list[DataFile]) -> list[Column]:
    """The table schema of files crawled together: every column, typed as most files type it.

    Column order is first appearance in key order; a type tie goes to the first file's type.
    """
    order: list[str] = []
    votes: dict[str, Counter[str]] = {}
    for f in sorted(files, key=lambda f: f.key):
        for c in f.columns:
            if c.name not in votes:
                order.append(c.name)
                votes[c.name] = Counter()
            votes[c.name][c.type] += 1
    return [Column(name, votes[name].most_common(1)[0][0]) for name in order]


def _mismatch(
    database: str, table: str, folder: str, column: str, declared: str, found: str, where: str
) -> str:
    return (
        f"{MISMATCH}: There is a mismatch between the table and partition schemas. The column "
        f"'{column}' in table '{database}.{table}' is declared as type '{declared}', but partition "
        f"'{folder}' declared column '{column}' as type '{found}' ({where})."
    )


def _differs(existing: dict[str, Any], proposed: dict[str, Any]) -> bool:
    """Whether an update would change the table (a crawl of unchanged data writes no new version)."""

    def shape(table: dict[str, Any]) -> tuple[Any, ...]:
        storage = table.get("StorageDescriptor") or {}
        columns = [(c["Name"], c["Type"]) for c in storage.get("Columns") or []]
        keys = [(k["Name"], k["Type"]) for k in table.get("PartitionKeys") or []]
        return columns, keys, storage.get("Location"), table.get("Parameters") or {}

    return shape(existing) != shape(proposed)


def plan_crawl(
    *,
    target_path: str,
    files: list[DataFile],
    existing_table: dict[str, Any] | None,
    existing_partitions: list[list[str]],
    settings: CrawlerSettings,
    crawler_name: str,
    database: str,
) -> CrawlPlan:
    """The catalog changes one crawl of ``target_path`` makes, given the files found under it.

    ``files`` have keys relative to ``target_path`` (already without hidden or excluded keys).
    ``existing_table`` is the table's GetTable answer (or None); ``existing_partitions`` the
    values of its registered partitions.
    """
    base = target_path if target_path.endswith("/") else target_path + "/"
    name = table_name_for(base, settings.table_prefix)
    plan = CrawlPlan(table_name=name)
    registered = {tuple(v) for v in existing_partitions}

    # One layout (partition key names) per table: the one most files use; others are reported.
    layouts = Counter(tuple(k for k, _ in partition_of(f.key)) for f in files)
    if not layouts:
        plan.messages.append(f"No data files under {base}: table {name} is not created or changed.")
        return plan
    layout = layouts.most_common(1)[0][0]
    for f in files:
        if tuple(k for k, _ in partition_of(f.key)) != layout:
            plan.messages.append(
                f"Skipped {base}{f.key}: its folders {'/'.join(f.key.split('/')[:-1]) or '(root)'} "
                f"do not follow the table's partition layout {'/'.join(layout) or '(none)'}."
            )
    files = [f for f in files if tuple(k for k, _ in partition_of(f.key)) == layout]

    by_folder: dict[tuple[str, ...], list[DataFile]] = {}
    for f in sorted(files, key=lambda f: f.key):
        by_folder.setdefault(tuple(v for _, v in partition_of(f.key)), []).append(f)
    if settings.recrawl_behavior == "CRAWL_NEW_FOLDERS_ONLY" and layout:
        by_folder = {v: fs for v, fs in by_folder.items() if v not in registered}

    # The table's columns: kept, merged with new columns, or replaced, per the schema change policy.
    crawled = _majority_schema([f for fs in by_folder.values() for f in fs])
    if existing_table is None:
        table_columns = crawled
    else:
        existing = [
            Column(c["Name"], c["Type"])
            for c in (existing_table.get("StorageDescriptor") or {}).get("Columns") or []
        ]
        known = {c.name for c in existing}
        added = [c for c in crawled if c.name not in known]
        # MergeNewColumns adds columns and never changes existing ones; otherwise the crawl wins.
        proposed = existing + added if settings.tables_merge_new_columns else crawled
        if proposed != existing and settings.update_behavior == "LOG":
            plan.messages.append(
                f"Table {database}.{name} would change (columns {_columns_json(proposed)}); "
                "UpdateBehavior LOG: left as it is."
            )
            proposed = existing
        table_columns = proposed

    types = {c.name: c.type for c in table_columns}
    good: dict[tuple[str, ...], list[DataFile]] = {}
    for values, folder_files in by_folder.items():
        folder = "/".join(f"{k}={v}" for k, v in zip(layout, values, strict=True)) or "(root)"
        problems = [
            _mismatch(database, name, folder, col, declared, found, f"file {base}{f.key}")
            for f in folder_files
            for col, declared, found in _conflicts(types, f.columns)
        ]
        if problems:
            plan.mismatches.extend(problems)
        else:
            good[values] = folder_files

    all_files = [f for fs in good.values() for f in fs]
    location = base
    table_input: dict[str, Any] = {
        "Name": name,
        "StorageDescriptor": _storage(location, table_columns, _stats(all_files, crawler_name)),
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in layout],
        "TableType": "EXTERNAL_TABLE",
        "Parameters": _stats(all_files, crawler_name),
    }
    if existing_table is None:
        plan.create_table = table_input
        plan.messages.append(f"Created table {name} in database {database}.")
    elif settings.update_behavior == "UPDATE_IN_DATABASE":
        kept = dict(existing_table.get("Parameters") or {})
        table_input["Parameters"] = {**kept, **table_input["Parameters"]}
        if _differs(existing_table, table_input):
            plan.update_table = table_input
            plan.messages.append(f"Updated table {name} in database {database}.")
        else:
            plan.messages.append(f"Table {name} in database {database} is unchanged.")

    if not layout:
        return plan
    for values, folder_files in good.items():
        folder = "/".join(f"{k}={v}" for k, v in zip(layout, values, strict=True))
        own = _majority_schema(folder_files)
        columns = table_columns if settings.partitions_inherit_from_table else own
        partition = {
            "Values": list(values),
            "StorageDescriptor": _storage(
                f"{base}{folder}/", columns, _stats(folder_files, crawler_name)
            ),
            "Parameters": _stats(folder_files, crawler_name),
        }
        if values not in registered:
            plan.create_partitions.append(partition)
        elif settings.update_behavior == "UPDATE_IN_DATABASE":
            plan.update_partitions.append(partition)

    if settings.recrawl_behavior == "CRAWL_EVERYTHING":
        present = set(by_folder)
        for values in sorted(registered - present):
            folder = "/".join(f"{k}={v}" for k, v in zip(layout, values, strict=False))
            if settings.delete_behavior == "DELETE_FROM_DATABASE":
                plan.delete_partitions.append(list(values))
                plan.messages.append(f"Deleted partition {folder}: no data under it.")
            else:
                plan.messages.append(
                    f"Partition {folder} has no data any more; DeleteBehavior "
                    f"{settings.delete_behavior}: kept in the catalog."
                )
    plan.messages.append(
        f"Partitions: {len(plan.create_partitions)} added, {len(plan.update_partitions)} updated, "
        f"{len(plan.delete_partitions)} deleted, {len(by_folder) - len(good)} with schema mismatches."
    )
    return plan
