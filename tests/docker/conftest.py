"""Docker mode's own checks: they need a Docker engine (`make docker-engine`, or one that answers)
and the extension image (`make up STACK_MODE=docker` builds it). Marked ``docker``: `make e2e-docker`
runs them; a missing engine or image fails them (never a silent skip)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "clickstream-local/localstack:4.14.0"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def image() -> str:
    """The extension image in a Docker engine that answers, or a clear failure."""
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail(
            "no Docker engine answers: `make docker-engine`, then run through make", pytrace=False
        )
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode != 0:
        pytest.fail(f"no {IMAGE}: `make up STACK_MODE=docker` builds it", pytrace=False)
    return IMAGE
