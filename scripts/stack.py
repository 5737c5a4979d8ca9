"""Docker-less local AWS stack: LocalStack (same version as the docker-compose image) as a host process.

Why a host process: CI and this machine have no Docker engine. LocalStack's Lambda then runs
functions through our subprocess executor plugin (emulator/, clickstream_emulator.lambda_executor).

Subcommands (run through scripts/stack.sh, which picks a Python >= 3.13: localstack-core 4.14.0
imports warnings.deprecated, new in 3.13, although its metadata claims >=3.10):
  install   .venv-localstack from requirements/localstack-lock.txt (falls back to
            localstack-core==4.14.0 + LocalStack's own pins), the executor plugin, and the Lambda
            python runtimes in .local/lambda-runtime/. Skipped when the stamp matches the inputs.
  start     background `python -m localstack.runtime.main`, pid/log in .local/localstack/, waits
            until /_localstack/health reports our services; no-op when already running.
  stop      stops exactly the recorded process and its descendants (Lambda environments included).
  restart, status, logs [-f], mode (prints docker|host), env (prints LocalStack's environment),
  port (prints the port: LOCALSTACK_PORT, else the one this checkout's LocalStack runs on, else 4566).

Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The one LocalStack health check lives in clickstream_common (standard library only at import);
# stack.sh runs this file with `python -I` before any virtualenv exists, so import it by path.
_spec = importlib.util.spec_from_file_location(
    "clickstream_common_localstack",
    ROOT / "services" / "common" / "clickstream_common" / "localstack.py",
)
assert _spec is not None and _spec.loader is not None
localstack = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(localstack)

VENV = ROOT / ".venv-localstack"
VENV_PY = VENV / "bin" / "python"
STAMP = VENV / ".stack-install-stamp"
STATE = ROOT / ".local" / "localstack"
PID_FILE = STATE / "localstack.pid"
LOG_FILE = STATE / "localstack.log"
RUNTIME_ROOT = ROOT / ".local" / "lambda-runtime"
LOCK = ROOT / "requirements" / "localstack-lock.txt"
PINS = ROOT / "requirements" / "localstack-runtime-4.14.0.txt"
PLUGIN = ROOT / "emulator"
RUNTIME_REQUIREMENTS = ROOT / "emulator" / "lambda-runtime-requirements.txt"
PYTHON_VERSION_FILE = ROOT / ".python-version"
FIND_PYTHON = ROOT / "scripts" / "python.sh"
VENV_INSTALL = ROOT / "scripts" / "venv_install.py"
UV_PIN = ROOT / "requirements" / "uv.txt"
DEV_REQUIREMENTS = ROOT / "requirements" / "dev.txt"
#: What the local Athena runs inside LocalStack (clickstream_emulator.athena -> athena_local),
#: at the versions the project's tests use (pins read from requirements/dev.txt).
ATHENA_ENGINE_PACKAGES = ("duckdb", "pyarrow", "sqlglot")

LOCALSTACK_VERSION = "4.14.0"
MIN_PYTHON = (3, 13)
EXECUTOR = "subprocess"
# What the pipeline uses (Terraform needs sts/iam; Lambda destinations sqs; Firehose logs to logs;
# glue and athena are served by our extensions in emulator/).
DEFAULT_SERVICES = "s3,firehose,lambda,iam,sts,logs,sqs,cloudwatch,kms,glue,athena,events"


class StackError(Exception):
    """A failure with a message that tells the user what to do."""


# ---------------------------------------------------------------------------- settings
def port() -> int:
    """``LOCALSTACK_PORT``, else the port this checkout's LocalStack was started on (its pid
    file: the checkout remembers it until `make down`, as the Makefile does), else 4566."""
    return int(os.environ.get("LOCALSTACK_PORT") or recorded_port() or 4566)


def services() -> list[str]:
    raw = os.environ.get("LOCALSTACK_SERVICES") or DEFAULT_SERVICES
    return [name.strip() for name in raw.split(",") if name.strip()]


def python_runtimes() -> list[str]:
    """Lambda runtimes to install: the project's Python (.python-version) unless listed."""
    raw = (
        os.environ.get("LAMBDA_PYTHON_RUNTIMES")
        or f"python{PYTHON_VERSION_FILE.read_text().strip()}"
    )
    return [name.strip() for name in raw.split(",") if name.strip()]


