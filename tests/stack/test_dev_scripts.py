"""The scripts behind `make up` and `make dev`: step runner and the hot-reload switch (stdlib only,
run as the Makefile runs them: as subprocesses)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


run_steps = _load("run_steps")
hot_reload_script = _load("hot_reload")


def test_steps_start_when_what_they_need_is_done(tmp_path: Path) -> None:
    order = tmp_path / "order"
    steps = run_steps.parse_steps(
        [
            f"slow=sleep 0.6 && echo slow >> {order}",
            f"fast=echo fast >> {order}",
            f"after both<slow,fast=echo after >> {order}",
        ],
        "test",
    )
    assert run_steps.run(steps, "test") == []
    assert order.read_text().split() == ["fast", "slow", "after"]


def test_a_failed_step_stops_what_needs_it_and_shows_its_log(tmp_path: Path) -> None:
    marker = tmp_path / "never"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "run_steps.py"),
            "--title",
            "test",
            "broken=echo something went wrong; exit 3",
            f"later<broken=touch {marker}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "broken           FAILED (exit 3)" in proc.stdout
    assert "something went wrong" in proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize("arg", ["no command", "name=", "b<nope=true"])
def test_bad_step_arguments_are_refused(arg: str) -> None:
    with pytest.raises(SystemExit):
        run_steps.parse_steps([arg], "test")


def test_hot_reload_switch_writes_the_file_the_runtime_reads(tmp_path, monkeypatch) -> None:
    from clickstream_emulator.lambda_executor import hot_reload

    sources = tmp_path / "hot-reload" / hot_reload.SOURCES_FILE_NAME
    monkeypatch.setattr(hot_reload_script, "SOURCES_FILE", sources)
    hot_reload_script.turn_on()
    paths = hot_reload.read_sources(sources)
    assert paths == tuple(str(d) for d in hot_reload_script.SOURCE_DIRS)
    # relative to the file: the same file names the container's mounts in docker mode
    assert not any(Path(p).is_absolute() for p in json.loads(sources.read_text())["paths"])
    assert "on" in hot_reload_script.status()
    hot_reload_script.turn_off()
    assert hot_reload.read_sources(sources) == ()
    assert "off" in hot_reload_script.status()


def test_the_switch_and_the_stack_agree_on_the_sources_file() -> None:
    stack = _load("stack")
    from clickstream_emulator.lambda_executor import hot_reload

    assert hot_reload_script.SOURCES_FILE == stack.HOT_RELOAD_FILE
    assert hot_reload_script.SOURCES_FILE.name == hot_reload.SOURCES_FILE_NAME
    env = stack.localstack_env(4566)
    assert env[hot_reload.SOURCES_FILE_ENV] == str(hot_reload_script.SOURCES_FILE)
