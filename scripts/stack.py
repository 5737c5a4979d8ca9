"""The local AWS stack, LocalStack 4.14.0 with this project's extensions, in either stack mode.

Two modes, one LocalStack configuration (``localstack_env``), one health check, one Lambda
executor (our subprocess executor plugin, emulator/ clickstream_emulator.lambda_executor):
  host    LocalStack as a host process from .venv-localstack (no Docker engine needed: CI's
          first half and any machine without Docker);
  docker  LocalStack in a container of docker-compose.yml, from an image built FROM the pinned
          LocalStack image with the same extensions baked in (docker/localstack/Dockerfile).
The mode is STACK_MODE (host|docker) when set (the Makefile sets it), else docker when a Docker
engine answers (`docker info`), else host.

Subcommands (run through scripts/stack.sh, which picks a Python >= 3.13: localstack-core 4.14.0
imports warnings.deprecated, new in 3.13, although its metadata claims >=3.10):
  install   host: .venv-localstack from requirements/localstack-lock.txt (falls back to
            localstack-core==4.14.0 + LocalStack's own pins) plus ``install-into``'s parts;
            skipped when the stamp matches the inputs. docker: `docker compose build` of the
            extension image (Docker's layer cache redoes only what changed).
  install-into VENV [libraries|code]   what this project adds to a LocalStack venv (the local
            Athena's engine pins, the Lambda python runtimes in .local/lambda-runtime/, the
            extensions): host mode's install and the image build both run it.
  start     host: background `python -m localstack.runtime.main`, pid/log in .local/localstack/;
            docker: `docker compose up`; then waits until /_localstack/health reports our
            services; no-op when already running.
  stop      host: stops exactly the recorded process and its descendants (Lambda environments
            included); docker: `docker compose down` (LocalStack's data volume is kept).
  restart, status, logs [-f], mode (prints docker|host and why), env [--docker] (LocalStack's
  environment; --docker: the container's, the env file docker-compose.yml reads), port (prints
  the port: LOCALSTACK_PORT, else the one this checkout's LocalStack runs on, else 4566).

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
from collections.abc import Callable
from pathlib import Path, PurePosixPath
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
#: This checkout's LocalStack and its port: "<pid> <port>" of the host process, or
#: "docker:<container>@<started> <port>" of the container. The Makefile reads the port here too
#: (a checkout remembers its port until `make down`). Written when a new instance starts, not
#: when it was already running: a Terraform local state older than it describes resources of a
#: LocalStack that is gone (scripts/tf.sh, the Makefile's TF_INPUTS).
PID_FILE = STATE / "localstack.pid"
LOG_FILE = STATE / "localstack.log"
RUNTIME_ROOT = ROOT / ".local" / "lambda-runtime"
#: `make dev`'s switch (scripts/hot_reload.py writes it, the executor's runtime reads it).
HOT_RELOAD_FILE = ROOT / ".local" / "hot-reload" / "hot-reload.json"
#: Where the docker image keeps this project's LocalStack side, laid out as in a checkout
#: (docker/localstack/Dockerfile copies it there; docker-compose.yml mounts services/ and
#: .local/hot-reload/ at the same places).
IMAGE_ROOT = PurePosixPath("/opt/clickstream-local")
COMPOSE_FILE = ROOT / "docker-compose.yml"
#: LocalStack's environment in the container (written by `start`, read by docker-compose.yml).
DOCKER_ENV_FILE = STATE / "docker.env"
DOCKER_BUILD_LOG = STATE / "image-build.log"
OFFICIAL_IMAGE = "localstack/localstack:4.14.0"
#: docker-compose.yml's image: OFFICIAL_IMAGE (or the stand-in) with our extensions baked in.
EXTENSION_IMAGE = "clickstream-local/localstack:4.14.0"
#: Built by `make docker-engine` (scripts/docker_engine.py) where OFFICIAL_IMAGE cannot be pulled.
STANDIN_IMAGE = "clickstream-local/localstack-standin:4.14.0"
#: Settings LocalStack reads that the Makefile (or the user) sets: a host process inherits them,
#: the container gets them through DOCKER_ENV_FILE.
PASSED_SETTINGS = ("LAMBDA_RETRY_BASE_DELAY", "FIREHOSE_RETRY_SECONDS", "DEBUG", "LS_LOG")
LOCK = ROOT / "requirements" / "localstack-lock.txt"
PINS = ROOT / "requirements" / "localstack-runtime-4.14.0.txt"
PLUGIN = ROOT / "emulator"
#: First-party packages LocalStack imports (the local Athena: athena_local and clickstream_common),
#: put on its path by a .pth file: edits count at the next LocalStack start, as with -e.
LOCALSTACK_SIDE_SOURCES = (ROOT / "services" / "athena_local", ROOT / "services" / "common")
SOURCES_PTH = "clickstream-local-services.pth"
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


def localstack_env(gateway_port: int, docker: bool = False) -> dict[str, str]:
    """LocalStack's configuration, the same in both modes but for where things are: in docker
    mode LocalStack listens on the published port inside the container (so the URLs it hands
    out work inside and outside), and its files are the image's."""
    root = IMAGE_ROOT if docker else ROOT
    env = {
        "SERVICES": ",".join(services()),
        "EAGER_SERVICE_LOADING": "1",  # load services before "ready": the first call is not slow
        # docker: every interface of the container; the host publishes it on 127.0.0.1 only
        "GATEWAY_LISTEN": f"{'0.0.0.0' if docker else '127.0.0.1'}:{gateway_port}",
        # hypercorn honours the 127.0.0.1 above; LocalStack's default (twisted) listens on all
        # interfaces whatever GATEWAY_LISTEN says. GATEWAY_SERVER=twisted switches back.
        "GATEWAY_SERVER": os.environ.get("GATEWAY_SERVER") or "hypercorn",
        "LOCALSTACK_HOST": f"localhost:{gateway_port}",  # URLs LocalStack hands out must resolve offline
        "SQS_ENDPOINT_STRATEGY": "off",  # http://localhost:4566/<account>/<queue>: resolves offline and the AWS provider accepts it
        "LAMBDA_RUNTIME_EXECUTOR": EXECUTOR,
        # our Firehose provider (emulator/, clickstream_emulator.firehose): AWS's S3 delivery;
        # PROVIDER_OVERRIDE_FIREHOSE=default selects LocalStack's own (for A/B benchmarks)
        "PROVIDER_OVERRIDE_FIREHOSE": os.environ.get("PROVIDER_OVERRIDE_FIREHOSE") or "clickstream",
        "LAMBDA_SUBPROCESS_RUNTIME_ROOT": str(root / RUNTIME_ROOT.relative_to(ROOT)),
        "LAMBDA_SUBPROCESS_ENDPOINT_HOST": "127.0.0.1",
        "LAMBDA_SUBPROCESS_HOT_RELOAD_FILE": str(root / HOT_RELOAD_FILE.relative_to(ROOT)),
        "PERSISTENCE": "0",  # every start is a clean state; `make up` redeploys
        "DNS_ADDRESS": "0",  # no DNS server on port 53
        "SKIP_SSL_CERT_DOWNLOAD": "1",  # offline: use a self-signed certificate
        "DISABLE_EVENTS": "1",  # no analytics calls
    }
    if docker:
        # the image's entrypoint runs LocalStack under its supervisor, which kills it after
        # SHUTDOWN_TIMEOUT s (default 5): leave the shutdown flush the time host mode gives it
        env["SHUTDOWN_TIMEOUT"] = os.environ.get("LOCALSTACK_STOP_TIMEOUT") or "30"
        env.update({k: os.environ[k] for k in PASSED_SETTINGS if os.environ.get(k)})
    else:
        env["FILESYSTEM_ROOT"] = str(STATE / "filesystem")
        env["TMPDIR"] = str(STATE / "tmp")  # unpacked Lambda code etc. stays under .local/
    return env


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
    digest.update(" ".join([SOURCES_PTH, *map(str, LOCALSTACK_SIDE_SOURCES)]).encode())
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