def localstack_env(gateway_port: int) -> dict[str, str]:
    """LocalStack's configuration in host mode (docker-compose.yml sets the same where it applies)."""
    return {
        "SERVICES": ",".join(services()),
        "EAGER_SERVICE_LOADING": "1",  # load services before "ready": the first call is not slow
        "GATEWAY_LISTEN": f"127.0.0.1:{gateway_port}",
        # hypercorn honours the 127.0.0.1 above; LocalStack's default (twisted) listens on all
        # interfaces whatever GATEWAY_LISTEN says. GATEWAY_SERVER=twisted switches back.
        "GATEWAY_SERVER": os.environ.get("GATEWAY_SERVER") or "hypercorn",
        "LOCALSTACK_HOST": f"localhost:{gateway_port}",  # URLs LocalStack hands out must resolve offline
        "SQS_ENDPOINT_STRATEGY": "off",  # http://localhost:4566/<account>/<queue>: resolves offline and the AWS provider accepts it
        "LAMBDA_RUNTIME_EXECUTOR": EXECUTOR,
        # our Firehose provider (emulator/, clickstream_emulator.firehose): AWS's S3 delivery;
        # PROVIDER_OVERRIDE_FIREHOSE=default selects LocalStack's own (for A/B benchmarks)
        "PROVIDER_OVERRIDE_FIREHOSE": os.environ.get("PROVIDER_OVERRIDE_FIREHOSE") or "clickstream",
        "LAMBDA_SUBPROCESS_RUNTIME_ROOT": str(RUNTIME_ROOT),
        "LAMBDA_SUBPROCESS_ENDPOINT_HOST": "127.0.0.1",
        "PERSISTENCE": "0",  # every start is a clean state; `make up` redeploys
        "FILESYSTEM_ROOT": str(STATE / "filesystem"),
        "TMPDIR": str(STATE / "tmp"),  # unpacked Lambda code etc. stays under .local/
        "DNS_ADDRESS": "0",  # no DNS server on port 53 on the host
        "SKIP_SSL_CERT_DOWNLOAD": "1",  # offline: use a self-signed certificate
        "DISABLE_EVENTS": "1",  # no analytics calls
    }


# ---------------------------------------------------------------------------- install
def find_interpreter(version: str) -> Path:
    """The real binary of Python ``version`` ("3.13"), found by scripts/python.sh."""
    probe = subprocess.run([str(FIND_PYTHON), version], capture_output=True, text=True)
    if probe.returncode != 0:
        raise StackError(
            f"Python {version} not found (needed by the Lambda runtime python{version}): "
            f"put python{version} on PATH or `pyenv install {version}`"
        )
    return Path(probe.stdout.strip())


