"""scripts/venv_install.py: both virtualenvs are created and filled by the pinned uv, and the same
install still works with pip when uv is not used; bad use is one line on stderr, never a traceback.

Real installs (six, a one-file wheel both installers have cached) into throwaway virtualenvs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "venv_install.py"
PYTHON = subprocess.run(
    [str(REPO / "scripts" / "python.sh")], capture_output=True, text=True, check=True
).stdout.strip()
SIX = "six==1.17.0"


def _run(*args: str, installer: str = "uv") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLICKSTREAM_INSTALLER": installer}
    return subprocess.run(
        [PYTHON, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=300
    )


def _imports_six(venv: Path) -> bool:
    probe = [str(venv / "bin" / "python"), "-c", "import six"]
    return subprocess.run(probe, capture_output=True).returncode == 0


@pytest.mark.slow
def test_uv_creates_a_venv_without_pip_and_installs_into_it(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert _run("--create", "--no-pip", str(venv)).returncode == 0
    assert not list((venv / "bin").glob("pip*")), "uv does the installs: no ensurepip (5 s)"
    done = _run(str(venv), SIX)
    assert done.returncode == 0, done.stderr
    assert "pip" not in done.stderr, "uv was expected to do the install"
    assert _imports_six(venv)
    pin = (REPO / "requirements" / "uv.txt").read_text()
    version = next(line for line in pin.splitlines() if line.startswith("uv==")).partition("==")[2]
    assert (REPO / ".local" / "tools" / f"uv-{version}" / "bin" / "uv").is_file()


@pytest.mark.slow
def test_pip_installs_the_same_into_a_venv_uv_created(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert _run("--create", "--no-pip", str(venv)).returncode == 0
    done = _run(str(venv), SIX, installer="pip")  # bootstraps pip with ensurepip first
    assert done.returncode == 0, done.stderr
    assert _imports_six(venv)


def test_not_a_venv_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = _run(str(tmp_path), SIX)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "not a virtualenv" in done.stderr


def test_no_arguments_prints_usage(tmp_path: Path) -> None:
    done = _run()
    assert done.returncode == 2 and done.stderr.startswith("usage:")
    assert "Traceback" not in done.stderr
