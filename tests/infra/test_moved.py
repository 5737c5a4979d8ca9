"""infra/moved.tf keeps a deployment made before the two functions shared their resources
upgradeable in place, as the configuration goes on changing.

What proves the upgrade is a plan against such a deployment (0 to add, 0 to destroy: only moves).
This test keeps the blocks coherent with the configuration: each `to` is an instance the
configuration declares (a for_each resource over local.functions, with one of its keys), no
`from` is still declared as it was (Terraform would refuse the move), and no address moves twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
#: The functions that had resources of their own before they shared them.
PREDATING = {"transformer", "compactor"}
ADDRESS = re.compile(r'^\$\{(?P<resource>[a-z0-9_]+\.[a-z0-9_]+)(\["(?P<key>[a-z0-9_]+)"\])?\}$')


def declared_resources() -> dict[str, dict[str, object]]:
    """Every `type.name` the configuration declares, with its body."""
    found: dict[str, dict[str, object]] = {}
    for path in sorted(INFRA.glob("*.tf")):
        with path.open() as f:
            for block in hcl2.load(f).get("resource", []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        found[".".join(part.strip('"') for part in (rtype, name))] = body
    return found


def function_keys() -> set[str]:
    with (INFRA / "lambda.tf").open() as f:
        locals_ = hcl2.load(f)["locals"]
    return {key for block in locals_ if "functions" in block for key in block["functions"]}


def moves() -> list[tuple[re.Match[str], re.Match[str]]]:
    with (INFRA / "moved.tf").open() as f:
        blocks = hcl2.load(f)["moved"]
    pairs = []
    for block in blocks:
        source, target = ADDRESS.match(block["from"]), ADDRESS.match(block["to"])
        assert source and target, f"not a resource address: {block}"
        pairs.append((source, target))
    return pairs


def test_each_move_targets_a_declared_function_instance() -> None:
    resources, keys = declared_resources(), function_keys()
    assert keys >= PREDATING
    for _, target in moves():
        body = resources.get(target["resource"])
        assert body is not None, f"{target[0]}: no such resource in infra/*.tf"
        assert body.get("for_each") == "${local.functions}", f"{target[0]}: not one per function"
        assert target["key"] in keys, f"{target[0]}: not a key of local.functions"


def test_no_moved_address_is_still_declared_and_none_moves_twice() -> None:
    resources, pairs = declared_resources(), moves()
    sources = [source[0] for source, _ in pairs]
    targets = [target[0] for _, target in pairs]
    for source, _ in pairs:
        # Gone, or now one per function: either way no unkeyed instance of it is declared.
        body = resources.get(source["resource"], {})
        assert source["key"] is None and (not body or "for_each" in body), source[0]
    assert len(set(sources)) == len(sources) and len(set(targets)) == len(targets)
    # Each shared resource (zip, log group, function, role, role policy) has both predating
    # functions' objects moved into it.
    moved_keys: dict[str, set[str]] = {}
    for _, target in pairs:
        moved_keys.setdefault(target["resource"], set()).add(target["key"])
    assert len(moved_keys) == 5 and all(keys == PREDATING for keys in moved_keys.values()), (
        moved_keys
    )
