"""clickstream_common.process.exit_now: the exit code, atexit handlers and buffered output survive
the exit that skips Arrow's native teardown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import atexit, sys
from clickstream_common.process import exit_now
atexit.register(lambda: print("atexit ran", file=sys.stderr))
sys.stdout.write("buffered, no newline")
exit_now(int(sys.argv[1]))
"""


def _run(code: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(code)], capture_output=True, text=True, timeout=60
    )


def test_exit_code_output_and_atexit_handlers() -> None:
    for code in (0, 3):
        proc = _run(code)
        assert proc.returncode == code
        assert proc.stdout == "buffered, no newline"
        assert proc.stderr.strip() == "atexit ran"


def test_a_console_script_ends_through_it() -> None:
    """The installed clickstream-query is generated from pyproject's entry point: console_main."""
    for script in ("clickstream-query", "clickstream-replay"):
        text = (Path(sys.executable).parent / script).read_text()
        assert "console_main" in text, f"{script} does not end through exit_now"
