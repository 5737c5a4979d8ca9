"""Athena's ``WITH (name = value, ...)`` properties of CTAS and UNLOAD, as plain Python values."""

from __future__ import annotations

import re
from typing import Any

from sqlglot import exp

from clickstream_emulator.athena.results import QueryFailed, not_supported


def _value(node: exp.Expr | None) -> Any:
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else int(float(node.this))
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Array):
        return [_value(v) for v in node.expressions]
    if isinstance(node, (exp.Var, exp.Identifier, exp.Column)):
        return node.name
    if node is None:
        return None
    return node.sql()


def from_tree(properties: exp.Expr | None, statement: str) -> dict[str, Any]:
    """``{name: value}`` of sqlglot's parsed properties (names lower-cased)."""
    found: dict[str, Any] = {}
    for prop in properties.expressions if properties is not None else ():
        if isinstance(prop, exp.PartitionedByProperty):
            found["partitioned_by"] = _value(prop.this)
        elif isinstance(prop, exp.FileFormatProperty):
            found["format"] = _value(prop.this)
        elif isinstance(prop, exp.WithDataProperty):
            found["with_data"] = not prop.args.get("no")
        elif isinstance(prop, exp.Property):
            found[prop.name.lower()] = _value(prop.args.get("value"))
        else:
            raise not_supported(f"{statement} property {prop.sql('athena')!r}")
    return found


_PROPERTY = re.compile(
    r"\s*(\w+)\s*=\s*('(?:[^']|'')*'|ARRAY\s*\[[^\]]*\]|[\w.]+)\s*(,|$)", re.IGNORECASE
)


def from_text(text: str, statement: str) -> dict[str, Any]:
    """``name = value, ...`` (the inside of UNLOAD's WITH, which sqlglot keeps as text)."""
    found: dict[str, Any] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _PROPERTY.match(text, position)
        if match is None:
            raise QueryFailed(
                f"SYNTAX_ERROR: line 1:1: cannot read the {statement} properties at "
                f"{text[position : position + 30]!r}"
            )
        name, raw = match.group(1).lower(), match.group(2)
        if raw.startswith("'"):
            value: Any = raw[1:-1].replace("''", "'")
        elif raw.upper().startswith("ARRAY"):
            inside = raw[raw.index("[") + 1 : raw.rindex("]")]
            value = [v.strip().strip("'") for v in inside.split(",") if v.strip()]
        else:
            value = raw
        found[name] = value
        position = match.end()
    return found
