"""`pip install` into a virtualenv, done by uv when it can be: the same arguments, 5-10x faster.

    python scripts/venv_install.py VENV_DIR [pip install arguments...]

Why: installing the lock files with pip (from its cache) took about a minute per virtualenv on a
fresh clone; uv installs the same pins from its cache (hard links where it can) in seconds. uv is
bootstrapped from PyPI with pip into the virtualenv itself, at the version pinned in
requirements/uv.txt, so nothing is installed by hand and nothing outside the venv is touched.
When uv cannot be had or fails, the same install runs with pip (one line on stderr says so):
slower, never broken. CLICKSTREAM_INSTALLER=pip forces pip.

Standard library only: scripts/stack.py runs it before any project code is importable.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

UV_PIN = Path(__file__).resolve().parent.parent / "requirements" / "uv.txt"


def uv_requirement() -> str:
    """``uv==X`` as requirements/uv.txt pins it (the one place the version lives)."""
    for line in UV_PIN.read_text().splitlines():
        if line.strip().startswith("uv=="):
            return line.strip()
    raise SystemExit(f"error: {UV_PIN} pins no uv==VERSION")


def _quiet(cmd: list[str]) -> bool:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.returncode == 0


def ensure_uv(venv: Path) -> Path | None:
    """The venv's uv at the pinned version, installed with pip if missing; None when unavailable."""
    uv = venv / "bin" / "uv"
    want = uv_requirement().partition("==")[2]
    if uv.is_file():
        probe = subprocess.run([str(uv), "--version"], capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.split()[1:2] == [want]:
            return uv
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    if not _quiet([*pip, "-r", str(UV_PIN)]) or not uv.is_file():
        return None
    return uv


def pip_install(venv: Path, args: list[str]) -> int:
    cmd = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile", *args]
    return subprocess.run(cmd).returncode


def uv_install(uv: Path, venv: Path, args: list[str]) -> int:
    # uv does not byte-compile by default (as pip --no-compile: modules compile on first import)
    cmd = [str(uv), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *args]
    return subprocess.run(cmd).returncode


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: venv_install.py VENV_DIR [pip install arguments...]", file=sys.stderr)
        return 2
    venv, args = Path(argv[0]), argv[1:]
    if not (venv / "bin" / "python").is_file():
        print(f"error: {venv} is not a virtualenv (no bin/python)", file=sys.stderr)
        return 2
    if os.environ.get("CLICKSTREAM_INSTALLER", "uv") != "pip":
        uv = ensure_uv(venv)
        if uv is None:
            print(f"uv unavailable ({uv_requirement()}): installing with pip", file=sys.stderr)
        elif uv_install(uv, venv, args) == 0:
            return 0
        else:
            print("uv install failed: retrying with pip", file=sys.stderr)
    return pip_install(venv, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
