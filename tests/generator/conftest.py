"""Shared helpers for the generator tests: generate NDJSON through the real code path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import cli

#: A fixed window so nothing depends on the wall clock.
WINDOW = ["--start", "2024-12-23", "--end", "2024-12-26"]


@pytest.fixture
def generate(tmp_path: Path) -> Callable[..., tuple[list[bytes], dict[str, Any]]]:
    """Run ``clickstream-generate --output FILE --manifest FILE`` in-process; return lines, manifest."""
    counter = iter(range(1_000_000))

    def _generate(*args: str) -> tuple[list[bytes], dict[str, Any]]:
        n = next(counter)
        out, man = tmp_path / f"events-{n}.ndjson", tmp_path / f"manifest-{n}.json"
        code = cli.main(["--output", str(out), "--manifest", str(man), "--quiet", *WINDOW, *args])
        assert code == 0
        return out.read_bytes().splitlines(keepends=True), json.loads(man.read_text())

    return _generate
