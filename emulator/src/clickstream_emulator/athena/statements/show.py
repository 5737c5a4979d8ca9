"""DESCRIBE and SHOW TABLES|DATABASES|SCHEMAS|VIEWS|COLUMNS|PARTITIONS|TBLPROPERTIES|CREATE TABLE|
CREATE VIEW, answered from the Glue catalog with Athena's result shapes.

Each answers one ``string`` column (``tab_name``, ``database_name``, ``field``, ``partition``,
``createtab_stmt``...), one row per line, no header row in ``GetQueryResults``, and a ``.txt``
result file - Athena runs them as Hive utility statements. DESCRIBE prints Hive's padded
``name<TAB>type<TAB>comment`` lines and a ``# Partition Information`` section; SHOW TABLES and
SHOW DATABASES take Hive's patterns (``*`` any characters, ``|`` alternatives). SHOW PARTITIONS
lists the partitions registered in Glue: as on Athena, projected ones are not listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlglot import exp

from clickstream_emulator.athena import glue_shapes
from clickstream_emulator.athena.ports import Catalog, Context
from clickstream_emulator.athena.relations import Execution, table_not_found
from clickstream_emulator.athena.results import USER, Outcome, QueryFailed, not_supported, utility
from clickstream_emulator.athena.statement import Statement, split_name

_NAME = r'(?:"(?:[^"]|"")*"|`[^`]*`|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")*"|`[^`]*`|[\w$]+)){0,2}'


def _table_node(raw: str) -> exp.Table:
    return exp.to_table(raw.replace("`", '"'), dialect="athena")


def _glue_table(
    statement: Statement, ctx: Context, cat: Catalog, node: exp.Table
) -> tuple[str, str, Mapping[str, Any]]:
    db, name = split_name(node, ctx.database)
    glue = cat.get_table(db, name)
    if glue is None:
        raise table_not_found(statement.sql, None, db, name)
    return db, name, glue


def _columns(glue: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list((glue.get("StorageDescriptor") or {}).get("Columns") or [])


def _pattern(raw: str | None) -> Callable[[str], bool]:
    """Hive's SHOW pattern: ``*`` any characters, ``|`` alternatives, case-insensitive."""
    if not raw:
        return lambda _name: True
    alternatives = [re.escape(p.strip()).replace(r"\*", ".*") for p in raw.split("|")]
    regex = re.compile("^(?:" + "|".join(alternatives) + ")$", re.IGNORECASE)
    return lambda name: bool(regex.match(name))


def _pad(*fields: str) -> str:
    return "\t".join(f"{f:<20}" for f in fields)