def pip(*args: str, venv: Path = VENV) -> None:
    """`pip install` into LocalStack's venv through scripts/venv_install.py: uv from its cache
    (seconds), pip when uv is unavailable. Neither byte-compiles: Python compiles what LocalStack
    imports on first use (compiling all of botocore/moto/localstack was half of pip's install)."""
    subprocess.run([sys.executable, str(VENV_INSTALL), str(venv), *args], check=True)


def install_runtime(name: str, venv: Path = VENV) -> None:
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
        venv=venv,
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
    install_into(VENV)
    STAMP.write_text(key)
    print(f"installed localstack {LOCALSTACK_VERSION} in {time.monotonic() - started:.0f}s")


def install_into(venv: Path, part: str = "all") -> None:
    """What this project adds to a LocalStack venv, the same in host mode's .venv-localstack and
    in the docker image's /opt/code/localstack/.venv: ``libraries`` = the local Athena's engine
    (the pins of requirements/dev.txt) and the Lambda python runtimes; ``code`` = the extensions
    (emulator/, whose plux entry points LocalStack discovers) and the first-party packages they
    import. The image runs the two parts as two layers: editing the code keeps the libraries."""
    if part in ("all", "libraries"):
        pip("--only-binary=:all:", *athena_engine_pins(), venv=venv)
        RUNTIME_ROOT.mkdir(parents=True, exist_ok=True)
        (RUNTIME_ROOT / "aws-config").write_text("[default]\ns3 =\n    addressing_style = path\n")
        for name in python_runtimes():
            install_runtime(name, venv)
    if part in ("all", "code"):
        pip("--no-deps", "-e", str(PLUGIN), venv=venv)
        python = str(venv / "bin" / "python")
        site = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        (Path(site) / SOURCES_PTH).write_text("".join(f"{d}\n" for d in LOCALSTACK_SIDE_SOURCES))
        check = (
            "import athena_local.runner, clickstream_common.localstack; "
            "from localstack.services.lambda_.invocation.runtime_executor import "
            f"EXECUTOR_PLUGIN_MANAGER as m; assert m.exists({EXECUTOR!r})"
        )
        if subprocess.run([python, "-c", check]).returncode != 0:
            raise StackError(
                f"{venv} cannot load the extensions (the lines above say why): the executor "
                f"plugin {EXECUTOR!r}, athena_local and clickstream_common must all import"
            )


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
def wait_ready(
    started: float, instance: str, exited: Callable[[], bool], tail: Callable[[], str]
) -> None:
    """Until the health check reports every service; ``instance`` names what runs ("pid 12",
    "container 3f2a..."), ``exited`` says it died, ``tail`` gives its last log lines."""
    deadline = started + float(os.environ.get("LOCALSTACK_START_TIMEOUT") or 120)
    while time.monotonic() < deadline:
        if exited():
            raise StackError(f"LocalStack exited during start-up. Last log lines:\n{tail()}")
        report = health()
        failed = [n for n in services() if (report or {}).get("services", {}).get(n) == "error"]
        if failed:
            raise StackError(
                f"LocalStack could not load {', '.join(failed)} ({instance} still running, "
                f"`scripts/stack.sh stop`). Last log lines:\n{tail()}"
            )
        if not not_ready(report):
            print(
                f"localstack ready on {endpoint()} ({instance}) in "
                f"{time.monotonic() - started:.1f}s"
            )
            return
        time.sleep(0.25)
    raise StackError(
        f"LocalStack not ready after {deadline - started:.0f}s (waiting for "
        f"{', '.join(not_ready(health()))}); still running as {instance}, stop it with "
        f"`scripts/stack.sh stop`. Last log lines:\n{tail()}"
    )


