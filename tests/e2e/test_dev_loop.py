"""`make dev` end to end: an edit to the transformer runs on the very next object, no deploy.

The real `make dev` switches the running stack to hot reload; the test then edits the real
``services/transformer/transformer/handler.py`` (restored afterwards, whatever happens), puts
objects into the raw bucket and reads the function's CloudWatch log, as a developer would.

Timing is measured on the stack's own clocks, never on how fast this test polls: from just before
the object is put to the CloudWatch timestamp of the new log line. The function is warmed up by
an object processed with the deployed code first, so a cold start (pyarrow import on a loaded
machine) is not what is measured: what is measured is the reload plus the S3 -> Lambda path.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.pipeline import GenConfig, generate_records

from .support import ENDPOINT, REPO, arrival_prefix, clean_pipeline, inventory, wait_for

HANDLER = REPO / "services" / "transformer" / "transformer" / "handler.py"
LIVE_WITHIN_S = 2.0
START_MS = 1_734_912_000_000  # 2024-12-23T00:00:00Z


def _make(target: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["LOCALSTACK_PORT"] = str(urllib.parse.urlparse(ENDPOINT).port or 4566)
    proc = subprocess.run(
        ["make", target], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        pytest.fail(f"make {target} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _write(path: Path, text: str) -> None:
    """Write and move the mtime forward, so the change is seen even within one clock tick."""
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    later = max(time.time_ns(), before + 1_000_000_000)
    os.utime(path, ns=(later, later))


@pytest.fixture(scope="module")
def dev_stack(s3: Any, outputs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`make dev` on the running stack; afterwards the handler file and the mode are restored."""
    original = HANDLER.read_text(encoding="utf-8")
    proc = _make("dev")
    assert "hot reload on" in proc.stdout
    clean_pipeline(s3, outputs)
    try:
        yield outputs
    finally:
        if HANDLER.read_text(encoding="utf-8") != original:
            _write(HANDLER, original)
        subprocess.run(
            [str(REPO / ".venv" / "bin" / "python"), "scripts/hot_reload.py", "off"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )


def _body(seed: int, n: int = 20) -> bytes:
    cfg = GenConfig(seed=seed, start_ms=START_MS, end_ms=START_MS + 3_600_000, count=n)
    return b"".join(r.data for r in generate_records(cfg))


def _put(s3: Any, outputs: dict[str, Any], name: str, seed: int) -> tuple[str, int]:
    """Put one raw object; return its key and the time (ms) just before the put."""
    key = f"{arrival_prefix(outputs)}dev-loop-{name}-{os.getpid()}"
    before_ms = int(time.time() * 1000)
    s3.put_object(Bucket=outputs["raw_bucket"], Key=key, Body=_body(seed))
    return key, before_ms


def _events(logs: Any, group: str, since_ms: int, pattern: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms}
    while True:
        page = logs.filter_log_events(**kwargs)
        found += [e for e in page["events"] if pattern in e["message"]]
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


def _processed(s3: Any, outputs: dict[str, Any], key: str) -> bool:
    """The transformer wrote its manifest for this raw object (it succeeded)."""
    return key in inventory(s3, outputs).processed_keys


def test_an_edit_runs_on_the_next_object_and_a_syntax_error_recovers(
    dev_stack: dict[str, Any], s3: Any, logs_client: Any, run_id: str
) -> None:
    outputs, group = dev_stack, str(dev_stack["lambda_log_group"])
    original = HANDLER.read_text(encoding="utf-8")

    # warm: the environment is up and has run an object before the edit
    warm_key, warm_ms = _put(s3, outputs, "warm", 1)
    wait_for(lambda: _processed(s3, outputs, warm_key), bool, timeout=120, what="warm-up object")

    marker = f"hot-reload-marker-{run_id}"
    _write(
        HANDLER,
        original
        + "\n\n_deployed_handler = lambda_handler\n\n\n"
        + "def lambda_handler(event, context):  # added by tests/e2e/test_dev_loop.py\n"
        + f"    print({marker!r})\n"
        + "    return _deployed_handler(event, context)\n",
    )
    edited_key, put_ms = _put(s3, outputs, "edited", 2)
    hits = wait_for(
        lambda: _events(logs_client, group, warm_ms, marker),
        bool,
        timeout=60,
        what=f"the new log line {marker!r} in {group}",
    )
    assert len(hits) == 1, hits  # the very next invocation, and only it, ran the edit
    wait_for(lambda: _processed(s3, outputs, edited_key), bool, timeout=60, what="edited object")
    live_s = (hits[0]["timestamp"] - put_ms) / 1000
    assert live_s <= LIVE_WITHIN_S, (
        f"the edit showed up {live_s:.2f}s after the object was put (target {LIVE_WITHIN_S}s)"
    )

    # a syntax error fails the invocation with a clear line ...
    _write(HANDLER, original + "\n\ndef broken(:\n")
    broken_key, broken_ms = _put(s3, outputs, "broken", 3)
    errors = wait_for(
        lambda: _events(logs_client, group, broken_ms, "Runtime.UserCodeSyntaxError"),
        bool,
        timeout=60,
        what="Runtime.UserCodeSyntaxError in the function's log",
    )
    assert "Syntax error in module 'transformer.handler'" in errors[0]["message"]
    assert not _processed(s3, outputs, broken_key)

    # ... and the fixed file recovers on the next object (the failed one is retried by Lambda)
    _write(HANDLER, original)
    fixed_key, _ = _put(s3, outputs, "fixed", 4)
    wait_for(lambda: _processed(s3, outputs, fixed_key), bool, timeout=60, what="fixed object")
    wait_for(
        lambda: _processed(s3, outputs, broken_key),
        bool,
        timeout=60,
        what="the object that failed on the syntax error, through Lambda's retry",
    )
    print(f"edit live {live_s:.2f}s after the object was put")
