"""The hang guard (tests/hang_guard.py) ends a run whose test deadlocked in C with the GIL held.

The test below reproduces the shape of the Arrow scan deadlock with nothing but libc: the main
thread holds the GIL and blocks on a mutex another thread owns. pytest-timeout is set to 1 s and
cannot stop it (its signal handler never runs, its timer thread never gets the GIL): the run ends
only because the guard's watchdog fires at 1 s + 1 s grace, with the stacks and exit status 1.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

BLOCKED = """
import ctypes
import threading


def test_blocks_in_c_with_the_gil_held():
    releasing = ctypes.CDLL(None)  # foreign calls through CDLL release the GIL...
    holding = ctypes.PyDLL(None)  # ... through PyDLL they keep it
    mutex = ctypes.create_string_buffer(256)
    assert releasing.pthread_mutex_init(mutex, None) == 0
    owned = threading.Event()

    def owner():
        releasing.pthread_mutex_lock(mutex)
        owned.set()

    threading.Thread(target=owner, daemon=True).start()
    owned.wait()
    holding.pthread_mutex_lock(mutex)
"""


def test_a_deadlock_with_the_gil_held_ends_the_run_with_every_stack(tmp_path: Path) -> None:
    (tmp_path / "test_blocked.py").write_text(BLOCKED)
    (tmp_path / "pytest.ini").write_text("[pytest]\ntimeout = 1\nhang_guard_grace = 1\n")
    config = ["-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)]
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.hang_guard", *config, str(tmp_path)],
        cwd=REPO,  # `python -m` puts it on sys.path: tests.hang_guard imports
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Timeout (0:00:02)!" in proc.stderr, proc.stderr  # the guard, not pytest-timeout
    assert "in test_blocks_in_c_with_the_gil_held" in proc.stderr
    assert elapsed < 60