def refuse_other_port(running_on: int | None, instance: str) -> None:
    """One LocalStack per checkout: starting it on a second port is a mistake, said at once."""
    if running_on is not None and running_on != port():
        raise StackError(
            f"this checkout's LocalStack is running on port {running_on} ({instance}), not "
            f"{port()}: use LOCALSTACK_PORT={running_on}, or stop it first "
            f"(make down LOCALSTACK_PORT={running_on})"
        )


def refuse_to_stop_other_port(instance: str) -> None:
    """`make down` on another port than this checkout's LocalStack's stops nothing of it."""
    running_on = recorded_port()
    if running_on is not None and running_on != port():
        raise StackError(
            f"this checkout's LocalStack runs on port {running_on} ({instance}), not {port()}: "
            f"stop it with LOCALSTACK_PORT={running_on} (or no port); the stack on {port()} "
            "is not this checkout's"
        )


def record(instance: str) -> None:
    """PID_FILE for the ``instance`` now running, rewritten only when it is another one."""
    line = f"{instance} {port()}\n"
    with contextlib.suppress(OSError):
        if PID_FILE.read_text() == line:
            return
    PID_FILE.parent.mkdir(parents=True, exist_ok=True)
    PID_FILE.write_text(line)


def start() -> None:
    if not VENV_PY.exists() or not STAMP.is_file():
        raise StackError("LocalStack is not installed: run scripts/stack.sh install")
    started = time.monotonic()
    pid = read_pid()

    def exited() -> bool:
        # not is_our_localstack(): right after exec, /proc/<pid>/cmdline can still read empty
        if pid is not None and _is_zombie(pid):
            PID_FILE.unlink(missing_ok=True)
            return True
        return False

    if pid and is_our_localstack(pid):
        refuse_other_port(recorded_port(), f"pid {pid}")
        if not not_ready(health()):
            print(f"localstack already running on {endpoint()} (pid {pid})")
            return
        wait_ready(started, f"pid {pid}", exited, log_tail)
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
    pid = process.pid
    record(str(pid))
    wait_ready(started, f"pid {pid}", exited, log_tail)


