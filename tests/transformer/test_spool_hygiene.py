"""No spool files survive an invocation killed with SIGKILL: the next runtime process removes
them, and never those of a runtime that is still alive.

Real processes and real signals: each "runtime" is a Python process that sets up its spool the
way ``lambda_handler`` does and starts writing an output exactly as the pipeline does
(``S3Sink.create``), then is killed with SIGKILL mid-write.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

RUNTIME = """
import sys, time
from transformer.handler import _own_spool_dir
from transformer.sink import S3Sink
spool = _own_spool_dir(sys.argv[1])
pending = S3Sink(None, "bucket", spool).create("events/x.parquet", "application/octet-stream")
with open(pending.path, "wb") as f:
    f.write(b"half a parquet file")
print(pending.path, flush=True)
if sys.argv[2] == "hang":
    time.sleep(600)
"""


def start_runtime(base: Path, mode: str) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNTIME, str(base), mode], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    while line.startswith("{"):  # the sweep's log line
        line = proc.stdout.readline().strip()
    part = Path(line)
    assert part.is_file() and part.name.endswith(".part")
    return proc, part


def part_files(base: Path) -> list[Path]:
    return sorted(base.rglob("*.part"))


def test_a_sigkilled_invocations_spool_is_removed_by_the_next_runtime(tmp_path: Path) -> None:
    killed, orphan = start_runtime(tmp_path, "hang")
    alive, survivor = start_runtime(tmp_path, "hang")  # another runtime, still working
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=10)
        assert orphan.exists()  # SIGKILL ran no cleanup

        nxt, own = start_runtime(tmp_path, "exit")  # the next runtime process starts
        nxt.wait(timeout=30)
        assert not orphan.exists() and not orphan.parent.exists()
        assert survivor.exists(), "a live runtime's spool must not be touched"
        assert set(part_files(tmp_path)) == {survivor, own}
    finally:
        alive.kill()
        alive.wait(timeout=10)
    # ...and once that one is gone too, the next start leaves nothing but its own directory.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from transformer.handler import _own_spool_dir; "
            "_own_spool_dir(sys.argv[1])",
            str(tmp_path),
        ],
        check=True,
    )
    assert part_files(tmp_path) == []
    assert len(list(tmp_path.iterdir())) == 1  # the last runtime's own (empty) directory