def install_key(runtimes: list[str]) -> str:
    """Hash of everything an install depends on: a change re-runs it, no change skips it."""
    digest = hashlib.sha256()
    inputs = (
        LOCK if LOCK.is_file() else PINS,
        PLUGIN / "pyproject.toml",
        RUNTIME_REQUIREMENTS,
        UV_PIN,
    )
    for path in inputs:
        digest.update(path.read_bytes())
    digest.update(" ".join(athena_engine_pins()).encode())
    digest.update(",".join(runtimes).encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def runtimes_present(runtimes: list[str]) -> bool:
    return all(
        (RUNTIME_ROOT / name / "interpreter").is_file()
        and (RUNTIME_ROOT / name / "site-packages" / "boto3").is_dir()
        for name in runtimes
    )


def venv_version() -> tuple[int, int]:
    probe = subprocess.run(
        [str(VENV_PY), "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    major, minor = probe.stdout.split() if probe.returncode == 0 else ("0", "0")
    return int(major), int(minor)


def athena_engine_pins() -> list[str]:
    """``duckdb==X`` etc. exactly as requirements/dev.txt pins them (one source of versions)."""
    pins = {}
    for line in DEV_REQUIREMENTS.read_text().splitlines():
        name, sep, _version = line.strip().partition("==")
        if sep and name.lower() in ATHENA_ENGINE_PACKAGES:
            pins[name.lower()] = line.strip()
    missing = [name for name in ATHENA_ENGINE_PACKAGES if name not in pins]
    if missing:
        raise StackError(
            f"{DEV_REQUIREMENTS} pins no {', '.join(missing)} (the local Athena needs them)"
        )
    return [pins[name] for name in ATHENA_ENGINE_PACKAGES]


def pip(*args: str) -> None:
    """`pip install` into LocalStack's venv through scripts/venv_install.py: uv from its cache
    (seconds), pip when uv is unavailable. Neither byte-compiles: Python compiles what LocalStack
    imports on first use (compiling all of botocore/moto/localstack was half of pip's install)."""
    subprocess.run([sys.executable, str(VENV_INSTALL), str(VENV), *args], check=True)


def install_runtime(name: str) -> None:
    """A Lambda runtime = interpreter path + the SDK AWS ships with it (boto3), as a site dir."""
    version = name.removeprefix("python")
    interpreter = find_interpreter(version)
    runtime_dir = RUNTIME_ROOT / name
    site = runtime_dir / "site-packages"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    pip(
        "--no-deps",
        "--only-binary=:all:",
        f"--python-version={version}",
        "--target",
        str(site),
        "-r",
        str(RUNTIME_REQUIREMENTS),
    )
    (runtime_dir / "interpreter").write_text(f"{interpreter}\n")
    print(f"lambda runtime {name}: {interpreter} + {site}")


def install() -> None:
    if sys.version_info < MIN_PYTHON:
        raise StackError(f"LocalStack {LOCALSTACK_VERSION} needs Python >= 3.13, got {sys.version}")
    runtimes = python_runtimes()
    key = install_key(runtimes)
    if (
        VENV_PY.exists()
        and STAMP.is_file()
        and STAMP.read_text() == key
        and runtimes_present(runtimes)
    ):
        print(f"localstack {LOCALSTACK_VERSION} host install is up to date ({VENV})")
        return
    started = time.monotonic()
    if VENV_PY.exists() and venv_version() < MIN_PYTHON:
        print(f"{VENV} uses Python {venv_version()}: recreating it with {sys.version.split()[0]}")
        shutil.rmtree(VENV)
    if not VENV_PY.exists():
        subprocess.run(
            [sys.executable, str(VENV_INSTALL), "--create", "--no-pip", str(VENV)], check=True
        )
    if LOCK.is_file():
        pip("-r", str(LOCK))
    else:
        pip(f"localstack-core=={LOCALSTACK_VERSION}", "-r", str(PINS))
    # the local Athena's engine: athena_local + clickstream_common (this repo) and their libraries
    pip("--only-binary=:all:", *athena_engine_pins())
    pip("--no-deps", "-e", str(PLUGIN), "-e", str(ROOT))
    RUNTIME_ROOT.mkdir(parents=True, exist_ok=True)
    (RUNTIME_ROOT / "aws-config").write_text("[default]\ns3 =\n    addressing_style = path\n")
    for name in runtimes:
        install_runtime(name)
    check = (
        "from localstack.services.lambda_.invocation.runtime_executor import "
        f"EXECUTOR_PLUGIN_MANAGER as m; assert m.exists({EXECUTOR!r})"
    )
    if subprocess.run([str(VENV_PY), "-c", check]).returncode != 0:
        raise StackError(f"executor plugin {EXECUTOR!r} is not discoverable by LocalStack")
    STAMP.write_text(key)
    print(f"installed localstack {LOCALSTACK_VERSION} in {time.monotonic() - started:.0f}s")


# ---------------------------------------------------------------------------- processes
def _pid_file_field(index: int) -> int | None:
    """Field ``index`` of the pid file ("<pid> <port>"), or None when absent or unreadable."""
    try:
        return int(PID_FILE.read_text().split()[index])
    except (OSError, ValueError, IndexError):
        return None


def read_pid() -> int | None:
    return _pid_file_field(0)


def recorded_port() -> int | None:
    """The port the recorded LocalStack listens on (older pid files do not say)."""
    return _pid_file_field(1)


def is_our_localstack(pid: int) -> bool:
    """Alive and really LocalStack (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"localstack.runtime.main" in cmdline and not _is_zombie(pid)


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields after "pid (comm) "


def _is_zombie(pid: int) -> bool:
    fields = _stat(pid)
    return fields is None or fields[0] == "Z"


def descendants(pid: int) -> dict[int, str]:
    """All processes below ``pid``, as pid -> start time (to recognise them after reparenting)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            starts[int(entry.name)] = fields[19]
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = starts[child]
                todo.append(child)
    return found


def _alive_same(pid: int, start: str) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[19] == start and fields[0] != "Z"


# ---------------------------------------------------------------------------- health
def endpoint() -> str:
    return f"http://localhost:{port()}"


def health() -> dict[str, Any] | None:
    return localstack.health(endpoint(), timeout=2)


def not_ready(report: dict[str, Any] | None) -> list[str]:
    """The requested services that are not up yet (all of them if there is no report)."""
    return localstack.not_ready(report, services())


def port_in_use(number: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", number)) == 0


def log_tail(lines: int = 40) -> str:
    try:
        return "\n".join(LOG_FILE.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------- commands
def wait_ready(pid: int, started: float) -> None:
    deadline = started + float(os.environ.get("LOCALSTACK_START_TIMEOUT") or 120)
    while time.monotonic() < deadline:
        # not is_our_localstack(): right after exec, /proc/<pid>/cmdline can still read empty
        if _is_zombie(pid):
            PID_FILE.unlink(missing_ok=True)
            raise StackError(f"LocalStack exited during start-up. Last log lines:\n{log_tail()}")
        report = health()
        failed = [n for n in services() if (report or {}).get("services", {}).get(n) == "error"]
        if failed:
            raise StackError(
                f"LocalStack could not load {', '.join(failed)} (pid {pid} still running, "
                f"`scripts/stack.sh stop`). Last log lines:\n{log_tail()}"
            )
        if not not_ready(report):
            print(
                f"localstack ready on {endpoint()} (pid {pid}) in {time.monotonic() - started:.1f}s"
            )
            return
        time.sleep(0.25)
    raise StackError(
        f"LocalStack not ready after {deadline - started:.0f}s (waiting for "
        f"{', '.join(not_ready(health()))}); still running as pid {pid}, stop it with "
        f"`scripts/stack.sh stop`. Last log lines:\n{log_tail()}"
    )


def start() -> None:
    if not VENV_PY.exists() or not STAMP.is_file():
        raise StackError("LocalStack is not installed: run scripts/stack.sh install")
    started = time.monotonic()
    pid = read_pid()
    if pid and is_our_localstack(pid):
        running_on = recorded_port()
        if running_on is not None and running_on != port():
            raise StackError(
                f"this checkout's LocalStack is running on port {running_on} (pid {pid}), not "
                f"{port()}: use LOCALSTACK_PORT={running_on}, or stop it first "
                f"(make down LOCALSTACK_PORT={running_on})"
            )
        if not not_ready(health()):
            print(f"localstack already running on {endpoint()} (pid {pid})")
            return
        wait_ready(pid, started)
        return
    PID_FILE.unlink(missing_ok=True)
    if port_in_use(port()):
        raise StackError(
            f"port {port()} is in use by a process this script did not start "
            "(another LocalStack?); stop it or set LOCALSTACK_PORT"
        )
    for directory in (STATE / "filesystem", STATE / "tmp"):
        directory.mkdir(parents=True, exist_ok=True)
    if LOG_FILE.exists():
        LOG_FILE.replace(LOG_FILE.with_suffix(".log.1"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(localstack_env(port()))
    with LOG_FILE.open("ab") as log:
        process = subprocess.Popen(
            [str(VENV_PY), "-m", "localstack.runtime.main"],
            env=env,
            cwd=STATE,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not killed by the caller's Ctrl-C; stopped by `stop`
        )
    # "<pid> <port>": the Makefile reads the port from here too (a checkout remembers its port)
    PID_FILE.write_text(f"{process.pid} {port()}\n")
    wait_ready(process.pid, started)


def stop() -> None:
    pid = read_pid()
    if not pid or not is_our_localstack(pid):
        PID_FILE.unlink(missing_ok=True)
        print("localstack is not running")
        return
    running_on = recorded_port()
    if running_on is not None and running_on != port():
        raise StackError(
            f"this checkout's LocalStack runs on port {running_on} (pid {pid}), not {port()}: "
            f"stop it with LOCALSTACK_PORT={running_on} (or no port); the stack on {port()} "
            "is not this checkout's"
        )
    started = time.monotonic()
    below = descendants(pid)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + float(os.environ.get("LOCALSTACK_STOP_TIMEOUT") or 30)
    while is_our_localstack(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if is_our_localstack(pid):
        print(f"localstack (pid {pid}) did not stop in time: killing it")
        os.kill(pid, signal.SIGKILL)
    _stop_leftovers(below)
    PID_FILE.unlink(missing_ok=True)
    print(f"localstack stopped (pid {pid}) in {time.monotonic() - started:.1f}s")


def _stop_leftovers(processes: dict[int, str]) -> None:
    """Lambda environments run in their own sessions; make sure none outlives LocalStack."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = [pid for pid, start in processes.items() if _alive_same(pid, start)]
        if not alive:
            return
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(1)


def status() -> int:
    print(f"mode: {mode()}")
    pid = read_pid()
    if not pid or not is_our_localstack(pid):
        print("localstack (host): not running")
        return 1
    report = health()
    missing = not_ready(report)
    state = "healthy" if not missing else f"not ready ({', '.join(missing)})"
    print(f"localstack (host): pid {pid}, {endpoint()}, {state}, log {LOG_FILE}")
    if report:
        for name in services():
            print(f"  {name:<12} {report.get('services', {}).get(name, 'unknown')}")
    return 0 if not missing else 1


def logs(follow: bool) -> None:
    if not LOG_FILE.exists():
        raise StackError(f"no log yet ({LOG_FILE}): start the stack first")
    args = ["tail", "-n", "200"] + (["-F"] if follow else []) + [str(LOG_FILE)]
    os.execvp("tail", args)


def mode() -> str:
    """docker when a Docker engine answers, else host (the Makefile decides the same way)."""
    if shutil.which("docker") is None:
        return "host"
    probe = subprocess.run(["docker", "info"], capture_output=True)
    return "docker" if probe.returncode == 0 else "host"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack.sh", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command",
        choices=["install", "start", "stop", "restart", "status", "logs", "mode", "env", "port"],
    )
    parser.add_argument("-f", "--follow", action="store_true", help="logs: keep following")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            install()
        elif args.command == "start":
            start()
        elif args.command == "stop":
            stop()
        elif args.command == "restart":
            stop()
            start()
        elif args.command == "status":
            return status()
        elif args.command == "logs":
            logs(args.follow or sys.stdout.isatty())
        elif args.command == "mode":
            print(mode())
        elif args.command == "port":
            print(port())
        elif args.command == "env":
            for key, value in localstack_env(port()).items():
                print(f"{key}={value}")
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"error: command failed ({exc.returncode}): {' '.join(exc.cmd)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