def stop(discard: bool = False) -> None:
    """Stop the host process; ``discard``: LocalStack's data directory goes too (`make down
    KEEP_DATA=0`), as docker mode drops its data volume."""
    stop_process()
    if discard:
        shutil.rmtree(STATE / "filesystem", ignore_errors=True)


def stop_process() -> None:
    pid = read_pid()
    if not pid or not is_our_localstack(pid):
        PID_FILE.unlink(missing_ok=True)
        print("localstack is not running")
        return
    refuse_to_stop_other_port(f"pid {pid}")
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


def report_health(what: str) -> int:
    """``what`` (the running instance), its state and each service's: 0 when every one is up."""
    report = health()
    missing = not_ready(report)
    state = "healthy" if not missing else f"not ready ({', '.join(missing)})"
    print(f"{what}, {endpoint()}, {state}")
    states = (report or {}).get("services", {})
    for name in services() if report else ():
        print(f"  {name:<12} {states.get(name, 'unknown')}")
    return 0 if not missing else 1


def status() -> int:
    pid = read_pid()
    if not pid or not is_our_localstack(pid):
        print("localstack (host): not running")
        return 1
    return report_health(f"localstack (host): pid {pid}, log {LOG_FILE}")


def logs(follow: bool) -> None:
    if not LOG_FILE.exists():
        raise StackError(f"no log yet ({LOG_FILE}): start the stack first")
    args = ["tail", "-n", "200"] + (["-F"] if follow else []) + [str(LOG_FILE)]
    os.execvp("tail", args)


