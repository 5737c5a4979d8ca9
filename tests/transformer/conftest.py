"""The ``run`` fixture: the real pipeline on real bytes into a real directory (LocalSink)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from transformer.model import SourceRef
from transformer.pipeline import process_object
from transformer.sink import LocalSink

from .helpers import SOURCE, Result, config


@pytest.fixture
def run(tmp_path: Path):
    """``run(data, **config_overrides)`` -> :class:`Result` (output under tmp_path/out)."""

    def _run(
        data: bytes, source: SourceRef = SOURCE, root: Path | None = None, **kw: Any
    ) -> Result:
        root = root or tmp_path / "out"
        stats = process_object(data, source, LocalSink(root), config(**kw))
        assert stats.reconciled, stats.to_dict()
        return Result(stats, root)

    return _run
