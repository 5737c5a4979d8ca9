"""Memory is not enforced locally, but an invocation whose peak exceeds the function's Memory Size
is never silent: the executor logs MEMORY_LIMIT_EXCEEDED (AWS would end it with
Runtime.OutOfMemory) and `make status` counts those lines (scripts/status.py)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import pytest

from clickstream_emulator.lambda_executor.bootstrap import MEMORY_WARNING

from .test_lambda_executor import invoke, wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _status() -> Any:
    spec = importlib.util.spec_from_file_location("status", ROOT / "scripts" / "status.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_invocation_above_its_memory_size_is_warned_and_counted(aws, make_function):
    name = make_function("allocate", memory=128)
    since = int((time.time() - 60) * 1000)
    response, body = invoke(aws, name, {"mb": 200})
    assert "FunctionError" not in response and body == {"allocated_mb": 200}, body
    response, body = invoke(aws, name, {"mb": 1})
    assert "FunctionError" not in response and body == {"allocated_mb": 1}, body
    logs = aws("logs")
    counter = _status()

    def warnings() -> list[dict[str, Any]]:
        try:
            found = counter.memory_warnings(logs, f"/aws/lambda/{name}", since)
        except logs.exceptions.ResourceNotFoundException:
            return []
        return found

    found = wait_for(warnings)
    time.sleep(2)  # the small invocation's lines have landed too: still one warning
    found = counter.memory_warnings(logs, f"/aws/lambda/{name}", since)
    assert len(found) == 1, [e["message"] for e in found]
    assert MEMORY_WARNING in found[0]["message"]
    assert "exceeds Memory Size 128 MB" in found[0]["message"]
