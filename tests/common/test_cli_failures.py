"""Every CLI turns expected failures into one line on stderr and a non-zero exit, never a
traceback: bad arguments, missing directory/bucket/outputs, the endpoint down, a prefix that
matches nothing, `-q` runs that fail.

The console scripts run as a user runs them (subprocesses of this venv). "Stack down" is a
real closed port on 127.0.0.1, named by a local deployment's outputs (no AWS variable at all) or
by an exported AWS_ENDPOINT_URL; the cases that need a real S3 answer (NoSuchBucket, an empty
prefix) use the local stack and are marked e2e.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from clickstream_common import localstack

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, bare: bool = False
) -> str:
    """Run a console script expecting an expected failure; returns its one stderr line.

    ``bare``: no AWS variable at all, as in a fresh shell after `source .venv/bin/activate`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    if bare:
        base = {k: v for k, v in base.items() if not k.startswith("AWS_")}
    else:
        base.setdefault("AWS_ACCESS_KEY_ID", "test")
        base.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        base.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    proc = subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**base, **(env or {})},
    )
    shown = (
        f"exit {proc.returncode}\nstdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}"
    )
    assert proc.returncode != 0, shown
    assert "Traceback" not in proc.stderr + proc.stdout, shown
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, shown
    return lines[0]


@pytest.fixture
def down() -> dict[str, str]:
    """The environment of a stopped stack: the endpoint refuses connections."""
    return {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}", "AWS_MAX_ATTEMPTS": "2"}


