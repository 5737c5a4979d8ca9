"""The running delivery engine, its two internal endpoints and the shutdown flush.

* ``POST /_clickstream/firehose/flush``: deliver every buffer now and answer when done (JSON:
  per stream what was flushed, delivered, failed; ``undelivered_records`` overall). ``make down``
  calls it before snapshotting the buckets.
* ``GET /_clickstream/firehose/buffers``: per stream, records/bytes buffered, in flight and
  retrying, delivered, sent to the error output, failed attempts and the last error
  (``make status`` shows it).
* LocalStack shutdown (``on_infra_shutdown``, before services stop, while the gateway still
  serves internal calls): flush, and keep anything undeliverable in a file.

Registered as LocalStack hooks (entry points in emulator/pyproject.toml) through LocalStack's
public router, as LocalStack registers its own internal endpoints.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from localstack.runtime import hooks
from rolo import route

if TYPE_CHECKING:
    from clickstream_emulator.firehose.engine import DeliveryEngine

LOG = logging.getLogger(__name__)

FLUSH_PATH = "/_clickstream/firehose/flush"
BUFFERS_PATH = "/_clickstream/firehose/buffers"
#: on_infra_shutdown hooks run highest first; LocalStack stops the services at -10
SHUTDOWN_PRIORITY = 100

_engine: DeliveryEngine | None = None
_lock = threading.Lock()
_rules: list[Any] = []


def set_engine(engine: DeliveryEngine) -> None:
    global _engine
    with _lock:
        _engine = engine


def current_engine() -> DeliveryEngine | None:
    return _engine


def shutdown_engine() -> None:
    """Flush and stop the engine once (shutdown hook and provider stop both call this)."""
    global _engine
    with _lock:
        engine, _engine = _engine, None
    if engine is None:
        return
    summary = engine.shutdown()
    for row in summary["streams"]:
        if row["flushed"]["records"] or row["retrying_records"]:
            LOG.info(
                "firehose %s: shutdown flush delivered %d records, %d undelivered",
                row["stream"],
                row["flushed"]["delivered"],
                row["buffered_records"] + row["retrying_records"] + row["in_flight_records"],
            )
    LOG.info(
        "firehose: shutdown flush done, %d records undelivered", summary["undelivered_records"]
    )


def _empty(flush: bool) -> dict[str, Any]:
    """The answer when no Firehose provider of ours is loaded (nothing buffered anywhere)."""
    body: dict[str, Any] = {"provider": None, "retry_seconds": None, "streams": []}
    if flush:
        body["undelivered_records"] = 0
    return body


class FirehoseEndpoints:
    """The internal endpoints (rolo routes, added to LocalStack's ROUTER)."""

    @route(FLUSH_PATH, methods=["POST"])
    def flush(self, request: Any) -> dict[str, Any]:
        engine = current_engine()
        if engine is None:
            return _empty(flush=True)
        return {"provider": "clickstream", **engine.flush()}

    @route(BUFFERS_PATH, methods=["GET"])
    def buffers(self, request: Any) -> dict[str, Any]:
        engine = current_engine()
        if engine is None:
            return _empty(flush=False)
        return {"provider": "clickstream", **engine.stats()}


@hooks.on_infra_start()
def register_firehose_endpoints() -> None:
    from localstack.services.edge import ROUTER

    _rules.extend(ROUTER.add(FirehoseEndpoints()))


@hooks.on_infra_shutdown(priority=SHUTDOWN_PRIORITY)
def flush_firehose_on_shutdown() -> None:
    shutdown_engine()
