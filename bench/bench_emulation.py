"""What running the amd64 LocalStack service under emulation costs: native vs QEMU user mode.

Docker mode runs LocalStack as ``linux/amd64`` (the function's architecture), so on an ARM host
(Apple silicon, Graviton) Docker translates every instruction of the container: with QEMU user
mode (``binfmt_misc``, the Linux default) or with Rosetta (Docker Desktop on macOS). No ARM host
is at hand here, so this bench measures the same translator on this x86_64 host: each workload
runs natively and under ``qemu-x86_64`` (QEMU's TCG, which decodes x86_64 and emits host code,
here x86_64 again; on an ARM host the same front end emits AArch64). The ratio is a proxy for an
ARM host under QEMU, not a measurement of one, and says nothing of Rosetta, which translates
ahead of time and is usually much faster.

Workloads, each in its own process, alternating native and emulated, best of ``--runs``:

* ``import``: Python with pyarrow, DuckDB and boto3 imported, what every Lambda cold start and
  every LocalStack-side query pays first;
* ``transformer``: the transformer core on the generator's events (``bench_transformer``'s
  ``core`` child: steady state after a warm-up object), the Lambda's work;
* ``duckdb copy``: DuckDB's ``COPY`` of the same events to partitioned Parquet, the engine the
  local Athena and the compactor run on;
* ``localstack boot``: LocalStack (its own venv, the stack's services and this project's
  extensions, on a free port and a scratch data directory) from exec until every service is
  ready, what each `make up` waits for first. Terraform and the CLIs run on the host in docker
  mode too, natively, and are not part of it.

``qemu-x86_64`` comes from Debian's ``qemu-user``, installed with apt-get when it is missing and
this runs as root (as ``make docker-engine`` installs ``docker.io``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_transformer import REPO_ROOT, generate_sdk
from bench.common import render_table
from clickstream_common import localstack

LOCALSTACK_PY = REPO_ROOT / ".venv-localstack" / "bin" / "python"
BOOT_TIMEOUT_S = 900.0

QEMU = "qemu-x86_64"
IMPORTS = "import boto3, duckdb, pyarrow, pyarrow.json, pyarrow.parquet"


class Unavailable(Exception):
    """The bench cannot run on this machine (one line says why)."""


def qemu() -> str:
    """The path of ``qemu-x86_64``, installing Debian's ``qemu-user`` when it is missing."""
    found = shutil.which(QEMU)
    if found:
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        raise Unavailable(f"{QEMU} missing: install Debian's qemu-user (apt-get, as root)")
    print("installing qemu-user (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["update", "-qq"],
        ["install", "-y", "-qq", "--no-install-recommends", "qemu-user"],
    ):
        proc = subprocess.run(["apt-get", *cmd], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise Unavailable(f"apt-get {cmd[0]} failed: {proc.stderr.strip().splitlines()[-1:]}")
    found = shutil.which(QEMU)
    if not found:
        raise Unavailable(f"qemu-user installed but {QEMU} is not on PATH")
    return found


def timed(cmd: list[str]) -> tuple[float, str]:
    """Wall seconds of one process and its stdout; a failure raises with its stderr's tail."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed (exit {proc.returncode}):\n{tail}")
    return seconds, proc.stdout


def workloads(data: Path, out: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (command after the interpreter, what is timed: "wall" or the child's "seconds")."""
    child = ["-m", "bench.bench_transformer", "--child"]
    return {
        "import": (["-c", IMPORTS], "wall"),
        "transformer": ([*child, "core", str(data), str(out / "core")], "seconds"),
        "duckdb copy": ([*child, "duckdb", str(data), str(out / "duckdb")], "seconds"),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def boot_seconds(prefix: list[str], scratch: Path) -> float:
    """Seconds from exec until LocalStack reports every service of the stack ready."""
    port = free_port()
    env_lines = subprocess.run(
        [sys.executable, "scripts/stack.py", "env"],
        cwd=REPO_ROOT,
        env={**os.environ, "LOCALSTACK_PORT": str(port)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    settings = dict(line.split("=", 1) for line in env_lines if "=" in line)
    shutil.rmtree(scratch, ignore_errors=True)
    for name in ("FILESYSTEM_ROOT", "TMPDIR"):
        settings[name] = str(scratch / name.lower())
        Path(settings[name]).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    url = f"http://127.0.0.1:{port}"
    services = settings["SERVICES"].split(",")
    started = time.perf_counter()
    with (scratch / "localstack.log").open("wb") as log:
        proc = subprocess.Popen(
            [*prefix, str(LOCALSTACK_PY), "-m", "localstack.runtime.main"],
            env={**env, **settings},
            cwd=scratch,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while localstack.not_ready(localstack.health(url, timeout=2), services):
            if proc.poll() is not None:
                raise RuntimeError(f"LocalStack exited ({proc.returncode}): see its log")
            if time.perf_counter() - started > BOOT_TIMEOUT_S:
                raise RuntimeError(f"LocalStack not ready after {BOOT_TIMEOUT_S:.0f} s")
            time.sleep(0.2)
        return time.perf_counter() - started
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def best_of(runs: int, emulator: str, seconds: Callable[[list[str]], float]) -> tuple[float, float]:
    """Best native and best emulated seconds of ``runs`` alternating runs each."""
    best = {"native": float("inf"), "qemu": float("inf")}
    for _ in range(runs):
        for mode, prefix in (("native", []), ("qemu", [emulator])):
            best[mode] = min(best[mode], seconds(prefix))
    return best["native"], best["qemu"]


def measure(
    python: str, emulator: str, data: Path, out: Path, runs: int
) -> list[tuple[str, float, float]]:
    """(workload, best native seconds, best emulated seconds) per workload."""

    def process(args: list[str], what: str) -> Callable[[list[str]], float]:
        def seconds(prefix: list[str]) -> float:
            wall, stdout = timed([*prefix, python, *args])
            return wall if what == "wall" else float(json.loads(stdout)["seconds"])

        return seconds

    runners = {name: process(args, what) for name, (args, what) in workloads(data, out).items()}
    if LOCALSTACK_PY.exists():
        runners["localstack boot"] = lambda prefix: boot_seconds(prefix, out / "localstack")
    else:
        print("localstack boot: skipped, LocalStack is not installed (make up installs it)")
    results = []
    for name, seconds in runners.items():
        native, emulated = best_of(runs, emulator, seconds)
        print(f"{name}: native {native:.2f} s, qemu {emulated:.2f} s", flush=True)
        results.append((name, native, emulated))
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size-mb", type=int, default=20, help="generator events for the workloads")
    p.add_argument("--runs", type=int, default=3, help="runs per workload and mode (best kept)")
    p.add_argument("--quick", action="store_true", help="5 MB, one run (a smoke run)")
    args = p.parse_args(argv)
    size, runs = (5, 1) if args.quick else (args.size_mb, args.runs)
    if size < 1 or runs < 1:
        print("bench_emulation: --size-mb and --runs must be at least 1", file=sys.stderr)
        return 2
    if platform.machine() not in ("x86_64", "AMD64"):
        print(f"bench_emulation: needs an x86_64 host (this is {platform.machine()})")
        return 1
    try:
        emulator = qemu()
    except Unavailable as exc:
        print(f"bench_emulation: {exc}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-emulation-") as tmp:
        work = Path(tmp)
        data = work / f"sdk-{size}mb.json"
        generate_sdk(data, size)
        rows = measure(sys.executable, emulator, data, work, runs)
    print(f"\nnative vs {QEMU} (QEMU user mode, TCG) on this x86_64 host, {size} MB of the")
    print(f"generator's events, best of {runs} each, alternating:\n")
    table = [[name, round(n, 2), round(q, 2), f"{q / n:.1f}x"] for name, n, q in rows]
    print(render_table(["workload", "native s", "qemu s", "emulated / native"], table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
