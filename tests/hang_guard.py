"""A hung test ends the run in bounded time, even when no Python code can run any more.

pytest-timeout (``timeout`` in pyproject.toml) fails an overrunning test by raising inside it:
its ``signal`` method needs the main thread to come back to the interpreter, its ``thread``
method needs its timer thread to take the GIL. A deadlock in C++ with the GIL held (the main
thread blocked on a native lock while the thread that owns that lock waits for the GIL, as the
Arrow scan deadlock did) allows neither: every thread sleeps on a lock, pytest-timeout never fires
and CI sits until its 90-minute limit.

This plugin arms faulthandler's watchdog for every test that pytest-timeout times, at that test's
own timeout (the ini value, ``--timeout`` or a ``timeout`` marker) plus ``hang_guard_grace``
seconds (default 60). The watchdog is a C thread that needs no GIL: it writes every thread's
Python stack to the terminal and exits the process with status 1. A test that pytest-timeout can
stop is stopped by it first and the run goes on; one it cannot stop costs its timeout plus the
grace, and fails CI with the stacks in the log.
"""

from __future__ import annotations

import faulthandler
import os
import sys

import pytest

GRACE_INI = "hang_guard_grace"
_STDERR_FD = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        GRACE_INI,
        "seconds past a test's pytest-timeout after which the hang guard dumps every thread's "
        "stack and exits the run",
        default="60",
    )


def pytest_configure(config: pytest.Config) -> None:
    # A copy of the terminal's stderr: while a test runs, fd 2 is pytest's capture file, which
    # nobody reads once the process exits.
    config.stash[_STDERR_FD] = os.dup(sys.stderr.fileno())


def pytest_unconfigure(config: pytest.Config) -> None:
    faulthandler.cancel_dump_traceback_later()
    if _STDERR_FD in config.stash:
        os.close(config.stash[_STDERR_FD])
        del config.stash[_STDERR_FD]


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: object) -> None:
    """Arm the watchdog beside pytest-timeout's own timer (returning None keeps that one too)."""
    timeout = float(getattr(settings, "timeout", 0) or 0)
    if timeout <= 0:
        return
    grace = float(item.config.getini(GRACE_INI))
    faulthandler.dump_traceback_later(
        timeout + grace, exit=True, file=item.config.stash[_STDERR_FD]
    )


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> None:
    faulthandler.cancel_dump_traceback_later()