@pytest.fixture
def stopped_stack(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A local deployment's outputs whose stack is down (its endpoint refuses connections), and
    the environment that reads them: no AWS variable, only CLICKSTREAM_OUTPUTS."""
    endpoint = f"http://localhost:{closed_port()}"
    outputs = tmp_path / "outputs.json"
    names = ("raw_bucket", "transformed_bucket", "firehose_name", "glue_database", "compactor_name")
    values = {name: {"value": f"clickstream-{name}"} for name in names}
    values |= {"endpoint_url": {"value": endpoint}, "aws_region": {"value": "us-east-1"}}
    values |= {"lambda_log_group": {"value": "/aws/lambda/x"}}
    outputs.write_text(json.dumps(values))
    (tmp_path / "manifest.json").write_text('{"good": 10, "bad": 1}')
    return endpoint, {"CLICKSTREAM_OUTPUTS": str(outputs)}


WAIT = str(REPO / "scripts" / "wait_for_pipeline.py")
STATUS = str(REPO / "scripts" / "status.py")


@pytest.mark.parametrize(
    "command",
    [
        ["clickstream-generate", "--count", "5"],
        ["clickstream-query", "--sql", "SELECT count(*) AS n FROM events"],
        ["clickstream-query", "top_pages"],
        ["clickstream-replay", "--prefix", "raw/"],
        ["clickstream-compact", "--day", "2024-12-25"],
        ["python", STATUS],
        ["python", WAIT, "--manifest", "{tmp}/manifest.json"],
    ],
    ids=["generate", "query-sql", "query", "replay", "compact", "status", "wait_for_pipeline"],
)
def test_stack_down_is_one_line_naming_the_endpoint_and_make_up(
    command: list[str], stopped_stack: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """From a bare shell: the outputs name the stack, it is down, the CLI says where and what to
    do in one line (no fallback note, no botocore or curl text)."""
    endpoint, env = stopped_stack
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    line = cli(*args, env=env, bare=True)
    assert f"no stack answers at {endpoint}" in line and "`make up`" in line, line
    assert "outputs.json" in line, line  # where the endpoint came from


@pytest.fixture
def no_outputs(tmp_path: Path) -> dict[str, str]:
    """The environment after `make down`: no Terraform outputs file."""
    return {"CLICKSTREAM_OUTPUTS": str(tmp_path / "outputs.json")}


# ---------------------------------------------------------------- clickstream-replay
def test_replay_since_after_until() -> None:
    line = cli("clickstream-replay", "--since", "2024-12-25", "--until", "2024-12-24")
    assert "--until is before --since" in line


def test_replay_missing_local_dir(tmp_path: Path) -> None:
    line = cli("clickstream-replay", "--local-dir", "/nonexistent", "--out", str(tmp_path))
    assert "/nonexistent" in line and "no such directory" in line


def test_replay_empty_local_dir_says_nothing_matched(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    line = cli("clickstream-replay", "--local-dir", str(tmp_path / "in"), "--dry-run")
    assert "nothing to replay" in line


def test_replay_without_outputs(no_outputs: dict[str, str]) -> None:
    line = cli("clickstream-replay", "--prefix", "raw/", env=no_outputs)
    assert "make up" in line


def test_replay_with_the_stack_down(down: dict[str, str]) -> None:
    line = cli("clickstream-replay", "--bucket", "b", "--dest-bucket", "t", env=down)
    assert down["AWS_ENDPOINT_URL"] in line and "(AWS_ENDPOINT_URL)" in line and "make up" in line


@pytest.fixture
def bucket(localstack_endpoint: str) -> Iterator[str]:
    s3 = localstack.client("s3", localstack_endpoint)
    name = f"cli-failures-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    yield name
    s3.delete_bucket(Bucket=name)


@pytest.mark.e2e
def test_replay_missing_bucket(localstack_endpoint: str) -> None:
    env = {"AWS_ENDPOINT_URL": localstack_endpoint}
    line = cli("clickstream-replay", "--bucket", "no-such-bucket-x1", "--dest-bucket", "t", env=env)
    assert "NoSuchBucket" in line


@pytest.mark.e2e
def test_replay_prefix_matching_nothing(localstack_endpoint: str, bucket: str) -> None:
    env = {"AWS_ENDPOINT_URL": localstack_endpoint}
    line = cli(
        "clickstream-replay",
        "--bucket",
        bucket,
        "--dest-bucket",
        bucket,
        "--prefix",
        "raw/x/",
        env=env,
    )
    assert f"no objects under s3://{bucket}/raw/x/" in line


# ---------------------------------------------------------------- clickstream-generate
def test_generate_quiet_with_the_endpoint_down_says_why(down: dict[str, str]) -> None:
    line = cli(
        "clickstream-generate",
        "-q",
        "--count",
        "20",
        "--stream-name",
        "s",
        "--max-attempts",
        "2",
        env=down,
    )
    assert line.startswith("clickstream-generate: error:")
    assert down["AWS_ENDPOINT_URL"] in line and "make up" in line


def test_generate_without_outputs(no_outputs: dict[str, str]) -> None:
    line = cli("clickstream-generate", "-q", "--count", "1", env=no_outputs)
    assert "make up" in line


# ---------------------------------------------------------------- clickstream-query
def test_query_without_outputs(no_outputs: dict[str, str]) -> None:
    line = cli("clickstream-query", "top_pages", env=no_outputs)
    assert line.startswith("clickstream-query: error:")


def test_query_unknown_name() -> None:
    line = cli("clickstream-query", "no_such_query", "--source", "/nonexistent")
    assert line.startswith("clickstream-query: error:")


def test_query_with_an_exported_endpoint_down(down: dict[str, str]) -> None:
    line = cli("clickstream-query", "top_pages", "--source", "s3://t/events/", env=down)
    assert line.startswith("clickstream-query: error:")
    assert down["AWS_ENDPOINT_URL"] in line and "make up" in line


class DyingEndpoint:
    """A TCP relay to the real local stack that dies on demand: from the client's side, the
    endpoint goes away mid-run (open connections cut, new ones refused)."""

    def __init__(self, upstream: str) -> None:
        parsed = urlparse(upstream)
        self.upstream = (parsed.hostname or "localhost", parsed.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets: list[socket.socket] = []
        self.requests = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                if src.getsockname()[1] == self.listener.getsockname()[1]:
                    self.requests += data.count(b"X-Amz-Target")
                dst.sendall(data)
        except OSError:
            pass

    def die(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.mark.e2e
def test_generate_quiet_when_the_endpoint_dies_mid_run(localstack_endpoint: str) -> None:
    relay = DyingEndpoint(localstack_endpoint)
    with localstack.scratch_delivery_stream("cli-dies", localstack_endpoint) as stream:
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env = {**base, "AWS_ENDPOINT_URL": relay.url, "AWS_MAX_ATTEMPTS": "2"}
        env.setdefault("AWS_ACCESS_KEY_ID", "test")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        cmd = [str(BIN / "clickstream-generate"), "-q", "--stream-name", stream]
        cmd += ["--count", "4000", "--rate", "400", "--batch-size", "50", "--max-attempts", "2"]
        proc = subprocess.Popen(
            cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while relay.requests < 3 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert relay.requests >= 3, "the generator never reached the endpoint"
        relay.die()  # mid-run: some batches delivered, the rest cannot be
        out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "Traceback" not in err + out, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clickstream-generate: error:"), err
    assert "not delivered" in lines[0] or "never sent" in lines[0], lines[0]


# ---------------------------------------------------------------- scripts/wait_for_pipeline.py


def test_wait_for_pipeline_without_a_manifest(tmp_path: Path) -> None:
    line = cli("python", WAIT, "--manifest", str(tmp_path / "manifest.json"))
    assert "is not a generator manifest" in line and "FileNotFoundError" in line


def test_wait_for_pipeline_without_outputs(no_outputs: dict[str, str], tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"good": 10, "bad": 1}')
    line = cli("python", WAIT, "--manifest", str(manifest), env=no_outputs)
    assert "no Terraform outputs" in line


# ---------------------------------------------------------------- clickstream-compact
def test_compact_with_a_bad_day_is_a_usage_error() -> None:
    line = cli("clickstream-compact", "--day", "2024-13-01")
    assert "--day" in line and "not a day" in line


def test_compact_without_outputs(no_outputs: dict[str, str]) -> None:
    line = cli("clickstream-compact", env=no_outputs)
    assert "make up" in line
