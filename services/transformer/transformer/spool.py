"""Where an invocation spools its outputs, and removing what dead invocations left there.

An invocation killed with SIGKILL (a Lambda timeout, an out-of-memory kill, `make down` in the
middle of one) never runs its ``finally`` blocks, so its spool files would stay forever: on AWS
in the environment's ``/tmp`` (512 MB to 10 GB, reused by the next runtime process of the same
environment), locally in the host's temp directory, shared by every process on the machine.

So every runtime process spools into its own directory, ``clickstream-spool-<pid>-<start>``
(``<start>`` is the process start time from ``/proc``, so a reused pid is not mistaken for the
dead owner), and each new runtime process first removes the directories whose owner is gone.
A directory of a live process is never touched: several runtimes may share one temp directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "clickstream-spool-"


def _start_time(pid: int) -> str | None:
    """The process start time (clock ticks since boot) from /proc; None if unknown or gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _alive(pid: int, start: str) -> bool:
    if Path("/proc/self/stat").exists():
        return _start_time(pid) == start
    try:  # no /proc (macOS): the pid alone
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner(directory: Path) -> tuple[int, str] | None:
    """``(pid, start)`` from a spool directory's name, None for any other name."""
    if not directory.name.startswith(PREFIX):
        return None
    pid, _, start = directory.name[len(PREFIX) :].partition("-")
    return (int(pid), start) if pid.isdigit() and start else None


def sweep(base: str | Path | None = None) -> list[Path]:
    """Remove the spool directories of dead processes under ``base``; returns them."""
    root = Path(base or tempfile.gettempdir())
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in root.iterdir():
            who = owner(entry)
            if who is None or not entry.is_dir() or _alive(*who):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def process_dir(base: str | Path | None = None) -> str:
    """This process's spool directory under ``base`` (system temp by default), created."""
    root = Path(base or tempfile.gettempdir())
    pid = os.getpid()
    directory = root / f"{PREFIX}{pid}-{_start_time(pid) or 'x'}"
    directory.mkdir(parents=True, exist_ok=True)
    return str(directory)
