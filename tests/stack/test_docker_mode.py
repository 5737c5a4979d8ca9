"""Docker mode's files agree with host mode and with each other (no engine needed).

What runs on a real engine (the image boots offline, compose's resolved model, the pipeline) is
in tests/docker/ and the e2e suite run with STACK_MODE=docker.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import sys
from pathlib import Path, PurePosixPath
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "docker-compose.yml").read_text()
DOCKERFILE = (ROOT / "docker" / "localstack" / "Dockerfile").read_text()


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"{name}_for_docker", ROOT / "scripts" / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


stack = _load("stack")
engine = _load("docker_engine")


def test_no_docker_socket_is_mounted_anywhere() -> None:
    files = [ROOT / "docker-compose.yml", *sorted((ROOT / "docker").rglob("*"))]
    for path in files:
        if path.is_file():
            assert "docker.sock" not in path.read_text(), path


def test_localstack_is_published_on_loopback_only_at_the_port_it_listens_on() -> None:
    ports = re.findall(r'^\s+- "([^"]+)"$', COMPOSE.split("ports:")[1].split("env_file:")[0], re.M)
    assert ports == ["127.0.0.1:${LOCALSTACK_PORT:-4566}:${LOCALSTACK_PORT:-4566}"]
    env = stack.localstack_env(4571, docker=True)
    assert env["GATEWAY_LISTEN"] == "0.0.0.0:4571"  # inside the container, behind the publish
    assert env["LOCALSTACK_HOST"] == "localhost:4571"


def test_the_image_and_the_service_are_linux_amd64() -> None:
    assert "platform: linux/amd64" in COMPOSE
    assert re.search(r"^FROM --platform=linux/amd64 \$\{LOCALSTACK_IMAGE\}$", DOCKERFILE, re.M)
    default = re.search(r"^ARG LOCALSTACK_IMAGE=(\S+)$", DOCKERFILE, re.M)
    assert default and default[1] == stack.OFFICIAL_IMAGE == engine.OFFICIAL_IMAGE
    assert f"LOCALSTACK_IMAGE: ${{LOCALSTACK_IMAGE:-{stack.OFFICIAL_IMAGE}}}" in COMPOSE
    assert stack.STANDIN_IMAGE == engine.STANDIN_IMAGE


def test_every_tool_names_the_compose_image() -> None:
    from bench import bench_devloop
    from tests import localstack_code
    from tests.docker import conftest

    assert f"    image: {stack.EXTENSION_IMAGE}\n" in COMPOSE
    images = {conftest.IMAGE, bench_devloop.EXTENSION_IMAGE, localstack_code.IMAGE}
    assert images == {stack.EXTENSION_IMAGE}


def test_both_modes_configure_localstack_alike() -> None:
    host, docker = stack.localstack_env(4571), stack.localstack_env(4571, docker=True)
    where = {
        "GATEWAY_LISTEN",
        "LAMBDA_SUBPROCESS_RUNTIME_ROOT",
        "LAMBDA_SUBPROCESS_HOT_RELOAD_FILE",
    }
    # a host process inherits the Makefile's settings; the container gets them in its env file
    host_only, docker_only = (
        {"FILESYSTEM_ROOT", "TMPDIR"},
        {"SHUTDOWN_TIMEOUT", *stack.PASSED_SETTINGS},
    )
    assert set(host) - host_only == set(docker) - docker_only
    assert all(docker[k] == os.environ[k] for k in stack.PASSED_SETTINGS if k in docker)
    assert {k: v for k, v in host.items() if k not in where | host_only} == {
        k: v for k, v in docker.items() if k not in where | docker_only
    }
    assert docker["LAMBDA_RUNTIME_EXECUTOR"] == "subprocess"  # no docker executor, no socket


def test_the_container_finds_the_runtime_and_the_hot_reload_switch_where_the_image_has_them() -> (
    None
):
    env = stack.localstack_env(4566, docker=True)
    image_root = PurePosixPath(stack.IMAGE_ROOT)
    assert f"WORKDIR {image_root}" in DOCKERFILE
    runtime = PurePosixPath(env["LAMBDA_SUBPROCESS_RUNTIME_ROOT"])
    assert runtime == image_root / stack.RUNTIME_ROOT.relative_to(ROOT)
    switch = PurePosixPath(env["LAMBDA_SUBPROCESS_HOT_RELOAD_FILE"])
    mounts = dict(re.findall(r"^\s+- \./(\S+):(\S+):ro$", COMPOSE, re.M))
    assert mounts == {
        "services": str(image_root / "services"),
        ".local/hot-reload": str(switch.parent),
    }
    # the switch's relative paths resolve to the same code on both sides of the mount
    assert switch.relative_to(image_root) == PurePosixPath(
        stack.HOT_RELOAD_FILE.relative_to(ROOT).as_posix()
    )
    assert ".local/localstack/docker.env" in COMPOSE
    assert stack.DOCKER_ENV_FILE == ROOT / ".local" / "localstack" / "docker.env"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins (``!`` re-includes)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
            ignored = not negate
    return ignored


def test_the_build_context_holds_what_the_dockerfile_copies_and_no_local_state() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    sources = [
        src
        for line in DOCKERFILE.splitlines()
        if line.startswith("COPY ")
        for src in line.split()[1:-1]
    ]
    assert sources
    for src in sources:
        assert (ROOT / src).exists(), src
        assert not _ignored(src.rstrip("/"), patterns), src
    for local in (".local", ".venv", ".venv-localstack", "build", "services/transformer"):
        assert _ignored(local, patterns), local


def test_the_image_installs_through_the_host_modes_code() -> None:
    runs = re.findall(r"scripts/stack\.py install-into (\S+) (\w+)", DOCKERFILE)
    assert runs == [
        ("/opt/code/localstack/.venv", "libraries"),
        ("/opt/code/localstack/.venv", "code"),
    ]


def test_the_engine_is_this_checkouts_own() -> None:
    cmd = engine.dockerd_command("/usr/sbin/dockerd")
    joined = " ".join(cmd)
    assert "/var/run/docker.sock" not in joined and "/run/docker.sock" not in joined
    assert f"--host=unix://{engine.SOCKET}" in cmd
    assert f"--pidfile={engine.PID_FILE}" in cmd
    assert f"--data-root={engine.DATA_ROOT}" in cmd
    assert engine.DATA_ROOT.is_relative_to(ROOT / ".local")
    assert f"--exec-root={engine.EXEC_ROOT}" in cmd
    assert len(str(engine.EXEC_ROOT / "containerd" / "containerd.sock.ttrpc")) < 108
    # no iptables rules and no default bridge: nothing another checkout's engine flushes
    assert {"--iptables=false", "--bridge=none", "--ip-masq=false"} <= set(cmd)
    assert f"--containerd-namespace=clickstream-{engine.CHECKOUT_ID}" in cmd
    assert re.fullmatch(r"base=172\.(1[89]|2\d|3[01])\.0\.0/16,size=24", engine.address_pool())


def test_the_stand_in_has_the_official_images_configuration() -> None:
    config = "\n".join(engine.STANDIN_CONFIG)
    assert 'ENTRYPOINT ["docker-entrypoint.sh"]' in config
    assert "WORKDIR /opt/code/localstack" in config
    assert "VOLUME /var/lib/localstack" in config
    assert "HEALTHCHECK" in config and "localstack status services" in config
    install = (ROOT / "docker" / "localstack-standin" / "install.sh").read_text()
    assert "venv=/opt/code/localstack/.venv" in install
    assert "scripts/venv_install.py" in install and "requirements/localstack-lock.txt" in install
    assert {"python3.13", "python3.13-venv"} <= set(engine.BASE_PACKAGES)
    assert engine.SUITE == "trixie"