# ---------------------------------------------------------------------------- docker mode
def compose(*args: str, capture: bool = False) -> str:
    """`docker compose` on docker-compose.yml, with the port it reads."""
    proc = subprocess.run(
        ["docker", "compose", "--file", str(COMPOSE_FILE), *args],
        env={**os.environ, "LOCALSTACK_PORT": str(port())},
        cwd=ROOT,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    if proc.returncode != 0:
        raise StackError(f"docker compose {' '.join(args)} failed (exit {proc.returncode})")
    return proc.stdout or ""


def docker_ok(*args: str) -> bool:
    return subprocess.run(["docker", *args], capture_output=True).returncode == 0


def base_image() -> str:
    """The LocalStack image the extension image is built FROM: LOCALSTACK_IMAGE when set, else
    the pinned official image (pulled if missing), else the stand-in `make docker-engine`
    builds where no registry answers."""
    chosen = os.environ.get("LOCALSTACK_IMAGE")
    if chosen:
        return chosen
    for image in (OFFICIAL_IMAGE, STANDIN_IMAGE):
        if docker_ok("image", "inspect", image):
            return image
    print(f"pulling {OFFICIAL_IMAGE}")
    if subprocess.run(["docker", "pull", "--quiet", OFFICIAL_IMAGE]).returncode == 0:
        return OFFICIAL_IMAGE
    raise StackError(
        f"no LocalStack image: {OFFICIAL_IMAGE} cannot be pulled and there is no stand-in; "
        "`make docker-engine` builds one"
    )


def docker_install() -> None:
    """Build the extension image (docker/localstack/Dockerfile) FROM the LocalStack image;
    Docker's layer cache keeps every layer whose inputs did not change."""
    started = time.monotonic()
    image = base_image()
    STATE.mkdir(parents=True, exist_ok=True)
    with DOCKER_BUILD_LOG.open("w") as log:
        proc = subprocess.run(
            ["docker", "compose", "--file", str(COMPOSE_FILE), "build", "--progress", "plain"],
            env={**os.environ, "LOCALSTACK_PORT": str(port()), "LOCALSTACK_IMAGE": image},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if proc.returncode != 0:
        tail = "\n".join(DOCKER_BUILD_LOG.read_text(errors="replace").splitlines()[-40:])
        raise StackError(f"the LocalStack image did not build (log {DOCKER_BUILD_LOG}):\n{tail}")
    print(f"localstack image FROM {image}: built in {time.monotonic() - started:.1f}s")


def container() -> tuple[str, bool, str] | None:
    """(id, running, started-at) of this checkout's LocalStack container, None if there is none."""
    ids = compose("ps", "--all", "--quiet", "localstack", capture=True).split()
    if not ids:
        return None
    fmt = "{{.Id}} {{.State.Running}} {{.State.StartedAt}}"
    probe = subprocess.run(["docker", "inspect", "-f", fmt, ids[0]], capture_output=True, text=True)
    if probe.returncode != 0:
        return None
    cid, running, started_at = probe.stdout.split()
    return cid, running == "true", started_at


def docker_log_tail(lines: int = 40) -> str:
    try:
        return compose("logs", "--no-color", "--tail", str(lines), "localstack", capture=True)
    except StackError:
        return "(no log)"


def docker_start() -> None:
    started = time.monotonic()
    current = container()
    if current and current[1]:
        refuse_other_port(recorded_port(), f"container {current[0][:12]}")
    elif port_in_use(port()):
        raise StackError(
            f"port {port()} is in use by a process this script did not start "
            "(another LocalStack?); stop it or set LOCALSTACK_PORT"
        )
    DOCKER_ENV_FILE.parent.mkdir(parents=True, exist_ok=True)
    DOCKER_ENV_FILE.write_text(
        "".join(f"{k}={v}\n" for k, v in localstack_env(port(), docker=True).items())
    )
    HOT_RELOAD_FILE.parent.mkdir(parents=True, exist_ok=True)  # mounted: must exist first
    # --no-recreate: a running LocalStack is never replaced under the user's data (a rebuilt
    # image is used from the next start, after `make down` saved the data, as in host mode)
    try:
        compose("up", "--detach", "--no-recreate", "--no-build", "localstack")
    except StackError as exc:
        raise StackError(f"{exc}: is the image built (scripts/stack.sh install)?") from None
    current = container()
    if current is None:
        raise StackError("docker compose up started no LocalStack container")
    cid, _, started_at = current
    record(f"docker:{cid[:12]}@{started_at}")

    def exited() -> bool:
        now = container()
        return now is None or not now[1]

    wait_ready(started, f"container {cid[:12]}", exited, docker_log_tail)


def docker_stop(discard: bool = False) -> None:
    started = time.monotonic()
    current = container()
    if current and current[1]:
        refuse_to_stop_other_port(f"container {current[0][:12]}")
    elif current is None:
        print("localstack is not running")
    timeout = os.environ.get("LOCALSTACK_STOP_TIMEOUT") or "30"
    # the container stops with LocalStack's shutdown (our Firehose's flush included); its data
    # volume (LocalStack's /var/lib/localstack) is kept, as host mode keeps .local/localstack/
    # filesystem, unless ``discard`` (`make down KEEP_DATA=0`)
    grace = str(int(timeout) + 10)
    compose("stop", "--timeout", grace)
    # the stopped container's log (its shutdown included) stays where host mode keeps it
    STATE.mkdir(parents=True, exist_ok=True)
    if LOG_FILE.exists():
        LOG_FILE.replace(LOG_FILE.with_suffix(".log.1"))
    LOG_FILE.write_text(docker_log_tail(100_000))
    compose("down", "--timeout", grace, *(["--volumes"] if discard else []))
    PID_FILE.unlink(missing_ok=True)
    print(f"localstack stopped (docker compose down) in {time.monotonic() - started:.1f}s")


def docker_status() -> int:
    current = container()
    if current is None or not current[1]:
        print("localstack (docker): not running")
        return 1
    image = subprocess.run(
        ["docker", "inspect", "-f", "{{.Config.Image}}", current[0]], capture_output=True, text=True
    ).stdout.strip()
    return report_health(f"localstack (docker): container {current[0][:12]} of {image}")


def docker_logs(follow: bool) -> None:
    args = ["logs", "--tail", "200", *(["--follow"] if follow else []), "localstack"]
    compose(*args)


# ---------------------------------------------------------------------------- mode
def mode_and_reason() -> tuple[str, str]:
    """Which stack mode runs, and why (the Makefile and `make help` say the same)."""
    chosen = os.environ.get("STACK_MODE")
    if chosen:
        if chosen not in ("host", "docker"):
            raise StackError(f"STACK_MODE={chosen}: expected host or docker")
        return chosen, os.environ.get("STACK_MODE_WHY") or "STACK_MODE is set"
    if shutil.which("docker") is None:
        return "host", "no docker command"
    if subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        return (
            "docker",
            f"a Docker engine answers at {os.environ.get('DOCKER_HOST') or 'the default socket'}",
        )
    return "host", "no Docker engine answers (make docker-engine starts one for this checkout)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack.sh", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command",
        choices=[
            "install",
            "install-into",
            "start",
            "stop",
            "restart",
            "status",
            "logs",
            "mode",
            "env",
            "port",
        ],
    )
    parser.add_argument("args", nargs="*", help="install-into: VENV [libraries|code]")
    parser.add_argument("-f", "--follow", action="store_true", help="logs: keep following")
    parser.add_argument("--docker", action="store_true", help="env: the container's environment")
    parser.add_argument(
        "--discard", action="store_true", help="stop: LocalStack's own data directory goes too"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "install-into":
            if len(args.args) not in (1, 2) or args.args[1:] not in ([], ["libraries"], ["code"]):
                parser.error("install-into VENV [libraries|code]")
            install_into(Path(args.args[0]), *args.args[1:])
            return 0
        if args.command == "port":
            print(port())
            return 0
        if args.command == "env":
            for key, value in localstack_env(port(), docker=args.docker).items():
                print(f"{key}={value}")
            return 0
        current, why = mode_and_reason()
        if args.command == "mode":
            print(f"{current} ({why})")
            return 0
        docker = current == "docker"
        if docker and not docker_ok("info"):
            raise StackError(
                "STACK_MODE=docker, but no Docker engine answers at "
                f"{os.environ.get('DOCKER_HOST') or 'the default socket'}: `make docker-engine` "
                "starts one for this checkout"
            )
        if args.command == "install":
            (docker_install if docker else install)()
        elif args.command in ("start", "stop", "restart"):
            if args.command != "start":
                (docker_stop if docker else stop)(args.discard)
            if args.command != "stop":
                (docker_start if docker else start)()
        elif args.command == "status":
            print(f"mode: {current} ({why})")
            return (docker_status if docker else status)()
        elif args.command == "logs":
            (docker_logs if docker else logs)(args.follow or sys.stdout.isatty())
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"error: command failed ({exc.returncode}): {' '.join(exc.cmd)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
