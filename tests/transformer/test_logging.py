"""LOG_LEVEL governs the transformer's own log lines, which stay one JSON line each on stdout."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from transformer import handler


@pytest.fixture(autouse=True)
def restore_levels() -> Iterator[None]:
    ours, root = handler.logger.level, logging.getLogger().level
    yield
    handler.logger.setLevel(ours)
    logging.getLogger().setLevel(root)


def test_error_line_is_printed_as_is(capsys: pytest.CaptureFixture[str]) -> None:
    handler.configure_logging("INFO")
    handler.logger.error(json.dumps({"level": "ERROR", "message": "object failed"}))
    assert json.loads(capsys.readouterr().out) == {"level": "ERROR", "message": "object failed"}


def test_log_level_silences_our_logger_and_the_libraries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler.configure_logging("critical")
    handler.logger.error("not shown")
    handler.logger.critical("shown")
    assert capsys.readouterr().out == "shown\n"
    assert logging.getLogger().level == logging.CRITICAL
    assert logging.getLogger("botocore").getEffectiveLevel() == logging.CRITICAL


def test_a_reimport_writes_each_line_once(capsys: pytest.CaptureFixture[str]) -> None:
    """`make dev` re-imports the handler module in a warm runtime: lines must not double."""
    import importlib

    reloaded = importlib.reload(handler)
    importlib.reload(reloaded)
    reloaded.configure_logging("INFO")
    reloaded.logger.error("once")
    assert capsys.readouterr().out == "once\n"
    ours = [
        h for h in logging.getLogger("transformer").handlers if type(h).__name__ == "_StdoutLines"
    ]
    assert len(ours) == 1
