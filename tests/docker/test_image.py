"""The extension image on its own: no network, no mounts, no Docker socket, nothing downloaded.

`docker run --network none` must boot LocalStack with every extension of ours loaded (the Glue and
Athena providers, our Firehose with its endpoints, the subprocess Lambda executor with the image's
python3.13), and a function must run in it. This is what "baked in, nothing installed at boot"
means; a boot hook that pip-installs, or a Lambda executor that needs a Docker daemon or a runtime
download, fails here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from .conftest import ROOT

SERVICES_READY = ("running", "available")
PORT = 4566
PROBE = r"""
import io, json, sys, time, zipfile
import boto3

kw = dict(endpoint_url="http://127.0.0.1:4566", region_name="us-east-1",
          aws_access_key_id="test", aws_secret_access_key="test")
lam = boto3.client("lambda", **kw)
code = io.BytesIO()
with zipfile.ZipFile(code, "w") as z:
    z.writestr("app.py", "import sys\ndef handler(event, context):\n"
               "    return {'echo': event, 'python': sys.version.split()[0]}\n")
lam.create_function(FunctionName="offline", Runtime="python3.13", Handler="app.handler",
                    Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": code.getvalue()})
lam.get_waiter("function_active_v2").wait(FunctionName="offline")
out = lam.invoke(FunctionName="offline", Payload=json.dumps({"n": 1}))
print(json.dumps({"error": out.get("FunctionError"), "body": json.load(out["Payload"])}))
"""


def _stack():
    spec = importlib.util.spec_from_file_location("stack_for_image", ROOT / "scripts" / "stack.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def docker(*args: str, stdin: str | None = None, timeout: float = 120) -> str:
    proc = subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"docker {' '.join(args[:2])}: {proc.stderr[-2000:]}"
    return proc.stdout


def health(container: str) -> dict[str, str]:
    probe = subprocess.run(
        [
            "docker",
            "exec",
            container,
            "curl",
            "-fsS",
            f"http://127.0.0.1:{PORT}/_localstack/health",
        ],
        capture_output=True,
        text=True,
    )
    return json.loads(probe.stdout).get("services", {}) if probe.returncode == 0 else {}


@pytest.fixture(scope="module")
def offline(
    image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """The image started with no network and LocalStack's configuration only (no mounts), once
    every service of ours reports ready: (container name, service states)."""
    stack = _stack()
    env_file = tmp_path_factory.mktemp("env") / "localstack.env"
    settings = stack.localstack_env(PORT, docker=True)
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    name = f"clickstream-offline-{uuid.uuid4().hex[:8]}"
    docker(
        "run", "--detach", "--network", "none", "--name", name, "--env-file", str(env_file), image
    )
    try:
        wanted = stack.DEFAULT_SERVICES.split(",")
        deadline = time.monotonic() + 180
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = health(name)
            if states and all(states.get(n) in SERVICES_READY for n in wanted):
                break
            running = docker("inspect", "--format", "{{.State.Running}}", name).strip()
            assert running == "true", docker("logs", "--tail", "60", name)
            time.sleep(1)
        else:
            pytest.fail(f"not ready in 180 s: {states}\n{docker('logs', '--tail', '60', name)}")
        yield name, states
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True)


def test_the_image_boots_offline_with_every_extension_loaded(
    offline: tuple[str, dict[str, str]],
) -> None:
    name, states = offline
    # Glue and Athena exist only through our providers (LocalStack community answers 501)
    assert states["glue"] in SERVICES_READY and states["athena"] in SERVICES_READY
    # our Firehose, with its internal endpoints (registered by an on_infra_start hook)
    buffers = json.loads(
        docker(
            "exec", name, "curl", "-fsS", f"http://127.0.0.1:{PORT}/_clickstream/firehose/buffers"
        )
    )
    assert buffers["provider"] == "clickstream"
    log = docker("logs", name)
    assert "pip install" not in log and "Installing" not in log


def test_a_function_runs_through_the_subprocess_executor_without_a_network(
    offline: tuple[str, dict[str, str]],
) -> None:
    name, _ = offline
    python = "/opt/code/localstack/.venv/bin/python"
    out = docker("exec", "-i", name, python, "-", stdin=PROBE)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["error"] is None, result
    assert result["body"]["echo"] == {"n": 1}
    assert result["body"]["python"].startswith("3.13"), result  # the image's own python3.13
    # the function ran as a process of LocalStack's container: no Lambda container, no runtime
    # download (LocalStack's docker executor would need both)
    assert not [i for i in docker("ps", "--all", "--format", "{{.Image}}").split() if "lambda" in i]
    assert "lambda-runtime" not in docker("logs", name)
