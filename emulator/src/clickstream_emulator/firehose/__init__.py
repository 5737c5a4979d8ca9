"""Local Firehose that delivers to S3 as AWS does: buffering hints, GZIP, AWS's key names and
prefix expressions, retries then the error output prefix, SSE accepted.

One module per job: ``keys`` (prefix expressions, object names), ``compression``, ``config``
(a stream's settings and AWS's validation), ``buffer``, ``delivery`` (one object or error
object), ``engine`` (threads, flush, stats) — pure Python, unit-tested without LocalStack — and
the LocalStack edge: ``provider`` (the FirehoseProvider subclass), ``plugin`` (plux entry point
``firehose:clickstream``), ``runtime`` (internal endpoints, shutdown flush).
"""

from clickstream_emulator.firehose.buffer import Batch, StreamBuffer
from clickstream_emulator.firehose.config import ConfigError, DeliveryConfig, validate_destination
from clickstream_emulator.firehose.delivery import DeliveryError
from clickstream_emulator.firehose.engine import DeliveryEngine
from clickstream_emulator.firehose.keys import PrefixError

__all__ = [
    "Batch",
    "ConfigError",
    "DeliveryConfig",
    "DeliveryEngine",
    "DeliveryError",
    "PrefixError",
    "StreamBuffer",
    "validate_destination",
]
