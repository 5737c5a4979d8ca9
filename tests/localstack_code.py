"""LocalStack's installed code in the stack mode under test: tests that run or read it (pins of
the private code our patches rely on) go through here, so they check the LocalStack the stack runs.

Host mode: ``.venv-localstack`` (installed by `make up`). Docker mode (``STACK_MODE=docker``, as
the Makefile exports it): the image `make up` built, in a throw-away container without network.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCKER = os.environ.get("STACK_MODE") == "docker"
IMAGE = "clickstream-local/localstack:4.14.0"  # docker-compose.yml's image
VENV = "/opt/code/localstack/.venv" if DOCKER else str(REPO / ".venv-localstack")
SITE = f"{VENV}/lib/python3.13/site-packages"
#: a directory the probes may write to, where LocalStack's python runs
SCRATCH = "/tmp/clickstream-probe"


def python(*args: str) -> list[str]:
    """The command that runs LocalStack's python with ``args``."""
    if DOCKER:
        return [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            f"{VENV}/bin/python",
            IMAGE,
            *args,
        ]
    return [f"{VENV}/bin/python", *args]


def installed() -> bool:
    if DOCKER:
        return (
            subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode
            == 0
        )
    return Path(VENV, "bin", "python").is_file()


def missing() -> str:
    return (
        f"no {IMAGE}: `make up STACK_MODE=docker` builds it"
        if DOCKER
        else ("no .venv-localstack: run `scripts/stack.sh install` (make up)")
    )


def read(relative: str) -> str | None:
    """The text of ``relative`` under LocalStack's site-packages, or None when it is not there."""
    proc = subprocess.run(
        python("-c", "import sys; print(open(sys.argv[1]).read(), end='')", f"{SITE}/{relative}"),
        capture_output=True,
        text=True,
    )
    return proc.stdout if proc.returncode == 0 else None


def distributions() -> list[str]:
    """The ``*.dist-info`` directory names in LocalStack's site-packages."""
    proc = subprocess.run(
        python("-c", "import os, sys; print(*os.listdir(sys.argv[1]))", SITE),
        capture_output=True,
        text=True,
    )
    return [name for name in proc.stdout.split() if name.endswith(".dist-info")]
