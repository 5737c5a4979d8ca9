"""`make up` checks its prerequisites first and names what is missing, in one line each,
before it starts anything (no tflocal error, no misleading "terraform init failed")."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _path_with(tmp_path: Path, *tools: str) -> str:
    """A PATH holding only the system directories and links to ``tools``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in tools:
        found = _real(tool)
        assert found, f"{tool} is needed on this machine to run the test"
        (bin_dir / tool).symlink_to(found)
    return f"{bin_dir}:/usr/bin:/bin"


def _real(tool: str) -> str | None:
    """The real binary (not a pyenv shim, which needs pyenv itself on PATH)."""
    if tool.startswith("python3."):
        pyenv = sorted((Path.home() / ".pyenv" / "versions").glob(f"{tool[6:]}.*/bin/{tool}"))
        if pyenv:
            return str(pyenv[-1])
    found = shutil.which(tool)
    return os.path.realpath(found) if found else None


def _make_up(path: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path, "HOME": str(home), "LOCALSTACK_PORT": "1", "STACK_MODE": "host"}
    return subprocess.run(
        ["make", "up"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


def test_make_up_without_terraform_names_it_and_starts_nothing(tmp_path: Path) -> None:
    proc = _make_up(_path_with(tmp_path, "python3.13"), tmp_path)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if "missing prerequisite" in line]
    assert len(errors) == 1 and "terraform not found on PATH" in errors[0], proc.stderr
    assert "install Terraform" in errors[0]
    assert "terraform init failed" not in proc.stderr + proc.stdout
    assert "stack.sh" not in proc.stdout  # stopped before starting anything


def test_missing_pythons_are_each_named(tmp_path: Path) -> None:
    proc = _make_up(_path_with(tmp_path, "terraform"), tmp_path)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if "missing prerequisite" in line]
    assert len(errors) == 1, proc.stderr  # the one Python (.python-version) is named once
    assert "Python 3.13 not found" in errors[0] and "python3.13" in errors[0], proc.stderr
    assert not any("terraform" in e for e in errors)


def test_an_extra_lambda_runtime_python_is_named(tmp_path: Path) -> None:
    path = _path_with(tmp_path, "terraform", "python3.13")
    env = {"PATH": path, "HOME": str(tmp_path), "LAMBDA_PYTHON_RUNTIMES": "python3.13,python3.9"}
    proc = subprocess.run(
        [str(REPO / "scripts" / "prereqs.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.count("missing prerequisite") == 1, proc.stderr
    assert "Python 3.9 not found" in proc.stderr


def test_host_mode_off_x86_64_linux_is_refused_in_one_line(tmp_path: Path) -> None:
    """On a Mac or an ARM machine without Docker, host mode would deploy a zip whose x86_64
    Linux wheels its local Python cannot load: `make up` says so before it starts anything.
    (A ``uname`` on PATH stands in for such a machine; this one is x86_64 Linux.)"""
    path = _path_with(tmp_path, "terraform", "python3.13")
    shim = tmp_path / "bin" / "uname"
    shim.write_text('#!/bin/sh\ncase "$1" in -s) echo Darwin ;; -m) echo arm64 ;; esac\n')
    shim.chmod(0o755)
    for mode, refused in (("host", True), ("docker", False)):
        env = {"PATH": path, "HOME": str(tmp_path), "STACK_MODE": mode}
        proc = subprocess.run(
            [str(REPO / "scripts" / "prereqs.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == (1 if refused else 0), (mode, proc.stderr)
        errors = proc.stderr.strip().splitlines()
        if refused:
            assert len(errors) == 1 and "Darwin arm64" in errors[0], proc.stderr
            assert "docker mode" in errors[0]
        else:
            assert errors == [], proc.stderr
    (tmp_path / "native").mkdir()
    native = subprocess.run(
        [str(REPO / "scripts" / "prereqs.sh")],
        env={
            "PATH": _path_with(tmp_path / "native", "terraform", "python3.13"),
            "HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert native.returncode == 0, native.stderr  # this machine: x86_64 Linux, host mode
