#!/usr/bin/env python3
"""Run `make up`'s steps, the independent ones in parallel, and print one progress line per step.

  scripts/run_steps.py --title up "localstack=make start" "lambda zip=make build" then "deploy=..."

Each argument is ``name=shell command``; ``then`` starts the next phase, which waits for the
previous one. A step's output goes to ``.local/steps/<title>-<name>.log`` (long Terraform plans
stay out of the way); when a step fails, the others of its phase finish, its log tail is printed
and the exit status is non-zero. Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".local" / "steps"
TAIL_LINES = 40


@dataclass
class Step:
    name: str
    command: str
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0


def parse_phases(args: list[str], title: str) -> list[list[Step]]:
    """``["a=cmd", "b=cmd", "then", "c=cmd"]`` -> [[a, b], [c]]."""
    phases: list[list[Step]] = [[]]
    for arg in args:
        if arg == "then":
            phases.append([])
            continue
        name, sep, command = arg.partition("=")
        if not sep or not name.strip() or not command.strip():
            raise SystemExit(f"run_steps: expected name=command, got {arg!r}")
        slug = re.sub(r"[^a-z0-9]+", "-", f"{title}-{name}".lower()).strip("-")
        phases[-1].append(Step(name.strip(), command, LOG_DIR / f"{slug}.log"))
    return [phase for phase in phases if phase]


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # Terraform's colours
    return "\n".join(text.splitlines()[-lines:])


def run_phase(phase: list[Step], title: str, t0: float) -> list[Step]:
    """Start every step of the phase, report each as it ends; return the failed ones."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    for step in phase:
        step.started = time.monotonic()
        with step.log.open("wb") as log:
            step.process = subprocess.Popen(
                ["bash", "-c", step.command],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
    if len(phase) > 1:
        print(f"{title}: {' | '.join(s.name for s in phase)} (in parallel)", flush=True)
    pending, failed = list(phase), []
    while pending:
        for step in list(pending):
            assert step.process is not None
            code = step.process.poll()
            if code is None:
                continue
            pending.remove(step)
            step.seconds = time.monotonic() - step.started
            status = "done" if code == 0 else f"FAILED (exit {code})"
            print(
                f"{title}: [{time.monotonic() - t0:6.1f}s] {step.name:<16} {status} "
                f"in {step.seconds:.1f}s",
                flush=True,
            )
            if code != 0:
                failed.append(step)
        time.sleep(0.1)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_steps.py", description=__doc__.split("\n")[0])
    parser.add_argument("--title", default="steps")
    parser.add_argument("steps", nargs="+", help='"name=command" ... [then "name=command" ...]')
    args = parser.parse_args(argv)
    t0 = time.monotonic()
    for phase in parse_phases(args.steps, args.title):
        failed = run_phase(phase, args.title, t0)
        if failed:
            for step in failed:
                print(
                    f"--- {step.name}: last lines of {step.log.relative_to(ROOT)}", file=sys.stderr
                )
                print(tail(step.log), file=sys.stderr)
            return 1
    print(f"{args.title}: finished in {time.monotonic() - t0:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
