"""The local Glue crawler reads Parquet with the same pyarrow as the tests and the Lambda."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pyarrow_pin(path: Path) -> str:
    pins = re.findall(r"pyarrow==([0-9][0-9A-Za-z.+-]*)", path.read_text())
    assert len(pins) == 1, f"{path}: expected one pyarrow pin, found {pins}"
    return pins[0]


def test_pyarrow_is_pinned_once_and_identically_wherever_it_is_installed() -> None:
    sources = [
        ROOT / "requirements" / "dev.txt",
        ROOT / "requirements" / "lambda.txt",
        ROOT / "requirements" / "localstack-lock.txt",  # host-mode LocalStack (Glue crawler)
        ROOT / "emulator" / "docker-boot.sh",  # Docker-mode LocalStack (Glue crawler)
    ]
    versions = {path.name: _pyarrow_pin(path) for path in sources}
    assert len(set(versions.values())) == 1, versions
