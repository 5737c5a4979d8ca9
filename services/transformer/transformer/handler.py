"""AWS Lambda entry point: S3 event -> :func:`transformer.pipeline.process_object` per object.

Thin glue only. Content problems are quarantined by the pipeline and never raise. Anything else
(object missing, access denied, S3 unavailable, a bug) raises, so Lambda retries the event and
then hands it to the on-failure destination; retries are safe because outputs are idempotent.
A missing source object also raises (it is unusual for a Firehose object to vanish, and the
failure destination is where an operator will look), rather than being skipped silently.

Ordering: the object is read with ``If-Match`` on the event's ETag, so the content processed is
exactly the version the event names (``VersionId`` would do the same but needs
``s3:GetObjectVersion``). If the key has been overwritten since, S3 answers 412: the newer
write has its own event, so this one ends cleanly with one ``superseded`` log line, as it does
when the pipeline finds a newer version already published (:mod:`transformer.ordering`).

Environment: TRANSFORMED_BUCKET (required), EVENTS_PREFIX / QUARANTINE_PREFIX /
MANIFESTS_PREFIX, COMPACTION_PREFIX (defaults from the schema), LOG_LEVEL, SPOOL_DIR (default: system temp, /tmp
on Lambda; each runtime process spools in its own subdirectory and removes those of dead
processes when it starts, :mod:`transformer.spool`). boto3 comes from the Lambda runtime.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from clickstream_common.compaction import COMPACTION_PREFIX
from clickstream_common.schema import EVENTS_PREFIX, MANIFESTS_PREFIX, QUARANTINE_PREFIX
from transformer import spool
from transformer.config import TransformConfig
from transformer.events import s3_sources
from transformer.metrics import emf_line
from transformer.model import SourceRef
from transformer.pipeline import process_object
from transformer.sink import S3Sink

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client


class _StdoutLines(logging.Handler):
    """Each record is one line on the current ``sys.stdout``: CloudWatch Logs makes it one event,
    so a JSON message stays a searchable JSON line (the runtime's root handler would prefix it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stdout, flush=True)


#: The transformer's own log lines, filtered by ``LOG_LEVEL``. (The EMF metrics line is printed,
#: not logged: metrics must not disappear with a quieter log level.)
logger = logging.getLogger("transformer")
# Loggers outlive a re-import of this module (`make dev`'s hot reload, tests): replace the handler
# an earlier import added instead of stacking a second one (each line would be written twice).
logger.handlers = [h for h in logger.handlers if type(h).__name__ != _StdoutLines.__name__]
logger.addHandler(_StdoutLines())
logger.propagate = False


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """Deployment settings from the Lambda environment."""

    transformed_bucket: str
    config: TransformConfig
    spool_dir: str | None
    log_level: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HandlerSettings:
        env = os.environ if env is None else env
        bucket = env.get("TRANSFORMED_BUCKET", "").strip()
        if not bucket:
            raise RuntimeError("TRANSFORMED_BUCKET is not set")
        config = replace(
            TransformConfig(),
            events_prefix=_prefix(env.get("EVENTS_PREFIX"), EVENTS_PREFIX),
            quarantine_prefix=_prefix(env.get("QUARANTINE_PREFIX"), QUARANTINE_PREFIX),
            manifests_prefix=_prefix(env.get("MANIFESTS_PREFIX"), MANIFESTS_PREFIX),
            compaction_prefix=_prefix(env.get("COMPACTION_PREFIX"), COMPACTION_PREFIX),
        )
        return cls(bucket, config, env.get("SPOOL_DIR") or None, env.get("LOG_LEVEL", "INFO"))


def _prefix(value: str | None, default: str) -> str:
    value = (value or "").strip()
    if not value:
        return default
    return value if value.endswith("/") else value + "/"


_client = None


def _s3_client() -> S3Client:
    """One client per container (reused across warm invocations)."""
    global _client
    if _client is None:
        import boto3

        _client = boto3.client("s3")
    return _client


def configure_logging(level: str) -> None:
    """Apply ``LOG_LEVEL`` to our logger and to the root logger (boto3 and other libraries)."""
    logger.setLevel(level.upper())
    logging.getLogger().setLevel(level.upper())


def handle(
    event: Mapping[str, Any], settings: HandlerSettings, client: S3Client, function_name: str
) -> dict[str, Any]:
    """Process every object of ``event``; returns a summary. Raises on infrastructure errors."""
    sink = S3Sink(client, settings.transformed_bucket, settings.spool_dir)
    results = []
    for source in s3_sources(event):
        try:
            response = _read_version(client, source)
            if response is None:
                _log_superseded(source, "the object was overwritten since this event (412)")
                results.append({"source": source.uri, "superseded": True})
                continue
            try:
                stats = process_object(response["Body"], source, sink, settings.config)
            finally:
                response["Body"].close()
        except Exception as exc:
            # One structured line an operator can search for; then fail the invocation.
            failure = {
                "level": "ERROR",
                "message": "object failed; the invocation will be retried",
                "source_bucket": source.bucket,
                "source_key": source.key,
                "error": f"{type(exc).__name__}: {exc}",
            }
            logger.error(json.dumps(failure))
            raise
        if stats.superseded:
            _log_superseded(source, stats.superseded)
            results.append({"source": source.uri, "superseded": True})
            continue
        print(emf_line(stats, function_name), file=sys.stdout, flush=True)
        results.append(
            {
                "source": source.uri,
                "records_in": stats.records_in,
                "records_written": stats.records_written,
                "records_quarantined": stats.records_quarantined,
            }
        )
    return {"objects": len(results), "results": results}


def _read_version(client: Any, source: SourceRef) -> Any | None:
    """GetObject of exactly the event's version; None if the key now holds another one."""
    kwargs: dict[str, str] = {}
    if source.etag:
        kwargs["IfMatch"] = f'"{source.etag.strip(chr(34))}"'
    try:
        return client.get_object(Bucket=source.bucket, Key=source.key, **kwargs)
    except client.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if error.get("Code") == "PreconditionFailed" or status == 412:
            return None
        raise


def _log_superseded(source: SourceRef, reason: str) -> None:
    """One line, not an error: a newer version of the key is the one that counts."""
    line = {
        "level": "INFO",
        "message": "superseded: a newer version of this key is published instead",
        "source_bucket": source.bucket,
        "source_key": source.key,
        "etag": source.etag,
        "sequencer": source.sequencer,
        "reason": reason,
    }
    print(json.dumps(line), file=sys.stdout, flush=True)


_spool_dir: str | None = None


def _own_spool_dir(base: str | None) -> str:
    """Once per runtime process: remove dead processes' spool directories (a SIGKILLed
    invocation cannot clean up after itself), then create this process's own."""
    global _spool_dir
    if _spool_dir is None:
        removed = spool.sweep(base)
        if removed:
            line = {
                "level": "INFO",
                "message": "removed spool directories of dead runtime processes",
                "directories": [str(p) for p in removed],
            }
            print(json.dumps(line), file=sys.stdout, flush=True)
        _spool_dir = spool.process_dir(base)
    return _spool_dir


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    settings = HandlerSettings.from_env()
    configure_logging(settings.log_level)
    settings = replace(settings, spool_dir=_own_spool_dir(settings.spool_dir))
    name = getattr(context, "function_name", None) or os.environ.get(
        "AWS_LAMBDA_FUNCTION_NAME", "transformer"
    )
    return handle(event, settings, _s3_client(), name)
