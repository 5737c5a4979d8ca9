"""The local stack runs the AWS configuration: envs/local.tfvars may differ from envs/dev.tfvars only
in the variables the local-vs-AWS page's table (docs/local-vs-aws.md) lists, each with its reason.

A variable set in one file and left at its default in the other counts as a difference (its
effective values are compared, defaults taken from variables.tf). ``environment`` is the one
difference every deployment has (it names the resources) and is not counted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
DIFFERENCES = ROOT / "docs" / "local-vs-aws.md"
ALWAYS_DIFFERENT = {"environment"}
MAX_DIFFERENCES = 3
UNSET = "<no default>"


def _normalise(value: Any) -> Any:
    """python-hcl2 keeps string literals quoted ('"GZIP"'); compare plain values."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def tfvars(text: str) -> dict[str, Any]:
    return {k: _normalise(v) for k, v in hcl2.loads(text).items() if not k.startswith("__")}


def defaults(variables_tf: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for block in hcl2.loads(variables_tf)["variable"]:
        for name, body in block.items():
            found[_normalise(name)] = _normalise(body["default"]) if "default" in body else UNSET
    return found


def differences(aws: dict[str, Any], local: dict[str, Any], default: dict[str, Any]) -> set[str]:
    """Variables whose effective value differs between the two environments."""
    unknown = (set(aws) | set(local)) - set(default)
    assert not unknown, f"tfvars set variables that variables.tf does not declare: {unknown}"
    return {
        name
        for name in default
        if name not in ALWAYS_DIFFERENT
        and aws.get(name, default[name]) != local.get(name, default[name])
    }


def listed_in_docs(page: str) -> set[str]:
    """Variable names in the first column of the page's table headed `| variable |`."""
    section = page.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    in_table = False
    for line in section.splitlines():
        if line.startswith("| variable |"):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        if in_table:
            names.update(re.findall(r"`([a-z0-9_]+)`", line.split("|")[1]))
    return names


def _current() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    return (
        tfvars((INFRA / "envs" / "dev.tfvars").read_text()),
        tfvars((INFRA / "envs" / "local.tfvars").read_text()),
        defaults((INFRA / "variables.tf").read_text()),
    )


def test_every_local_difference_is_listed_with_its_reason_in_the_docs() -> None:
    aws, local, default = _current()
    found = differences(aws, local, default)
    listed = listed_in_docs(DIFFERENCES.read_text())
    assert found - listed == set(), (
        f"envs/local.tfvars differs from envs/dev.tfvars in {sorted(found - listed)}, which the "
        "variable table of docs/local-vs-aws.md does not list: remove the difference or list it "
        "with its reason"
    )
    assert listed - found == set(), (
        f"docs/local-vs-aws.md lists differences that no longer exist: {sorted(listed - found)}"
    )


def test_at_most_three_variables_differ() -> None:
    found = differences(*_current())
    assert len(found) <= MAX_DIFFERENCES, sorted(found)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("lambda_memory_mb = 512\n", "lambda_memory_mb"),  # set locally, AWS value differs
        ("raw_expiration_days = 7\n", "raw_expiration_days"),  # set locally, default on AWS
    ],
)
def test_a_new_unlisted_difference_is_caught(extra: str, expected: str) -> None:
    aws, _, default = _current()
    local_text = (INFRA / "envs" / "local.tfvars").read_text()
    local = tfvars(re.sub(rf"(?m)^{expected}\s*=.*$", "", local_text) + extra)
    found = differences(aws, local, default)
    assert expected in found
    assert expected not in listed_in_docs(DIFFERENCES.read_text())


def test_a_variable_left_at_its_default_on_one_side_counts() -> None:
    default = {"a": 1, "b": UNSET, "environment": UNSET}
    assert differences({"a": 1}, {}, default) == set()
    assert differences({"a": 2}, {}, default) == {"a"}
    assert differences({}, {"b": "x"}, default) == {"b"}
