"""A newcomer's first hour, as issue #23 tells it: a fresh clone, a stack on a second port, then
every command without the port and the CLI from the venv with no AWS variable at all.

In a `git clone` of this commit, beside the running stack of the suite: `make up
LOCALSTACK_PORT=<second port>`; then, without the port, `make generate COUNT=700 BAD_RATIO=0`,
`scripts/wait_for_pipeline.py` from the venv, `make status` (this stack's 700 rows), and
`.venv/bin/clickstream-query --sql ... --format csv` in an environment without any AWS_*
variable (prints 700). A target aimed at the suite's stack from the clone says so in one line,
and `make down` on the suite's port refuses to stop the clone's LocalStack; `make down` without
the port stops the stack on the second port.

Everything is real: the clone installs its own virtualenvs and LocalStack, and applies the
Terraform. Marked ``slow`` (1.5-2.5 min). The clone runs in host mode: two stacks on one machine are
two host processes (the compose file names one container). The second port is 4611 unless
``CLICKSTREAM_SECOND_PORT`` says otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from clickstream_common import localstack

from .support import ENDPOINT, REPO

SECOND_PORT = int(os.environ.get("CLICKSTREAM_SECOND_PORT") or 4611)
COUNT = 700

#: What a fresh shell does not have: the calling make's and the suite's stack settings.
_NOT_IN_A_FRESH_SHELL = ("AWS_", "LOCALSTACK_", "CLICKSTREAM_", "MAKE", "MFLAGS", "TF_")
_ALSO_DROPPED = {
    "PYTHONPYCACHEPREFIX",
    "VIRTUAL_ENV",
    "LOCAL_TFVARS",
    "LAMBDA_RETRY_BASE_DELAY",
    "FIREHOSE_RETRY_SECONDS",
    "STACK_MODE",
}


def fresh_shell() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_NOT_IN_A_FRESH_SHELL) and k not in _ALSO_DROPPED
    }
    env["STACK_MODE"] = "host"
    return env


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def run(
    clone: Path, *cmd: str, timeout: float = 300, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(cmd), cwd=clone, env=fresh_shell(), capture_output=True, text=True, timeout=timeout
    )
    if ok and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode} in the clone\nstdout:\n"
            f"{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return proc


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[Path]:
    """A fresh clone of this commit; whatever happens, its stack is stopped and it is removed."""
    if port_in_use(SECOND_PORT):
        pytest.fail(
            f"port {SECOND_PORT} is in use: set CLICKSTREAM_SECOND_PORT to a free port",
            pytrace=False,
        )
    path = tmp_path / "clickstream-local"
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO), str(path)], check=True, capture_output=True
    )
    try:
        yield path
    finally:
        subprocess.run(
            ["make", "down", "KEEP_DATA=0", f"LOCALSTACK_PORT={SECOND_PORT}"],
            cwd=path,
            env=fresh_shell(),
            capture_output=True,
            timeout=300,
        )
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_fresh_clone_on_a_second_port_needs_the_port_once(clone: Path) -> None:
    suite_port = urlparse(ENDPOINT).port or 4566
    assert suite_port != SECOND_PORT, "the suite's stack already uses the second port"
    second = f"http://localhost:{SECOND_PORT}"

    run(clone, "make", "up", f"LOCALSTACK_PORT={SECOND_PORT}", timeout=900)

    # every command from here on: no port, no AWS variable
    sent = run(clone, "make", "generate", f"COUNT={COUNT}", "BAD_RATIO=0")
    assert f"sent {COUNT}/{COUNT} events" in sent.stderr, sent.stderr
    run(
        clone,
        ".venv/bin/python",
        "scripts/wait_for_pipeline.py",
        "--manifest",
        ".local/manifest.json",
    )

    status = run(clone, "make", "status").stdout
    assert f"{second}, healthy" in status, status  # the stack of this clone, on its own port
    assert f"parquet: {COUNT:,} rows" in status, status

    bare = {k: v for k, v in fresh_shell().items() if not k.startswith("AWS_")}
    assert not any(k.startswith("AWS_") for k in bare)
    query = subprocess.run(
        [
            ".venv/bin/clickstream-query",
            "--sql",
            "SELECT count(*) AS n FROM events",
            "--format",
            "csv",
        ],
        cwd=clone,
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert query.returncode == 0, query.stderr
    assert query.stdout.split() == ["n", str(COUNT)], query.stdout

    # aimed at the suite's stack from the clone: one line says so
    aimed = run(clone, "make", "status", f"LOCALSTACK_PORT={suite_port}", ok=False)
    notes = [line for line in aimed.stderr.splitlines() if "is not the stack of" in line]
    assert len(notes) == 1 and f"localhost:{suite_port}" in notes[0] and second in notes[0], (
        aimed.stderr
    )
    refused = run(clone, "make", "down", "KEEP_DATA=0", f"LOCALSTACK_PORT={suite_port}", ok=False)
    assert refused.returncode != 0
    assert f"runs on port {SECOND_PORT}" in refused.stderr, refused.stderr
    assert localstack.healthy(second), "the refused make down stopped the clone's LocalStack"
    assert localstack.healthy(ENDPOINT), "the clone's make down touched the suite's stack"

    down = run(clone, "make", "down", timeout=300)
    assert "localstack stopped" in down.stdout, down.stdout
    assert not port_in_use(SECOND_PORT), f"something still listens on {SECOND_PORT}"
    assert not (clone / ".local" / "localstack" / "localstack.pid").exists()
    assert localstack.healthy(ENDPOINT), "the clone's make down touched the suite's stack"
