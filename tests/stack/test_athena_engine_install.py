"""The local Athena's engine libraries in LocalStack's venv: the versions the project's tests use."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_stack():
    spec = importlib.util.spec_from_file_location("stack_for_athena", ROOT / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


stack = _load_stack()


def dev_pins() -> dict[str, str]:
    lines = (ROOT / "requirements" / "dev.txt").read_text().splitlines()
    return {line.split("==")[0].lower(): line for line in lines if "==" in line}


def test_host_install_pins_the_engine_exactly_as_the_dev_requirements() -> None:
    pins = dev_pins()
    assert stack.athena_engine_pins() == [pins[name] for name in ("duckdb", "pyarrow", "sqlglot")]


def test_localstack_lock_does_not_pin_other_engine_versions() -> None:
    lock = (ROOT / "requirements" / "localstack-lock.txt").read_text()
    for name in ("duckdb", "pyarrow", "sqlglot"):
        assert not re.search(rf"(?im)^{name}==", lock), f"{name} would be installed twice"
