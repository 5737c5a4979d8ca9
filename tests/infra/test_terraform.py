"""Infrastructure checks that need no cloud and no credentials: fmt, validate, terraform test
(mocked AWS provider, both environments' tfvars) and checkov.

They run the same wrapper scripts a developer runs (scripts/tf.sh, scripts/checkov.sh), so a
broken wrapper fails here too. The real deployment proof is `make up` (tflocal apply).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TF = ROOT / "scripts" / "tf.sh"
CHECKOV = ROOT / "scripts" / "checkov.sh"

needs_terraform = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="terraform is not installed (see README)"
)


def run(*cmd: str | Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run a wrapper script from the repo root and capture everything it says."""
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}"


@needs_terraform
def test_terraform_is_formatted() -> None:
    proc = run(TF, "fmt-check")
    assert proc.returncode == 0, "run `scripts/tf.sh fmt`\n" + explain(proc)


@needs_terraform
def test_terraform_validates() -> None:
    proc = run(TF, "validate")
    assert proc.returncode == 0, explain(proc)
    assert "The configuration is valid" in proc.stdout


@needs_terraform
def test_terraform_tests_pass_for_aws_and_local_tfvars() -> None:
    proc = run(TF, "test")
    assert proc.returncode == 0, explain(proc)
    # One summary per environment (dev and local, each in both catalog modes), none failing; and the
    # runs really happened (a filter matching no file would report 0 passed).
    summaries = re.findall(r"Success! (\d+) passed, (\d+) failed", proc.stdout)
    assert len(summaries) == 2, explain(proc)
    assert all(int(passed) >= 1 and failed == "0" for passed, failed in summaries), explain(proc)
    for run_name in (
        "dev_environment",
        "dev_crawler_mode",
        "invalid_catalog_mode_is_rejected",
        "invalid_compression_is_rejected",
        "local_environment",
        "local_crawler_mode",
    ):
        assert f'run "{run_name}"... pass' in proc.stdout, explain(proc)


def test_checkov_has_no_unhandled_findings() -> None:
    proc = run(CHECKOV, timeout=900)
    assert proc.returncode == 0, explain(proc)
    match = re.search(
        r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", proc.stdout
    )
    assert match, explain(proc)
    passed, failed, _skipped = map(int, match.groups())
    assert failed == 0 and passed > 50, explain(proc)


def test_every_checkov_skip_gives_a_reason() -> None:
    skips = []
    for tf in sorted((ROOT / "infra").glob("*.tf")):
        for lineno, line in enumerate(tf.read_text().splitlines(), 1):
            if "checkov:skip" in line:
                skips.append((tf.name, lineno, line.strip()))
    assert skips, "expected documented checkov skips in infra/*.tf"
    for name, lineno, line in skips:
        m = re.fullmatch(r"#checkov:skip=(CKV2?_AWS_\d+):(.+)", line)
        assert m and len(m.group(2).strip()) >= 20, (
            f"{name}:{lineno}: skip without a real reason: {line}"
        )
