"""The deployed Lambda's runtime process is killed with SIGKILL mid-invocation: its spool files
are removed when the next runtime process starts (the retry), and the object still reconciles.

Local only by nature: the local Lambda spools in its machine's temp directory (the host's, or
the LocalStack container's in docker mode: support.where_the_lambda_runs), so the test sees the
spool directory (``clickstream-spool-<pid>-<start>``) and the runtime's pid in its name.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from generator.pipeline import GenConfig, generate_records

from .support import (
    arrival_prefix,
    clean_pipeline,
    spool_files,
    wait_for,
    wait_reconciled,
    where_the_lambda_runs,
)

EVENTS = 100_000


def _our_lambda_runtime(pid: int, function_name: str) -> bool:
    """The pid is a runtime process of this stack's function (never kill anything else)."""
    code = (
        "import sys\n"
        "try:\n"
        "    env = open(f'/proc/{sys.argv[1]}/environ', 'rb').read().split(b'\\0')\n"
        "    cmd = open(f'/proc/{sys.argv[1]}/cmdline', 'rb').read()\n"
        "except OSError:\n"
        "    print(False); sys.exit()\n"
        "print(b'bootstrap.py' in cmd and f'AWS_LAMBDA_FUNCTION_NAME={sys.argv[2]}'.encode() in env)"
    )
    return where_the_lambda_runs(code, str(pid), function_name).strip() == "True"


def _exists(path: str) -> bool:
    code = "import os, sys; print(os.path.exists(sys.argv[1]))"
    return where_the_lambda_runs(code, path).strip() == "True"


def test_spool_of_a_sigkilled_invocation_is_removed_and_the_retry_reconciles(
    s3: Any, outputs: dict[str, Any], run_id: str
) -> None:
    clean_pipeline(s3, outputs, settle_timeout=180)
    cfg = GenConfig(seed=9, start_ms=1_735_084_800_000, end_ms=1_735_171_200_000, count=EVENTS)
    lines = [r.data if r.data.endswith(b"\n") else r.data + b"\n" for r in generate_records(cfg)]
    key = f"{arrival_prefix(outputs)}killed-{run_id}"
    # A bad first line: the quarantine output starts spooling with the first block.
    s3.put_object(Bucket=str(outputs["raw_bucket"]), Key=key, Body=b"not json\n" + b"".join(lines))
    name = key.rsplit("/", 1)[-1]
    spooled, *_ = wait_for(
        lambda: spool_files(name),
        bool,
        timeout=120,
        interval=0.05,
        what="the invocation to spool its outputs",
    )
    directory = str(PurePosixPath(spooled).parent)
    pid = int(PurePosixPath(directory).name.removeprefix("clickstream-spool-").split("-")[0])
    assert _our_lambda_runtime(pid, str(outputs["lambda_name"])), f"pid {pid} is not our runtime"
    where_the_lambda_runs(
        "import os, signal, sys; os.kill(int(sys.argv[1]), signal.SIGKILL)", str(pid)
    )

    # Lambda retries the event in a fresh runtime process, which sweeps the dead one's spool.
    wait_for(
        lambda: _exists(directory),
        lambda exists: not exists,
        timeout=120,
        what=f"{directory} to be removed by the next runtime process",
    )
    wait_reconciled(s3, outputs, rows=EVENTS, quarantined=1, timeout=180, what="the retried object")
    assert spool_files(name) == []
