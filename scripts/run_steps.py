#!/usr/bin/env python3
"""Run `make up`'s steps, each as soon as the steps it needs are done, one progress line per step.

  scripts/run_steps.py --title up "venv=make venv" "localstack=make start" \
      "lambda zip<venv=make build" "terraform apply<localstack,lambda zip=make deploy-if-changed"

Each argument is ``name=shell command`` or ``name<needs,...=shell command``: a step starts when
every step it needs has succeeded, so independent steps (starting LocalStack, building the zip,
`terraform init`) overlap. A step's output goes to ``.local/steps/<title>-<name>.log`` (long
Terraform plans stay out of the way). When a step fails, nothing new starts, the running steps
finish, the failed step's log tail is printed and the exit status is non-zero.
Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".local" / "steps"
TAIL_LINES = 40
_STEP = re.compile(r"^(?P<name>[^<=]+?)\s*(?:<(?P<needs>[^=]*))?=(?P<command>.+)$", re.S)


@dataclass
class Step:
    name: str
    command: str
    log: Path
    needs: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started: float = 0.0
    seconds: float = 0.0
    code: int | None = None


def parse_steps(args: list[str], title: str) -> list[Step]:
    """``"name<a,b=command"`` arguments -> steps (needs must name earlier steps)."""
    steps: list[Step] = []
    for arg in args:
        match = _STEP.match(arg)
        if not match or not match["command"].strip():
            raise SystemExit(f"run_steps: expected name[<needs]=command, got {arg!r}")
        needs = tuple(n.strip() for n in (match["needs"] or "").split(",") if n.strip())
        unknown = [n for n in needs if n not in {s.name for s in steps}]
        if unknown:
            raise SystemExit(f"run_steps: {match['name']!r} needs unknown step(s) {unknown}")
        slug = re.sub(r"[^a-z0-9]+", "-", f"{title}-{match['name']}".lower()).strip("-")
        steps.append(Step(match["name"].strip(), match["command"], LOG_DIR / f"{slug}.log", needs))
    return steps


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output)"
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # Terraform's colours
    return "\n".join(text.splitlines()[-lines:])


def _start(step: Step) -> None:
    step.started = time.monotonic()
    with step.log.open("wb") as log:
        step.process = subprocess.Popen(
            ["bash", "-c", step.command],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def run(steps: list[Step], title: str) -> list[Step]:
    """Run the steps in dependency order, overlapping what can overlap; return the failed ones."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    waiting: list[Step] = list(steps)
    running: list[Step] = []
    failed: list[Step] = []
    done: set[str] = set()
    while waiting or running:
        if not failed:
            for step in [s for s in waiting if set(s.needs) <= done]:
                waiting.remove(step)
                _start(step)
                running.append(step)
        elif not running:
            break
        for step in list(running):
            assert step.process is not None
            step.code = step.process.poll()
            if step.code is None:
                continue
            running.remove(step)
            step.seconds = time.monotonic() - step.started
            ok = step.code == 0
            if ok:
                done.add(step.name)
            else:
                failed.append(step)
            status = "done" if ok else f"FAILED (exit {step.code})"
            print(
                f"{title}: [{time.monotonic() - t0:6.1f}s] {step.name:<16} {status} "
                f"in {step.seconds:.1f}s",
                flush=True,
            )
        time.sleep(0.1)
    if not failed:
        print(f"{title}: finished in {time.monotonic() - t0:.1f}s", flush=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_steps.py", description=__doc__.split("\n")[0])
    parser.add_argument("--title", default="steps")
    parser.add_argument("steps", nargs="+", help='"name=command" or "name<needs,...=command"')
    args = parser.parse_args(argv)
    failed = run(parse_steps(args.steps, args.title), args.title)
    for step in failed:
        print(f"--- {step.name}: last lines of {step.log.relative_to(ROOT)}", file=sys.stderr)
        print(tail(step.log), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
