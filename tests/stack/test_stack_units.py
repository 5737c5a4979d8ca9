"""Pure parts of the local stack: runtime resolution, log cutting, stack settings and pins."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from clickstream_emulator.lambda_executor.bootstrap import DONE_MARKER
from clickstream_emulator.lambda_executor.logs import LogCollector, timeout_lines
from clickstream_emulator.lambda_executor.runtimes import (
    UnsupportedRuntimeError,
    resolve_runtime,
)

ROOT = Path(__file__).resolve().parents[2]


def _load_stack():
    spec = importlib.util.spec_from_file_location("stack", ROOT / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stack = _load_stack()


# ---------------------------------------------------------------- runtimes
def _install_runtime(root: Path, name: str, interpreter: str = sys.executable) -> None:
    (root / name / "site-packages").mkdir(parents=True)
    (root / name / "interpreter").write_text(interpreter + "\n")


def test_installed_python_runtime_resolves(tmp_path):
    _install_runtime(tmp_path, "python3.13")

    spec = resolve_runtime("python3.13", tmp_path)

    assert spec.interpreter == Path(sys.executable)
    assert spec.site_packages == tmp_path / "python3.13" / "site-packages"


@pytest.mark.parametrize(
    ("runtime", "message"),
    [
        ("nodejs20.x", "only python3.x runtimes"),
        ("python3.11", "not installed"),
        (None, "container-image functions"),
    ],
)
def test_unsupported_runtimes_fail_clearly(tmp_path, runtime, message):
    _install_runtime(tmp_path, "python3.13")

    with pytest.raises(UnsupportedRuntimeError, match=message):
        resolve_runtime(runtime, tmp_path)


def test_runtime_with_vanished_interpreter_fails(tmp_path):
    _install_runtime(tmp_path, "python3.13", interpreter="/nonexistent/python3.13")

    with pytest.raises(UnsupportedRuntimeError, match="missing or not executable"):
        resolve_runtime("python3.13", tmp_path)


# ---------------------------------------------------------------- logs
def test_init_output_belongs_to_the_first_invocation_and_marker_is_dropped():
    collector = LogCollector()
    collector.feed("INIT_START Runtime Version: python3.13.subprocess\n")
    collector.feed("init print\n")
    collector.begin()
    for line in ("START RequestId: r1", "hello", "END RequestId: r1", DONE_MARKER):
        collector.feed(line + "\n")

    first = collector.take(wait_s=1)
    collector.begin()
    collector.feed("START RequestId: r2\n")
    collector.feed(DONE_MARKER + "\n")
    second = collector.take(wait_s=1)

    assert first.splitlines() == [
        "INIT_START Runtime Version: python3.13.subprocess",
        "init print",
        "START RequestId: r1",
        "hello",
        "END RequestId: r1",
    ]
    assert second == "START RequestId: r2\n"
    assert DONE_MARKER not in collector.tail()


def test_timeout_lines_match_aws_wording():
    text = timeout_lines("r9", 3.0, 512)

    assert " r9 Task timed out after 3.00 seconds\n" in text
    assert "END RequestId: r9\n" in text
    assert "Memory Size: 512 MB" in text and "Status: timeout" in text


# ---------------------------------------------------------------- stack settings
def test_not_ready_lists_services_that_are_not_up(monkeypatch):
    monkeypatch.setenv("LOCALSTACK_SERVICES", "s3,lambda,sqs")
    report = {"services": {"s3": "running", "lambda": "available", "sqs": "initialized"}}

    assert stack.not_ready(report) == ["sqs"]
    assert stack.not_ready(None) == ["s3", "lambda", "sqs"]


def test_localstack_env_selects_our_executor_and_port(monkeypatch):
    monkeypatch.delenv("LOCALSTACK_SERVICES", raising=False)

    env = stack.localstack_env(4577)

    assert env["LAMBDA_RUNTIME_EXECUTOR"] == "subprocess"
    assert env["GATEWAY_LISTEN"] == "127.0.0.1:4577"
    assert env["SERVICES"] == stack.DEFAULT_SERVICES
    assert env["FILESYSTEM_ROOT"].startswith(str(ROOT / ".local"))


def test_lock_pins_localstack_and_depends_on_nothing_local():
    lock = (ROOT / "requirements" / "localstack-lock.txt").read_text().splitlines()
    pins = [line for line in lock if line and not line.startswith("#")]

    assert f"localstack-core=={stack.LOCALSTACK_VERSION}" in pins
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", line) for line in pins), pins


def test_lambda_runtime_pins_boto3_exactly():
    lines = (ROOT / "emulator" / "lambda-runtime-requirements.txt").read_text().splitlines()

    assert any(re.fullmatch(r"boto3==\d+\.\d+\.\d+", line) for line in lines)
