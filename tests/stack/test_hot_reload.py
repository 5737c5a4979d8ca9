"""Hot reload (`make dev`): the runtime swaps in the working tree's code between invocations.

The real bootstrap runs as the subprocess the executor starts, against the fake executor endpoint
of test_bootstrap_protocol.py; the "deployed zip" and the "working tree" are two directories that
hold different versions of the same package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from clickstream_emulator.lambda_executor import bootstrap, hot_reload

from .test_bootstrap_protocol import FakeLocalStack

BOOTSTRAP = Path(bootstrap.__file__)

HANDLER = 'from pkg import helper\ndef handler(event, context):\n    return {"v": helper.VERSION}\n'


def _invoke(port: int, request_id: str) -> None:
    body = json.dumps({"invoke-id": request_id, "invoked-function-arn": "arn", "payload": "{}"})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invoke", data=body.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def _package(root: Path, version: str) -> None:
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "handler.py").write_text(HANDLER)
    (root / "pkg" / "helper.py").write_text(f"VERSION = {version!r}\n")


def _touch_later(path: Path, text: str) -> None:
    """Write ``text`` with an mtime that differs from the previous one even on coarse clocks."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


@pytest.fixture()
def runtime(tmp_path: Path) -> Iterator[dict]:
    task_root, sources, sources_file = tmp_path / "zip", tmp_path / "tree", tmp_path / "hr.json"
    _package(task_root, "zip")
    _package(sources, "tree-1")
    fake = FakeLocalStack()
    env = {
        "LAMBDA_TASK_ROOT": str(task_root),
        "LOCALSTACK_RUNTIME_ENDPOINT": fake.url,
        "LOCALSTACK_RUNTIME_ID": "env1",
        "_HANDLER": "pkg.handler.handler",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "7",
        hot_reload.SOURCES_FILE_ENV: str(sources_file),
    }
    process = subprocess.Popen(
        [sys.executable, "-I", "-S", "-u", str(BOOTSTRAP)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _, ready = fake.next_post()
    counter = iter(range(1, 1000))

    def invoke() -> tuple[str, dict]:
        request_id = f"req-{next(counter)}"
        _invoke(ready["port"], request_id)
        path, body = fake.next_post()
        return path.rsplit("/", 1)[1], body

    yield {"invoke": invoke, "sources": sources, "file": sources_file, "process": process}
    process.kill()
    process.wait()


def test_off_runs_the_zip_on_runs_the_tree_and_edits_are_live(runtime):
    invoke, sources = runtime["invoke"], runtime["sources"]
    assert invoke() == ("response", {"v": "zip"})

    runtime["file"].write_text(json.dumps({"paths": [str(sources)]}))
    assert invoke() == ("response", {"v": "tree-1"})

    _touch_later(sources / "pkg" / "helper.py", "VERSION = 'tree-2'\n")
    assert invoke() == ("response", {"v": "tree-2"})

    runtime["file"].unlink()
    assert invoke() == ("response", {"v": "zip"})


def test_syntax_error_fails_the_invocation_then_the_fix_recovers(runtime):
    invoke, sources = runtime["invoke"], runtime["sources"]
    runtime["file"].write_text(json.dumps({"paths": [str(sources)]}))
    helper = sources / "pkg" / "helper.py"

    _touch_later(helper, "VERSION = (\n")
    outcome, body = invoke()
    assert outcome == "error"
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    assert "helper.py" in body["errorMessage"]
    assert invoke()[1]["errorType"] == "Runtime.UserCodeSyntaxError"  # still broken: still says so

    _touch_later(helper, "VERSION = 'fixed'\n")
    assert invoke() == ("response", {"v": "fixed"})

    runtime["process"].kill()
    log = runtime["process"].stdout.read().decode()
    assert "[ERROR] Runtime.UserCodeSyntaxError: Syntax error in module 'pkg.handler'" in log
    assert log.count("HOT_RELOAD loading") == 2  # on (broken) and fixed, not the unchanged retry
