"""The emulation bench's command line: bad use is one line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

from bench.bench_transformer import REPO_ROOT


def test_bad_arguments_are_one_line() -> None:
    cmd = [sys.executable, "-m", "bench.bench_emulation", "--runs", "0"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "bench_emulation: --size-mb and --runs must be at least 1"
    ]
