"""Read deployed resource names from Terraform outputs: the one configuration source.

`make up` / `make deploy` write ``terraform output -json`` to ``.local/outputs.json``; every tool
(generator, query runner, replay, tests) reads names from there instead of keeping copies.
``CLICKSTREAM_OUTPUTS`` points elsewhere (e.g. a file written from a real AWS deployment). Which
stack the tools then talk to is resolved from the same file (:mod:`clickstream_common.target`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUTPUTS_PATH = REPO_ROOT / ".local" / "outputs.json"


class OutputsNotFoundError(RuntimeError):
    """Raised when no Terraform outputs exist yet (the stack was never deployed)."""


def outputs_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the outputs file is expected: ``CLICKSTREAM_OUTPUTS``, else ``.local/outputs.json``."""
    env = os.environ if env is None else env
    return Path(env.get("CLICKSTREAM_OUTPUTS") or DEFAULT_OUTPUTS_PATH)


def load_outputs(path: Path | None = None) -> dict[str, object]:
    """Return Terraform outputs as ``{name: value}``.

    Accepts both the raw ``terraform output -json`` shape (``{"x": {"value": ...}}``) and a flat
    ``{"x": ...}`` mapping, so a hand-written file for a real AWS account works too.
    """
    p = path or outputs_path()
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError:
        raise OutputsNotFoundError(
            f"no Terraform outputs at {p}: run `make up` (local) or `make outputs` after "
            "`terraform apply` (AWS), or set CLICKSTREAM_OUTPUTS"
        ) from None
    return {k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in raw.items()}


def output(name: str, path: Path | None = None) -> str:
    """One output value as a string, with a clear error when it is missing."""
    values = load_outputs(path)
    if name not in values or values[name] in (None, ""):
        raise OutputsNotFoundError(
            f"Terraform output {name!r} is missing from {path or outputs_path()}"
        )
    return str(values[name])
