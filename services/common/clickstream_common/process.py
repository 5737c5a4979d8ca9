"""Ending a command-line process that used Arrow (or DuckDB) without the native teardown.

pyarrow 26 can abort at interpreter exit, after all the work is done and printed: a native thread
pool is torn down while one of its threads is still joinable, and ``std::terminate`` ends the
process with SIGABRT ("terminate called without an active exception", exit 134). Measured here:
6 of 80 short runs that write and read one Parquet table, on a busy 2-core machine
(apache/arrow#34314 describes the same). A CLI that prints its answer and then exits 134 would
fail ``make demo`` at random, so the console scripts that run Arrow leave through
:func:`exit_now`: Python's ``atexit`` handlers run as usual, the standard streams are flushed, and
the process ends with ``os._exit``, which skips the native destructors where the abort happens.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Run the ``atexit`` handlers, flush stdout/stderr, and end the process with ``code``."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # a closed stream or a broken pipe: nothing more can be written anyway
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
