"""scripts/stack.sh against the running stack: bad use is one line and a non-zero exit, at once."""

from __future__ import annotations

import os
import subprocess
from urllib.parse import urlparse

import pytest

from .support import ENDPOINT, REPO

pytestmark = pytest.mark.e2e


def test_start_on_another_port_names_the_running_one() -> None:
    """A second `make up` with another LOCALSTACK_PORT used to wait 120 s for a LocalStack that
    was never going to answer there, then blame its readiness."""
    running = urlparse(ENDPOINT).port or 4566
    env = {**os.environ, "LOCALSTACK_PORT": str(running + 1)}
    proc = subprocess.run(
        [str(REPO / "scripts" / "stack.sh"), "start"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,  # well below the 120 s start timeout it used to sit out
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"running on port {running}" in lines[0]
    assert f"LOCALSTACK_PORT={running}" in lines[0]
