"""The storage layout has one meaning on both sides: Terraform's locals and the Python contract.

infra/locals.tf names the prefixes the buckets, notifications, crawler and outputs use;
clickstream_common.schema names the ones the transformer writes and the tools read. Every tool
reads the deployed values from the Terraform outputs, but the Lambda's defaults, the tests and
the DuckDB view use the constants: a change on one side only must fail here, not in a deploy.
"""

from __future__ import annotations

import json
from pathlib import Path

import hcl2
import pytest

from clickstream_common import schema

ROOT = Path(__file__).resolve().parents[2]


def terraform_locals() -> dict[str, object]:
    with (ROOT / "infra" / "locals.tf").open() as f:
        blocks = hcl2.load(f)["locals"]
    merged: dict[str, object] = {}
    for block in blocks:
        merged.update(block)
    return merged


@pytest.mark.parametrize(
    ("local", "constant"),
    [
        ("raw_prefix", "RAW_PREFIX"),
        ("events_prefix", "EVENTS_PREFIX"),
        ("quarantine_prefix", "QUARANTINE_PREFIX"),
        ("manifests_prefix", "MANIFESTS_PREFIX"),
    ],
)
def test_terraform_local_equals_the_contract(local: str, constant: str) -> None:
    raw = terraform_locals()[local]
    assert isinstance(raw, str) and raw.startswith('"'), f"{local} must be a string literal"
    assert json.loads(raw) == getattr(schema, constant)


def test_terraform_table_name_is_the_contracts() -> None:
    """The table's name comes from the generated catalog/events_table.json (itself checked
    against the contract in tests/common): Terraform must read it from there, not restate it."""
    assert terraform_locals()["table_name"] == "${local.events_table.name}"
    table = json.loads((ROOT / "infra" / "catalog" / "events_table.json").read_text())
    assert table["name"] == schema.TABLE_NAME


def test_lambda_runtime_is_the_project_python() -> None:
    """The zip is built for .python-version (scripts/build_lambda.py): the function must run it."""
    with (ROOT / "infra" / "lambda.tf").open() as f:
        resources = hcl2.load(f)["resource"]
    functions = [r['"aws_lambda_function"'] for r in resources if '"aws_lambda_function"' in r]
    runtimes = {json.loads(body["runtime"]) for f in functions for body in f.values()}
    version = (ROOT / ".python-version").read_text().strip()
    assert runtimes == {f"python{version}"}
