"""Create a virtualenv and `pip install` into it, done by uv when it can be: 5-10x faster.

    python scripts/venv_install.py --create [--no-pip] VENV_DIR   # a venv of this interpreter
    python scripts/venv_install.py VENV_DIR [pip install arguments...]
    python scripts/venv_install.py --uv                            # the pinned uv's path

Why: creating a venv with pip in it (ensurepip) and installing the lock files with pip (from its
cache) took about a minute per virtualenv on a fresh clone; uv installs the same pins from its
own cache (hard links where it can) in seconds. Every uv install is tried ``--offline`` first:
the pins are exact, so uv's cache alone can satisfy them, and revalidating the index pages of a
hundred packages costs ~4 s per install even when nothing is downloaded; on a cache miss the same
install runs online. ``--no-pip``: the venv is created without pip when uv is at hand (ensurepip
alone takes 3-5 s); the pip fallback bootstraps it with ensurepip when it is needed. uv is
bootstrapped from PyPI with the interpreter's pip into .local/tools/uv-<version>/ at the version
pinned in requirements/uv.txt (once, shared by both virtualenvs; a lock serialises the two
installs running side by side), so nothing is installed by hand and nothing outside the clone is
touched. When uv cannot be had or fails, the same install runs with pip (bootstrapped into the
venv with ensurepip where needed; one line on stderr says so): slower, never broken.
CLICKSTREAM_INSTALLER=pip forces pip.

Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UV_PIN = ROOT / "requirements" / "uv.txt"
TOOLS = ROOT / ".local" / "tools"


def uv_requirement() -> str:
    """``uv==X`` as requirements/uv.txt pins it (the one place the version lives)."""
    for line in UV_PIN.read_text().splitlines():
        if line.strip().startswith("uv=="):
            return line.strip()
    raise SystemExit(f"error: {UV_PIN} pins no uv==VERSION")


def use_pip() -> bool:
    return os.environ.get("CLICKSTREAM_INSTALLER", "uv") == "pip"


def _works(uv: Path) -> bool:
    if not uv.is_file():
        return False
    probe = subprocess.run([str(uv), "--version"], capture_output=True, text=True)
    return probe.returncode == 0


def ensure_uv() -> Path | None:
    """The pinned uv in .local/tools/, installed with this interpreter's pip if missing; None
    when that is impossible (no pip, no network)."""
    requirement = uv_requirement()
    home = TOOLS / requirement.replace("==", "-")
    uv = home / "bin" / "uv"
    TOOLS.mkdir(parents=True, exist_ok=True)
    with open(TOOLS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # `make up` creates both virtualenvs at once
        if _works(uv):
            return uv
        staging = home.with_name(home.name + ".partial")
        subprocess.run(["rm", "-rf", str(staging), str(home)], check=True)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-compile",
                "--target",
                str(staging),
                requirement,
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            return None
        staging.rename(home)
    return uv if _works(uv) else None


def create(venv: Path, no_pip: bool) -> int:
    """A venv of this interpreter, if missing; ``no_pip``: without pip when uv does the installs."""
    if (venv / "bin" / "python").is_file():
        return 0
    without_pip = no_pip and not use_pip() and ensure_uv() is not None
    cmd = [sys.executable, "-m", "venv", *(["--without-pip"] if without_pip else []), str(venv)]
    return subprocess.run(cmd).returncode


def pip_install(venv: Path, args: list[str]) -> int:
    python = str(venv / "bin" / "python")
    if not ensure_pip(python):
        return 1
    return subprocess.run([python, "-m", "pip", "install", "-q", "--no-compile", *args]).returncode


def uv_pip_install(uv: Path, args: list[str]) -> int:
    """`uv pip install ARGS`, from uv's cache alone when it can (no index round trips), else online.

    uv does not byte-compile by default (as pip --no-compile: modules compile on first import).
    The offline attempt's output is dropped: a cache miss there is expected, not an error.
    """
    offline = [str(uv), "pip", "install", "--quiet", "--offline", *args]
    if subprocess.run(offline, capture_output=True).returncode == 0:
        return 0
    return subprocess.run([str(uv), "pip", "install", "--quiet", *args]).returncode


def ensure_pip(python: str) -> bool:
    """True when ``python -m pip`` works, bootstrapping it with ensurepip if needed."""
    if subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0:
        return True
    return subprocess.run([python, "-m", "ensurepip"], capture_output=True).returncode == 0


def uv_install(uv: Path, venv: Path, args: list[str]) -> int:
    return uv_pip_install(uv, ["--python", str(venv / "bin" / "python"), *args])


def install(venv: Path, args: list[str]) -> int:
    if not (venv / "bin" / "python").is_file():
        print(f"error: {venv} is not a virtualenv (no bin/python)", file=sys.stderr)
        return 2
    if not use_pip():
        uv = ensure_uv()
        if uv is None:
            print(f"uv unavailable ({uv_requirement()}): installing with pip", file=sys.stderr)
        elif uv_install(uv, venv, args) == 0:
            return 0
        else:
            print("uv install failed: retrying with pip", file=sys.stderr)
    return pip_install(venv, args)


def main(argv: list[str]) -> int:
    if argv == ["--uv"]:  # for installs this script does not run itself (the docker stand-in's)
        uv = None if use_pip() else ensure_uv()
        if uv is None:
            print(f"error: uv unavailable ({uv_requirement()})", file=sys.stderr)
            return 1
        print(uv)
        return 0
    if argv[:1] == ["--create"] and len(argv) in (2, 3) and argv[1:-1] in ([], ["--no-pip"]):
        return create(Path(argv[-1]), no_pip=len(argv) == 3)
    if not argv or argv[0].startswith("-"):
        print(
            "usage: venv_install.py --create [--no-pip] VENV_DIR | VENV_DIR [pip arguments...]"
            " | --uv",
            file=sys.stderr,
        )
        return 2
    return install(Path(argv[0]), argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
