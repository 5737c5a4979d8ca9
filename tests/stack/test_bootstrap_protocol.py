"""The runtime bootstrap speaks LocalStack's executor protocol (no LocalStack needed).

A small HTTP server plays LocalStack's executor endpoint (the routes of
localstack/services/lambda_/invocation/executor_endpoint.py); the bootstrap runs as the real
subprocess the executor starts (`python -I -S bootstrap.py`) on a real handler file.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clickstream_emulator.lambda_executor import bootstrap
from clickstream_emulator.lambda_executor.bootstrap import DONE_MARKER, MEMORY_WARNING

BOOTSTRAP = Path(bootstrap.__file__)

HANDLER = """
import logging, os, sys
print("init-line")
def ok(event, context):
    print("hello", event["name"])
    logging.getLogger().warning("careful\\nsecond line")
    return {"greeting": "hi " + event["name"], "fn": context.function_name,
            "remaining": context.get_remaining_time_in_millis(), "cwd": os.getcwd()}
def bad(event, context):
    raise KeyError("missing")
def unserialisable(event, context):
    return {1, 2}
def allocate(event, context):
    block = bytearray(event["mb"] * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just reserved
    return len(block)
"""


class FakeLocalStack:
    """Records what the bootstrap posts to /_localstack_lambda/<id>/..."""

    def __init__(self) -> None:
        self.posts: queue.Queue[tuple[str, bytes]] = queue.Queue()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.posts.put((self.path, body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/_localstack_lambda/env1"

    def next_post(self) -> tuple[str, dict]:
        path, body = self.posts.get(timeout=20)
        return path.split("/_localstack_lambda/env1", 1)[1], json.loads(body or b"{}")


@pytest.fixture()
def start_bootstrap(tmp_path: Path) -> Iterator:
    (tmp_path / "fn.py").write_text(HANDLER)
    processes: list[subprocess.Popen] = []

    def start(handler: str, memory_mb: int = 128) -> tuple[FakeLocalStack, subprocess.Popen]:
        fake = FakeLocalStack()
        env = {
            "LAMBDA_TASK_ROOT": str(tmp_path),
            "LOCALSTACK_RUNTIME_ENDPOINT": fake.url,
            "LOCALSTACK_RUNTIME_ID": "env1",
            "_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": "7",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        }
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-u", str(BOOTSTRAP)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return fake, process

    yield start
    for process in processes:
        process.kill()
        process.wait()


def _invoke(port: int, request_id: str, event: dict) -> None:
    body = json.dumps(
        {
            "invoke-id": request_id,
            "invoked-function-arn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
            "payload": json.dumps(event),
            "trace-id": "Root=1-abc",
        }
    ).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invoke", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def test_ready_then_response_with_context_and_logs(start_bootstrap, tmp_path):
    fake, process = start_bootstrap("fn.ok")
    path, ready = fake.next_post()
    assert path == "/status/env1/ready"

    _invoke(ready["port"], "req-1", {"name": "ada"})
    path, body = fake.next_post()

    assert path == "/invocations/req-1/response"
    assert body["greeting"] == "hi ada"
    assert body["fn"] == "fn"
    assert 0 < body["remaining"] <= 7000
    assert body["cwd"] == str(tmp_path)
    process.kill()
    lines = process.stdout.read().decode().split("\n")  # not splitlines: "\r" joins one record
    assert lines[0].startswith("INIT_START")
    assert lines[1] == "init-line"
    assert lines[2] == "START RequestId: req-1 Version: $LATEST"
    assert lines[3] == "hello ada"
    assert lines[4].startswith("[WARNING]\t") and lines[4].endswith("\treq-1\tcareful\rsecond line")
    assert lines[5] == "END RequestId: req-1"
    assert lines[6].startswith("REPORT RequestId: req-1\tDuration: ")
    assert "Init Duration: " in lines[6]
    assert lines[7] == DONE_MARKER


def test_handler_exception_posts_an_error(start_bootstrap):
    fake, _ = start_bootstrap("fn.bad")
    _, ready = fake.next_post()

    _invoke(ready["port"], "req-2", {})
    path, body = fake.next_post()

    assert path == "/invocations/req-2/error"
    assert body["errorType"] == "KeyError"
    assert body["errorMessage"] == "'missing'"
    assert body["requestId"] == "req-2"
    assert any("fn.py" in frame for frame in body["stackTrace"])
    assert not any("bootstrap.py" in frame for frame in body["stackTrace"])


def test_unserialisable_result_is_a_marshal_error(start_bootstrap):
    fake, _ = start_bootstrap("fn.unserialisable")
    _, ready = fake.next_post()

    _invoke(ready["port"], "req-3", {})
    path, body = fake.next_post()

    assert path == "/invocations/req-3/error"
    assert body["errorType"] == "Runtime.MarshalError"
    assert "not JSON serializable" in body["errorMessage"]


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("missing.handler", "Runtime.ImportModuleError"),
        ("fn.nope", "Runtime.HandlerNotFound"),
        ("nodots", "Runtime.MalformedHandlerName"),
    ],
)
def test_init_failures_post_status_error_and_exit(start_bootstrap, handler, error_type):
    fake, process = start_bootstrap(handler)

    path, body = fake.next_post()

    assert path == "/status/env1/error"
    assert body["errorType"] == error_type
    assert body["stackTrace"] == []
    assert process.wait(timeout=10) == 1


def _report_lines(process: subprocess.Popen) -> list[str]:
    process.kill()
    return process.stdout.read().decode().split("\n")


def test_report_shows_each_invocations_own_peak_and_warns_above_memory_size(start_bootstrap):
    fake, process = start_bootstrap("fn.allocate", memory_mb=160)
    _, ready = fake.next_post()

    _invoke(ready["port"], "big", {"mb": 200})
    assert fake.next_post()[0] == "/invocations/big/response"
    _invoke(ready["port"], "small", {"mb": 1})
    assert fake.next_post()[0] == "/invocations/small/response"
    lines = _report_lines(process)

    reports = {line.split()[2]: line for line in lines if line.startswith("REPORT RequestId:")}
    peak = {
        rid: int(line.split("Max Memory Used: ")[1].split()[0]) for rid, line in reports.items()
    }
    assert peak["big"] >= 200
    assert peak["small"] < 160, "the second invocation's REPORT must not carry the first one's peak"
    warnings = [line for line in lines if MEMORY_WARNING in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("[WARNING]\t") and "\tbig\t" in warnings[0]
    assert f"Max Memory Used {peak['big']} MB exceeds Memory Size 160 MB" in warnings[0]
