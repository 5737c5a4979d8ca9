"""A checkout remembers its port: after `make up LOCALSTACK_PORT=N`, every target uses N until
`make down`; a port given explicitly wins, and this checkout's LocalStack is never started or
stopped under another port.

The Makefile runs for real (`make help` prints the port it resolved) in a scratch directory that
holds a copy of it and a pid file written the way scripts/stack.py writes it; stop() runs against
a real process whose command line is LocalStack's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .test_stack_units import stack  # scripts/stack.py, loaded by path

ROOT = Path(__file__).resolve().parents[2]


#: What a fresh shell has: no port, and none of a calling make's variables.
_MAKE_ENV = (
    "LOCALSTACK_PORT",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
    "MAKEOVERRIDES",
    "AWS_ENDPOINT_URL",
)


def make_port(workdir: Path, *args: str, env: dict[str, str] | None = None) -> int:
    """The port `make help` reports in ``workdir`` (which holds a copy of the Makefile)."""
    clean = {k: v for k, v in os.environ.items() if k not in _MAKE_ENV}
    proc = subprocess.run(
        ["make", "-s", "help", *args],
        cwd=workdir,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = re.search(r"stack mode: \w+ .*port (\d+)", proc.stdout)
    assert found, proc.stdout
    return int(found.group(1))


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    return tmp_path


def record(checkout: Path, pid: int, port: int) -> None:
    """The pid file exactly as scripts/stack.py start writes it."""
    pid_file = checkout / stack.PID_FILE.relative_to(stack.ROOT)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{pid} {port}\n")


def test_make_uses_the_default_port_without_a_recorded_stack(checkout: Path) -> None:
    assert make_port(checkout) == 4566


def test_make_uses_the_recorded_port_until_the_pid_file_goes(checkout: Path) -> None:
    record(checkout, 12345, 4611)
    assert make_port(checkout) == 4611
    (checkout / ".local" / "localstack" / "localstack.pid").unlink()  # what `make down` does
    assert make_port(checkout) == 4566


def test_an_explicit_port_wins(checkout: Path) -> None:
    record(checkout, 12345, 4611)
    assert make_port(checkout, "LOCALSTACK_PORT=4612") == 4612
    assert make_port(checkout, env={"LOCALSTACK_PORT": "4613"}) == 4613


@pytest.fixture
def pid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "localstack.pid"
    monkeypatch.setattr(stack, "PID_FILE", path)
    monkeypatch.delenv("LOCALSTACK_PORT", raising=False)
    return path


def test_stack_script_port_follows_the_same_rule(
    pid_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.port() == 4566
    pid_file.write_text("12345 4611\n")
    assert stack.port() == 4611
    monkeypatch.setenv("LOCALSTACK_PORT", "4612")
    assert stack.port() == 4612


@pytest.fixture
def fake_localstack() -> Iterator[int]:
    """A real process whose command line names LocalStack's entry point, as stack.py checks it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "localstack.runtime.main"]
    )
    deadline = time.monotonic() + 10
    while not stack.is_our_localstack(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)  # until the exec shows in /proc/<pid>/cmdline
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_stop_refuses_another_port_than_the_recorded_one(
    pid_file: Path, fake_localstack: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file.write_text(f"{fake_localstack} 4611\n")
    monkeypatch.setenv("LOCALSTACK_PORT", "4566")
    with pytest.raises(stack.StackError) as err:
        stack.stop()
    message = str(err.value)
    assert "port 4611" in message and "LOCALSTACK_PORT=4611" in message and "\n" not in message
    assert stack.is_our_localstack(fake_localstack), "the other port's stop must not kill it"
    assert pid_file.exists()


def test_make_down_on_another_port_saves_nothing_of_that_stack(tmp_path: Path) -> None:
    """`make down LOCALSTACK_PORT=<not this checkout's>` first runs `snapshot.py save`: it must
    not save another stack's buckets as this checkout's data (the names are the same)."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text('{"endpoint_url": {"value": "http://localhost:4611"}}')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "CLICKSTREAM_OUTPUTS": str(outputs),
        "AWS_ENDPOINT_URL": "http://localhost:4566",
    }
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "snapshot.py"), "save"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("snapshot: error:"), proc.stderr
    assert "http://localhost:4611" in lines[0] and "http://localhost:4566" in lines[0]
