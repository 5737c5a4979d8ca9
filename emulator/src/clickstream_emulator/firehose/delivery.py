"""One delivery: a cut batch becomes an S3 object, or after the retry duration an error object.

AWS retries a failed S3 delivery for up to 24 hours and then drops the data. Locally the retry
duration is configurable (``FIREHOSE_RETRY_SECONDS``), and when it runs out the records go to
the stream's error output prefix instead, as AWS does for the failures that have one
(``error-output-type`` ``s3-failed`` here), each record as one JSON line in AWS's error record
shape with the original bytes in ``rawData``: nothing accepted is dropped, and it can be replayed.
If the error output cannot be written either (a deleted bucket), the delivery stays queued and
keeps being retried; at shutdown what is still queued is written to a local file (see engine).
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from clickstream_emulator.firehose import compression, keys
from clickstream_emulator.firehose.buffer import Batch
from clickstream_emulator.firehose.config import DeliveryConfig

ERROR_OUTPUT_TYPE = "s3-failed"
BACKOFF_BASE_SECONDS = 1.0
#: AWS retries S3 deliveries every 5 seconds; the backoff grows to that and stays there.
BACKOFF_CAP_SECONDS = 5.0

StreamKey = tuple[str, str, str]  # account, region, stream name


class DeliveryError(Exception):
    """A failed S3 write, with the error code Firehose would log (``S3.NoSuchBucket``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Delivery:
    """A batch on its way to S3, with its retry state."""

    stream: StreamKey
    config: DeliveryConfig
    batch: Batch
    attempts: int = 0
    first_failure: float | None = None
    next_attempt: float = 0.0
    to_error_output: bool = False
    error_code: str | None = None
    error_message: str | None = None
    object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    #: the engine's per-stream counters this delivery reports to (a deleted and re-created
    #: stream gets new ones; a delivery keeps the ones it was cut from)
    owner: Any = None

    @property
    def records(self) -> int:
        return len(self.batch)

    def give_up_main(self, now: float, retry_seconds: float) -> bool:
        """The retry duration for the main prefix has run out."""
        return self.first_failure is not None and now - self.first_failure >= retry_seconds


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 1, 2, 4, then every 5 s."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def _arrival(batch: Batch) -> datetime:
    return datetime.fromtimestamp(batch.oldest, UTC)


def main_object(d: Delivery) -> tuple[str, bytes]:
    """Key and body of the object AWS would write for this batch."""
    cfg, at = d.config, _arrival(d.batch)
    key = keys.evaluate_prefix(cfg.prefix, at) + keys.object_name(
        cfg.stream, cfg.version, at, d.object_id, cfg.extension
    )
    return key, compression.encode(d.batch.records, cfg.compression)


def error_records(d: Delivery, now: float) -> list[bytes]:
    """One JSON line per record, in the shape of AWS's error output records."""
    ending = int(now * 1000)
    return [
        (
            json.dumps(
                {
                    "attemptsMade": d.attempts,
                    "arrivalTimestamp": int(arrival * 1000),
                    "errorCode": d.error_code,
                    "errorMessage": d.error_message,
                    "attemptEndingTimestamp": ending,
                    "rawData": base64.b64encode(record).decode("ascii"),
                },
                separators=(",", ":"),
            )
            + "\n"
        ).encode()
        for record, arrival in zip(d.batch.records, d.batch.arrivals, strict=True)
    ]


def error_object(d: Delivery, now: float) -> tuple[str, bytes]:
    """Key and body of the error output object for a batch that could not be delivered."""
    cfg, at = d.config, _arrival(d.batch)
    prefix = keys.evaluate_error_prefix(cfg.error_prefix, cfg.prefix, at, ERROR_OUTPUT_TYPE)
    key = prefix + keys.object_name(cfg.stream, cfg.version, at, d.object_id, cfg.extension)
    return key, compression.encode(error_records(d, now), cfg.compression)
