"""Catalog DDL: databases, DROP TABLE, ALTER TABLE (properties, partitions), MSCK REPAIR TABLE.

Athena runs these as Hive DDL, so failures read as Hive's (``FAILED: SemanticException ...``).
``DROP TABLE`` removes the Glue table and keeps its data, as Athena does for its external (Hive)
tables; only an Iceberg table, which Athena manages, loses its data with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from athena_local.glue_table import CatalogTable, strip_scheme
from clickstream_emulator.athena import glue_shapes, writer
from clickstream_emulator.athena.ports import Catalog, Context
from clickstream_emulator.athena.relations import Execution, load_table, table_not_found
from clickstream_emulator.athena.results import (
    TXT,
    USER,
    Outcome,
    QueryFailed,
    column_entry,
    ddl,
    not_supported,
)
from clickstream_emulator.athena.statement import Statement, split_name

_DDL_TASK = "FAILED: Execution Error, return code 1 from org.apache.hadoop.hive.ql.exec.DDLTask."


def _hive(message: str) -> QueryFailed:
    return QueryFailed(message, USER, 1006)


# ---------------------------------------------------------------------------- databases
def create_database(
    statement: Statement, ctx: Context, cat: Catalog, execution: Execution
) -> Outcome:
    node = statement.tree.this
    name = (node.name or node.db).lower() if isinstance(node, exp.Table) else str(node).lower()
    props = statement.tree.args.get("properties")
    description, location = "", ""
    for prop in props.expressions if props is not None else ():
        if isinstance(prop, exp.SchemaCommentProperty):
            description = prop.this.name
        elif isinstance(prop, exp.LocationProperty):
            location = prop.this.name
    if cat.get_database(name) is not None:
        if statement.tree.args.get("exists"):
            return ddl("CREATE_DATABASE")
        raise _hive(f"{_DDL_TASK} Database {name} already exists")
    cat.create_database(glue_shapes.database_input(name, description, location))
    return ddl("CREATE_DATABASE")


def drop_database(
    statement: Statement, ctx: Context, cat: Catalog, execution: Execution
) -> Outcome:
    for node in statement.tree.args.get("tables") or []:
        name = (node.name or node.db).lower()
        if cat.get_database(name) is None:
            if statement.tree.args.get("exists"):
                continue
            raise _hive(f"FAILED: SemanticException [Error 10072]: Database does not exist: {name}")
        tables = cat.list_tables(name)
        if tables and not statement.tree.args.get("cascade"):
            raise _hive(
                f"{_DDL_TASK} InvalidOperationException(message:Database {name} is not empty. "
                "One or more tables exist.)"
            )
        for table in tables:
            cat.delete_table(name, str(table["Name"]))
        cat.delete_database(name)
    return ddl("DROP_DATABASE")


# ---------------------------------------------------------------------------- tables
def drop_table(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    for node in statement.tree.args.get("tables") or []:
        db, name = split_name(node, ctx.database)
        glue = cat.get_table(db, name)
        if glue is None:
            if statement.tree.args.get("exists"):
                continue
            raise _hive(f"FAILED: SemanticException [Error 10001]: Table not found {db}.{name}")
        if glue_shapes.is_view(glue):
            raise _hive(
                f"FAILED: SemanticException [Error 10137]: Cannot drop a view with DROP TABLE: {db}.{name}"
            )
        cat.delete_table(db, name)
        parameters = glue.get("Parameters") or {}
        if str(parameters.get("table_type", "")).upper() == "ICEBERG":
            location = (glue.get("StorageDescriptor") or {}).get("Location")
            if location:
                writer.delete_under(cat.filesystem(), location)
    return ddl("DROP_TABLE")


def _table(
    statement: Statement, ctx: Context, cat: Catalog, node: exp.Table
) -> tuple[str, str, dict[str, Any]]:
    db, name = split_name(node, ctx.database)
    glue = cat.get_table(db, name)
    if glue is None:
        raise table_not_found(statement.sql, node, db, name)
    return db, name, dict(glue)


def alter_table(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    node = statement.tree.this
    db, name, glue = _table(statement, ctx, cat, node)
    substatement = "ALTER_TABLE"
    for action in statement.tree.args.get("actions") or []:
        if (
            isinstance(action, exp.AlterSet)
            and action.expressions
            and isinstance(action.expressions[0], exp.Properties)
        ):
            updated = glue_shapes.editable(glue)
            parameters = dict(updated.get("Parameters") or {})
            for prop in action.expressions[0].expressions:
                key = prop.this.name if isinstance(prop.this, exp.Literal) else prop.name
                value = prop.args.get("value")
                parameters[str(key)] = value.name if isinstance(value, exp.Expr) else str(value)
            updated["Parameters"] = parameters
            cat.update_table(db, updated)
            glue = updated
            substatement = "ALTER_TABLE_SET_TBLPROPERTIES"
        elif isinstance(action, exp.DropPartition):
            table = load_table(cat, glue, db, name)
            values = [_partition_values(table, p) for p in action.expressions]
            existing = {tuple(p.get("Values") or ()) for p in cat.get_partitions(db, name)}
            missing = [v for v in values if tuple(v) not in existing]
            if missing and not action.args.get("exists"):
                raise _hive(
                    f"FAILED: SemanticException [Error 10006]: Partition not found "
                    f"{_spec(table.partition_names, missing[0])}"
                )
            cat.delete_partitions(db, name, [v for v in values if tuple(v) in existing])
            substatement = "ALTER_TABLE_DROP_PARTITION"
        elif isinstance(action, exp.AddPartition):
            spec = {
                eq.this.name.lower(): eq.expression.name
                for eq in action.this.expressions
                if isinstance(eq, exp.EQ)
            }
            location = action.args.get("location")
            folder = location.this.name if isinstance(location, exp.LocationProperty) else ""
            _add(statement, ctx, cat, node, [(spec, folder)], bool(action.args.get("exists")))
            substatement = "ALTER_TABLE_ADD_PARTITION"
        elif isinstance(action, exp.AlterRename):
            raise not_supported("ALTER TABLE RENAME TO (Athena renames Iceberg tables only)")
        else:
            raise not_supported(f"ALTER TABLE {action.key.upper()}")
    return ddl(substatement)


def _spec(names: Sequence[str], values: Sequence[str]) -> str:
    return "(" + ", ".join(f"{k}='{v}'" for k, v in zip(names, values, strict=False)) + ")"


def _partition_values(table: CatalogTable, partition: exp.Expr) -> list[str]:
    given: dict[str, str] = {}
    for eq in partition.expressions:
        if not isinstance(eq, exp.EQ):
            raise QueryFailed(
                "SYNTAX_ERROR: line 1:1: a partition spec is key = 'value', ...", USER
            )
        given[eq.this.name.lower()] = eq.expression.name
    if set(given) != set(table.partition_names):
        raise _hive(
            "FAILED: SemanticException [Error 10098]: Non-Partition column appears in the partition "
            f"specification: {sorted(set(given) - set(table.partition_names)) or 'missing keys'}"
        )
    return [given[k] for k in table.partition_names]


_ADD = re.compile(
    r"^\s*TABLE\s+(\S+)\s+ADD\s+(IF\s+NOT\s+EXISTS\s+)?(.*)$", re.IGNORECASE | re.DOTALL
)
_ONE = re.compile(
    r"\s*PARTITION\s*\(([^)]*)\)\s*(?:LOCATION\s+'((?:[^']|'')*)')?\s*", re.IGNORECASE
)
_KV = re.compile(r"\s*[`\"]?(\w+)[`\"]?\s*=\s*('(?:[^']|'')*'|[\w.-]+)\s*(?:,|$)")


def add_partition(
    statement: Statement, ctx: Context, cat: Catalog, execution: Execution
) -> Outcome:
    """``ALTER TABLE t ADD [IF NOT EXISTS] PARTITION (k='v', ...) [LOCATION '...'] ...`` (several
    partitions: sqlglot keeps the statement as text)."""
    match = _ADD.match(statement.rest)
    if match is None:
        raise not_supported(f"ALTER {statement.rest.split(' ADD ')[0][:40]} ADD ...")
    table_node = exp.to_table(match.group(1).replace("`", '"'), dialect="athena")
    rest, position, specs = match.group(3), 0, []
    while position < len(rest):
        one = _ONE.match(rest, position)
        if one is None:
            raise QueryFailed(
                f"SYNTAX_ERROR: line 1:1: cannot read the partition at {rest[position : position + 30]!r}",
                USER,
            )
        given = {
            m.group(1).lower(): m.group(2).strip("'").replace("''", "'")
            for m in _KV.finditer(one.group(1))
        }
        specs.append((given, (one.group(2) or "").replace("''", "'")))
        position = one.end()
    return _add(statement, ctx, cat, table_node, specs, bool(match.group(2)))


def _add(
    statement: Statement,
    ctx: Context,
    cat: Catalog,
    node: exp.Table,
    specs: Sequence[tuple[dict[str, str], str]],
    if_not_exists: bool,
) -> Outcome:
    db, name, glue = _table(statement, ctx, cat, node)
    table = load_table(cat, glue, db, name)
    partitions = []
    for given, location in specs:
        if set(given) != set(table.partition_names):
            raise _hive(
                "FAILED: SemanticException [Error 10098]: Non-Partition column appears in the "
                f"partition specification: {sorted(set(given) ^ set(table.partition_names))}"
            )
        values = [given[k] for k in table.partition_names]
        folder = location or (
            table.location.rstrip("/")
            + "/"
            + "/".join(f"{k}={v}" for k, v in zip(table.partition_names, values, strict=True))
            + "/"
        )
        partitions.append((values, folder))
    existing = {tuple(p.get("Values") or ()) for p in cat.get_partitions(db, name)}
    duplicate = [v for v, _ in partitions if tuple(v) in existing]
    if duplicate and not if_not_exists:
        raise _hive(
            f"{_DDL_TASK} AlreadyExistsException(message:Partition already exists: "
            f"{_spec(table.partition_names, duplicate[0])})"
        )
    descriptor = dict(glue.get("StorageDescriptor") or {})
    cat.create_partitions(
        db,
        name,
        [
            {"Values": values, "StorageDescriptor": descriptor | {"Location": folder}}
            for values, folder in partitions
            if tuple(values) not in existing
        ],
    )
    return ddl("ALTER_TABLE_ADD_PARTITION")


# ---------------------------------------------------------------------------- MSCK REPAIR
def hive_folders(table: CatalogTable, paths: Sequence[str]) -> dict[tuple[str, ...], str]:
    """Partition values -> folder (``s3://…/k=v/…/``) of every Hive folder holding an object."""
    root = strip_scheme(table.location).rstrip("/")
    scheme = table.location[: len(table.location) - len(strip_scheme(table.location))]
    folders: dict[tuple[str, ...], str] = {}
    for path in paths:
        key = strip_scheme(path)
        if not key.startswith(root + "/"):
            continue
        parts = key[len(root) + 1 :].split("/")
        if len(parts) <= len(table.partition_keys):
            continue
        values = []
        for name, part in zip(table.partition_names, parts, strict=False):
            folder_key, sep, value = part.partition("=")
            if not sep or folder_key != name:
                break
            values.append(value)
        else:
            depth = "/".join(parts[: len(table.partition_keys)])
            folders.setdefault(tuple(values), f"{scheme}{root}/{depth}/")
    return folders


def msck_repair(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    """Register the Hive folders that hold data but no partition yet, with Hive's report lines."""
    words = statement.rest.split()
    raw = words[-1] if words else ""
    node = exp.to_table(raw.replace("`", '"'), dialect="athena")
    db, name, glue = _table(statement, ctx, cat, node)
    glue = dict(glue) | {"DatabaseName": glue.get("DatabaseName") or db}
    table = load_table(cat, glue, db, name)
    if table.partitions is None:
        table = CatalogTable.from_glue(glue, cat.get_partitions(db, name))
    registered = {p.values for p in table.partitions or ()}
    found = hive_folders(table, cat.list_paths(table.location))
    missing = sorted(values for values in found if values not in registered)
    descriptor = dict(glue.get("StorageDescriptor") or {})
    cat.create_partitions(
        db,
        name,
        [
            {"Values": list(values), "StorageDescriptor": descriptor | {"Location": found[values]}}
            for values in missing
        ],
    )
    labels = [
        f"{name}:"
        + "/".join(f"{k}={v}" for k, v in zip(table.partition_names, values, strict=True))
        for values in missing
    ]
    lines = []
    if labels:
        lines.append("Partitions not in metastore:\t" + "\t".join(labels))
        lines += [f"Repair: Added partition to metastore {label}" for label in labels]
    return Outcome(
        columns=[column_entry("result", "string")],
        rows=[[line] for line in lines],
        statement_type="DDL",
        substatement_type="MSCK_REPAIR_TABLE",
        layout=TXT,
    )


def create_table(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    raise not_supported(
        "CREATE [EXTERNAL] TABLE with a column list (define tables with Terraform/Glue, or CTAS)"
    )
