"""The developer loop: time to a first result on a fresh clone, and a repeated `make up`.

* **warm `make up`**: the stack is up and nothing changed; best and median of ``--warm-runs``.
  Same-run baseline: `make deploy` on the same stack, a full `terraform apply` that finds nothing
  to change - what `make up` ran every time before it learnt to skip an unchanged deployment.
* **fresh-clone `make demo`**: ``git clone`` of this checkout's commit into a temporary
  directory, then `make demo` there on a LocalStack port of its own, with this machine's package
  caches (pip's, the Terraform provider mirror) as they are - what a new user with warm caches
  sees. Per-step times come from `make up`'s progress lines. Afterwards `make down` in the clone
  and the clone is removed. ``--baseline-ref REF`` runs the same on another commit in the same
  run (e.g. the commit before a change), for a comparison on equal terms.
* **second `make demo`** in the same clone after `make down`: the virtualenvs are installed, the
  stack is down - LocalStack's start, the apply, the events and the queries, without the installs
  (which dominate the first run on a busy machine and are the same work before and after).
* **docker mode** (when a Docker engine answers, e.g. after `make docker-engine`; ``--modes``):
  the same fresh-clone `make demo` with ``STACK_MODE=docker``, twice: with the image build (the
  extension image and Docker's build cache removed first, so docker/localstack/Dockerfile runs
  from the LocalStack image: its installs included) and without it (a second clone, whose build
  finds every layer cached). The LocalStack image itself (pulled, or the stand-in) is there
  already: `make docker-engine` prints how long the stand-in took.

The edit -> next-object time of `make dev` is measured by tests/e2e/test_dev_loop.py.

    .venv/bin/python -m bench.bench_devloop                 # all (needs `make up` for warm)
    .venv/bin/python -m bench.bench_devloop --skip-fresh    # warm only, ~1 min
    .venv/bin/python -m bench.bench_devloop --skip-warm --modes host,docker
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import render_table

ROOT = Path(__file__).resolve().parent.parent
TARGET_FRESH_DEMO_S = 75.0
TARGET_WARM_UP_S = 10.0
_STEP_LINE = re.compile(r"^up: \[\s*[\d.]+s\] (?P<name>.+?)\s+done in (?P<s>[\d.]+)s$")


EXTENSION_IMAGE = "clickstream-local/localstack:4.14.0"  # docker-compose.yml's image


@dataclass
class FreshRun:
    ref: str
    mode: str = "host"
    total_s: float = 0.0
    up_s: float = 0.0
    second_s: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    ok: bool = False
    tail: str = ""


def _make(target: str, cwd: Path, env: dict[str, str], timeout: float = 1800) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        ["make", target], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise SystemExit(f"make {target} failed in {cwd}:\n{proc.stdout[-2000:]}{proc.stderr}")
    return time.perf_counter() - started


def warm(runs: int) -> list[list[object]]:
    """`make up` on the running, unchanged stack vs a full no-change `make deploy`."""
    env = dict(os.environ)
    _make("up", ROOT, env)  # settle: the first call may legitimately apply something
    ups = [_make("up", ROOT, env) for _ in range(runs)]
    deploy = _make("deploy", ROOT, env)
    return [
        [
            "warm make up",
            min(ups),
            statistics.median(ups),
            TARGET_WARM_UP_S,
            "yes" if min(ups) <= TARGET_WARM_UP_S else "NO",
        ],
        ["make deploy (baseline)", deploy, deploy, "-", "-"],
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def docker_answers() -> bool:
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def forget_extension_image() -> None:
    """The next docker-mode `make up` builds docker/localstack/Dockerfile from the LocalStack
    image: the extension image and Docker's build cache (uv's cache mount included) removed."""
    subprocess.run(["docker", "image", "rm", "--force", EXTENSION_IMAGE], capture_output=True)
    subprocess.run(["docker", "builder", "prune", "--all", "--force"], capture_output=True)


def fresh_demo(ref: str, keep: bool, port: int | None = None, mode: str = "host") -> FreshRun:
    """Clone ``ref`` into a temporary directory and time `make demo` there (on ``port``, or a free
    one) in stack mode ``mode``; docker mode uses the Docker engine this process reaches."""
    run = FreshRun(ref=ref, mode=mode)
    workdir = Path(tempfile.mkdtemp(prefix="clickstream-fresh-"))
    clone = workdir / "clickstream-local"
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLICKSTREAM_"))}
    env.update(
        LOCALSTACK_PORT=str(port),
        PYTHONDONTWRITEBYTECODE="1",
        STACK_MODE=mode.split(",")[0],
    )
    env.pop("STACK_MODE_WHY", None)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", ref], cwd=clone, check=True)
    lines: list[str] = []
    started = time.perf_counter()
    try:
        with subprocess.Popen(
            ["make", "demo"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("stack is up") and not run.up_s:
                    run.up_s = time.perf_counter() - started
                match = _STEP_LINE.match(line.strip())
                if match:
                    run.steps[match["name"]] = float(match["s"])
            run.ok = proc.wait() == 0
        run.total_s = time.perf_counter() - started
        if run.ok:
            _make("down", clone, env, timeout=300)
            run.second_s = _make("demo", clone, env)
    finally:
        run.tail = "\n".join(lines[-15:])
        subprocess.run(
            ["make", "down", "KEEP_DATA=0"], cwd=clone, env=env, capture_output=True, timeout=300
        )
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"clone kept in {clone}", file=sys.stderr)
    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm-runs", type=int, default=3)
    ap.add_argument("--skip-warm", action="store_true", help="no warm `make up` (no stack needed)")
    ap.add_argument("--skip-fresh", action="store_true", help="no fresh-clone `make demo`")
    ap.add_argument("--ref", default="HEAD", help="commit to clone for the fresh run")
    ap.add_argument("--baseline-ref", help="also time a fresh-clone `make demo` of this commit")
    ap.add_argument("--keep", action="store_true", help="keep the clones (for debugging)")
    ap.add_argument(
        "--port", type=int, help="LocalStack port of the fresh clones (default: a free one)"
    )
    ap.add_argument(
        "--modes",
        help="stack modes of the fresh clones: host, docker (default: host, and docker when a "
        "Docker engine answers)",
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: one warm `make up`, no clone")
    args = ap.parse_args(argv)
    if args.quick:
        args.warm_runs, args.skip_fresh = 1, True
    modes = (args.modes or ("host,docker" if docker_answers() else "host")).split(",")
    if "docker" in modes and not docker_answers():
        raise SystemExit("bench_devloop: no Docker engine answers (make docker-engine)")

    if not args.skip_warm:
        print("warm `make up` (stack up, nothing changed) vs a no-change `terraform apply`:")
        headers = ["case", "best s", "median s", "target s", "met"]
        print(render_table(headers, warm(args.warm_runs)), flush=True)

    if args.skip_fresh:
        return 0
    refs = [("this", args.ref)] + ([("baseline", args.baseline_ref)] if args.baseline_ref else [])
    # docker mode twice: the extension image built from the LocalStack image, then cached
    variants = [
        v
        for mode in modes
        for v in (["host"] if mode == "host" else ["docker, image built", "docker, image cached"])
    ]
    shas = {
        ref: subprocess.run(
            ["git", "rev-parse", "--short", ref],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for _, ref in refs
    }
    rows, failed = [], False
    for (label, ref), variant in [(r, v) for r in refs for v in variants]:
        sha = shas[ref]
        print(f"\nfresh clone of {sha} ({label}, {variant}): make demo ...", flush=True)
        if variant == "docker, image built":
            forget_extension_image()
        run = fresh_demo(sha, args.keep, args.port, variant)
        if not run.ok:
            failed = True
            print(f"make demo failed; last lines:\n{run.tail}", file=sys.stderr)
        steps = ", ".join(f"{name} {s:.0f}s" for name, s in run.steps.items()) or "-"
        met = "yes" if run.ok and run.total_s <= TARGET_FRESH_DEMO_S else "NO"
        rows.append(
            [
                f"{label} {sha} ({variant})",
                run.total_s,
                run.up_s,
                run.total_s - run.up_s,
                met,
                run.second_s,
            ]
        )
        print(f"  make up steps: {steps}")
    print()
    headers = [
        "fresh-clone make demo",
        "total s",
        "make up s",
        "events+queries s",
        "<= 75 s",
        "2nd demo s",
    ]
    print(render_table(headers, rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