# ---------------------------------------------------------------------------- DESCRIBE
def describe(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    node = statement.tree.this
    if not isinstance(node, exp.Table):
        raise not_supported("DESCRIBE of a query")
    style = str(statement.tree.args.get("style") or "").upper()
    if style in ("FORMATTED", "EXTENDED"):
        raise not_supported(f"DESCRIBE {style}")
    _, _, glue = _glue_table(statement, ctx, cat, node)
    return utility("DESCRIBE_TABLE", "col_name", describe_lines(glue))


def describe_lines(glue: Mapping[str, Any]) -> list[str]:
    """Hive's DESCRIBE: padded ``name<TAB>type<TAB>comment``, then the partition section."""
    lines = [_pad(c["Name"], c["Type"], c.get("Comment", "")) for c in _columns(glue)]
    keys = list(glue.get("PartitionKeys") or [])
    lines += [_pad(c["Name"], c["Type"], c.get("Comment", "")) for c in keys]
    if keys:
        lines += [
            "\t \t ",
            "# Partition Information\t \t ",
            _pad("# col_name", "data_type", "comment"),
            "\t \t ",
        ]
        lines += [_pad(c["Name"], c["Type"], c.get("Comment", "")) for c in keys]
    return lines


# ---------------------------------------------------------------------------- SHOW
_SHOW = {
    "TABLES": re.compile(
        rf"^TABLES(?:\s+(?:IN|FROM)\s+({_NAME}))?(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.I | re.S
    ),
    "VIEWS": re.compile(
        rf"^VIEWS(?:\s+(?:IN|FROM)\s+({_NAME}))?(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.I | re.S
    ),
    "DATABASES": re.compile(r"^(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'([^']*)')?$", re.I | re.S),
    "COLUMNS": re.compile(
        rf"^COLUMNS\s+(?:IN|FROM)\s+({_NAME})(?:\s+(?:IN|FROM)\s+({_NAME}))?$", re.I | re.S
    ),
    "PARTITIONS": re.compile(rf"^PARTITIONS\s+({_NAME})$", re.I | re.S),
    "TBLPROPERTIES": re.compile(
        rf"^TBLPROPERTIES\s+({_NAME})(?:\s*\(\s*'([^']*)'\s*\))?$", re.I | re.S
    ),
    "CREATE TABLE": re.compile(rf"^CREATE\s+TABLE\s+({_NAME})$", re.I | re.S),
    "CREATE VIEW": re.compile(rf"^CREATE\s+VIEW\s+({_NAME})$", re.I | re.S),
}


def run(statement: Statement, ctx: Context, cat: Catalog, execution: Execution) -> Outcome:
    rest = statement.rest.strip()
    for what, grammar in _SHOW.items():
        match = grammar.match(rest)
        if match:
            return _HANDLERS[what](statement, ctx, cat, match.groups())
    words = rest.split()
    raise not_supported(f"SHOW {' '.join(words[:2]).upper() if words else ''}".strip())


def _database(raw: str | None, ctx: Context, cat: Catalog) -> str:
    name = (raw or ctx.database).strip('`"').lower()
    if cat.get_database(name) is None:
        raise QueryFailed(
            f"FAILED: SemanticException [Error 10072]: Database does not exist: {name}", USER
        )
    return name


def _tables(
    statement: Statement, ctx: Context, cat: Catalog, groups: Sequence[str | None]
) -> Outcome:
    db = _database(groups[0], ctx, cat)
    keep = _pattern(groups[1])
    names = sorted(str(t["Name"]) for t in cat.list_tables(db) if keep(str(t["Name"])))
    return utility("SHOW_TABLES", "tab_name", names)


def _views(
    statement: Statement, ctx: Context, cat: Catalog, groups: Sequence[str | None]
) -> Outcome:
    db = _database(groups[0], ctx, cat)
    keep = _pattern(groups[1])
    names = sorted(
        str(t["Name"])
        for t in cat.list_tables(db)
        if glue_shapes.is_view(t) and keep(str(t["Name"]))
    )
    return utility("SHOW_VIEWS", "views", names)


def _databases(
    statement: Statement, ctx: Context, cat: Catalog, groups: Sequence[str | None]
) -> Outcome:
    keep = _pattern(groups[0])
    names = sorted(str(d["Name"]) for d in cat.list_databases() if keep(str(d["Name"])))
    return utility("SHOW_DATABASES", "database_name", names)


def _columns_of(
    statement: Statement, ctx: Context, cat: Catalog, groups: Sequence[str | None]
) -> Outcome:
    node = _table_node(groups[0] or "")
    if groups[1]:
        node.set("db", exp.to_identifier(groups[1].strip('`"')))
    _, _, glue = _glue_table(statement, ctx, cat, node)
    names = [c["Name"] for c in _columns(glue)] + [
        c["Name"] for c in glue.get("PartitionKeys") or []
    ]
    return utility("SHOW_COLUMNS", "field", [f"{n:<20}" for n in names])


def _partitions(
    statement: Statement, ctx: Context, cat: Catalog, groups: Sequence[str | None]
) -> Outcome:
    db, name, glue = _glue_table(statement, ctx, cat, _table_node(groups[0] or ""))
    keys = [k["Name"] for k in glue.get("PartitionKeys") or ()]
    if not keys:
        raise QueryFailed(
            f"FAILED: SemanticException [Error 10241]: Table {name} is not a partitioned table",
            USER,
        )
    rows = sorted(
        "/".join(f"{k}={v}" for k, v in zip(keys, p.get("Values") or (), strict=False))
        for p in cat.get_partitions(db, name)
    )
    return utility("SHOW_PARTITIONS", "partition", rows)


def _tblproperties(
    statement: Statement, ctx: Context, cat: Catalog, groups: Sequence[str | None]
) -> Outcome:
    _, _, glue = _glue_table(statement, ctx, cat, _table_node(groups[0] or ""))
    parameters = dict(glue.get("Parameters") or {})
    if groups[1]:
        wanted = groups[1]
        if wanted not in parameters:
            return utility(
                "SHOW_TBLPROPERTIES",
                "prpt_name",
                [f"Table default.{wanted} does not have property: {wanted}"],
            )
        return utility("SHOW_TBLPROPERTIES", "prpt_name", [str(parameters[wanted])])
    return utility(
        "SHOW_TBLPROPERTIES", "prpt_name", [f"{k}\t{v}" for k, v in sorted(parameters.items())]
    )


def create_table_lines(db: str, name: str, glue: Mapping[str, Any]) -> list[str]:
    """Hive's SHOW CREATE TABLE of a Glue table."""
    descriptor = glue.get("StorageDescriptor") or {}
    columns = _columns(glue)
    lines = [f"CREATE EXTERNAL TABLE `{db}`.`{name}`("]
    lines += [
        f"  `{c['Name']}` {c['Type']}" + (", " if i < len(columns) - 1 else ")")
        for i, c in enumerate(columns)
    ]
    keys = list(glue.get("PartitionKeys") or [])
    if keys:
        lines.append("PARTITIONED BY ( ")
        lines += [
            f"  `{c['Name']}` {c['Type']}" + (", " if i < len(keys) - 1 else ")")
            for i, c in enumerate(keys)
        ]
    serde = (descriptor.get("SerdeInfo") or {}).get("SerializationLibrary") or ""
    lines += [
        "ROW FORMAT SERDE ",
        f"  '{serde}' ",
        "STORED AS INPUTFORMAT ",
        f"  '{descriptor.get('InputFormat', '')}' ",
        "OUTPUTFORMAT ",
        f"  '{descriptor.get('OutputFormat', '')}'",
        "LOCATION",
        f"  '{descriptor.get('Location', '')}'",
    ]
    parameters = sorted((glue.get("Parameters") or {}).items())
    if parameters:
        lines.append("TBLPROPERTIES (")
        lines += [
            f"  '{k}'='{v}'" + (", " if i < len(parameters) - 1 else ")")
            for i, (k, v) in enumerate(parameters)
        ]
    return lines


def _create_table(
    statement: Statement, ctx: Context, cat: Catalog, groups: Sequence[str | None]
) -> Outcome:
    db, name, glue = _glue_table(statement, ctx, cat, _table_node(groups[0] or ""))
    if glue_shapes.is_view(glue):
        raise QueryFailed(
            f"FAILED: SemanticException [Error 10001]: {db}.{name} is a view: use SHOW CREATE VIEW",
            USER,
        )
    return utility("SHOW_CREATE_TABLE", "createtab_stmt", create_table_lines(db, name, glue))


def _create_view(
    statement: Statement, ctx: Context, cat: Catalog, groups: Sequence[str | None]
) -> Outcome:
    db, name, glue = _glue_table(statement, ctx, cat, _table_node(groups[0] or ""))
    if not glue_shapes.is_view(glue):
        raise QueryFailed(
            f"NOT_SUPPORTED: line 1:1: Relation '{db}.{name}' is a table, not a view", USER
        )
    view = glue_shapes.read_view(glue, db)
    text = f'CREATE VIEW "awsdatacatalog"."{db}"."{name}" SECURITY DEFINER AS\n{view.sql}'
    return utility("SHOW_CREATE_VIEW", "Create View", text.splitlines())


_HANDLERS: dict[str, Callable[[Statement, Context, Catalog, Sequence[str | None]], Outcome]] = {
    "TABLES": _tables,
    "VIEWS": _views,
    "DATABASES": _databases,
    "COLUMNS": _columns_of,
    "PARTITIONS": _partitions,
    "TBLPROPERTIES": _tblproperties,
    "CREATE TABLE": _create_table,
    "CREATE VIEW": _create_view,
}
