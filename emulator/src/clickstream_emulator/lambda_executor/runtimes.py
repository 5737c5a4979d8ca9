"""Map a Lambda runtime name to what runs it on this machine: an interpreter and the runtime's SDK.

On AWS a runtime is an image (interpreter + boto3 in /var/runtime). Here it is a directory
``$LAMBDA_SUBPROCESS_RUNTIME_ROOT/<runtime>/`` created by ``scripts/stack.sh install``:
``interpreter`` (a one-line file naming the Python binary) and ``site-packages/`` (boto3 & co.).
Unsupported runtimes fail with an error that says what is missing, at function creation time.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

ROOT_ENV = "LAMBDA_SUBPROCESS_RUNTIME_ROOT"
_PYTHON_RUNTIME = re.compile(r"^python(?P<version>3\.\d+)$")


class UnsupportedRuntimeError(Exception):
    """The function's runtime cannot run as a local subprocess on this machine."""


@dataclasses.dataclass(frozen=True)
class RuntimeSpec:
    """Everything needed to start an execution environment for one runtime."""

    runtime: str
    interpreter: Path
    site_packages: Path


def runtime_root(environ: dict[str, str] | os._Environ = os.environ) -> Path:
    """The directory holding the installed runtimes (set by scripts/stack.sh start)."""
    root = environ.get(ROOT_ENV)
    if not root:
        raise UnsupportedRuntimeError(
            f"{ROOT_ENV} is not set: start LocalStack with scripts/stack.sh start"
        )
    return Path(root)


def resolve_runtime(runtime: str | None, root: Path) -> RuntimeSpec:
    """Find interpreter and SDK for ``runtime`` (e.g. "python3.13") under ``root``."""
    if not runtime:
        raise UnsupportedRuntimeError(
            "container-image functions are not supported by the subprocess executor"
        )
    match = _PYTHON_RUNTIME.match(runtime)
    if not match:
        raise UnsupportedRuntimeError(
            f"runtime {runtime} is not supported by the subprocess executor "
            "(only python3.x runtimes run without Docker)"
        )
    runtime_dir = root / runtime
    interpreter_file = runtime_dir / "interpreter"
    site_packages = runtime_dir / "site-packages"
    if not interpreter_file.is_file() or not site_packages.is_dir():
        raise UnsupportedRuntimeError(
            f"runtime {runtime} is not installed in {runtime_dir} "
            "(run scripts/stack.sh install; LAMBDA_PYTHON_RUNTIMES selects the runtimes)"
        )
    interpreter = Path(interpreter_file.read_text().strip())
    if not os.access(interpreter, os.X_OK):
        raise UnsupportedRuntimeError(
            f"interpreter {interpreter} for runtime {runtime} is missing or not executable "
            "(re-run scripts/stack.sh install)"
        )
    return RuntimeSpec(runtime=runtime, interpreter=interpreter, site_packages=site_packages)
