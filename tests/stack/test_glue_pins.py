"""The local Glue crawler reads Parquet with the same pyarrow as the tests and the Lambda.

LocalStack's venv gets pyarrow (with duckdb and sqlglot) at the versions pinned in
requirements/dev.txt (scripts/stack.py ATHENA_ENGINE_PACKAGES, in host mode's venv and in the
docker-mode image alike; see test_athena_engine_install.py); the Lambda zip pins it in requirements/lambda.txt.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pyarrow_pin(path: Path) -> str:
    pins = re.findall(r"pyarrow==([0-9][0-9A-Za-z.+-]*)", path.read_text())
    assert len(pins) == 1, f"{path}: expected one pyarrow pin, found {pins}"
    return pins[0]


def test_lambda_and_tests_pin_the_same_pyarrow() -> None:
    versions = {p: _pyarrow_pin(ROOT / "requirements" / p) for p in ("dev.txt", "lambda.txt")}
    assert len(set(versions.values())) == 1, versions


def test_localstack_gets_pyarrow_from_the_dev_pins_only() -> None:
    spec = importlib.util.spec_from_file_location("stack", ROOT / "scripts" / "stack.py")
    assert spec is not None and spec.loader is not None
    stack = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stack)
    assert "pyarrow" in stack.ATHENA_ENGINE_PACKAGES
    assert "pyarrow==" not in (ROOT / "requirements" / "localstack-lock.txt").read_text()
    dockerfile = (ROOT / "docker" / "localstack" / "Dockerfile").read_text()
    assert "scripts/stack.py install-into /opt/code/localstack/.venv libraries" in dockerfile
