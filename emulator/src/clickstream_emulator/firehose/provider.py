"""LocalStack's Firehose provider with AWS's S3 delivery: buffering, GZIP, key names, retries.

Selected with ``PROVIDER_OVERRIDE_FIREHOSE=clickstream`` (LocalStack's public provider-override
mechanism; scripts/stack.py and docker-compose.yml set it). Everything else — the API surface,
the store, Kinesis sources, HTTP/OpenSearch/Redshift destinations — stays LocalStack's own.

What changes:

* Create/UpdateDestination validate S3 destinations as AWS does (prefix expression rules, buffer
  ranges) and reject what is not emulated (ZIP/Snappy, dynamic partitioning) with
  ``InvalidArgumentException``; UpdateDestination checks ``CurrentDeliveryStreamVersionId``,
  merges like AWS (unspecified fields keep their values) and bumps the version that object keys
  carry; records buffered before an update are delivered with the old settings first.
* Server-side encryption: ``DeliveryStreamEncryptionConfigurationInput`` on create and
  Start/StopDeliveryStreamEncryption are accepted and described (status ENABLED/DISABLED) instead
  of 501. Records are not encrypted at rest in memory: there is nothing to protect them from.
* Records put to a stream with an S3 or ExtendedS3 destination go to the delivery engine
  (:mod:`clickstream_emulator.firehose.engine`) instead of one object per call.

Two private methods of LocalStack 4.14.0's ``FirehoseProvider`` are overridden, because the
delivery happens inside them: ``_put_records`` (to learn the caller's account and region) and
``_put_records_to_s3_bucket`` (the S3 write). ``tests/emulator/test_firehose_localstack_pin.py``
fails if their signatures or the call between them change.
"""

from __future__ import annotations

import base64
import contextvars
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from localstack.aws.api import RequestContext
from localstack.aws.api.firehose import (
    ConcurrentModificationException,
    DeliveryStreamDescription,
    DeliveryStreamEncryptionStatus,
    InvalidArgumentException,
    KeyType,
    ResourceNotFoundException,
    StartDeliveryStreamEncryptionOutput,
    StopDeliveryStreamEncryptionOutput,
)
from localstack.aws.connect import connect_to
from localstack.services.firehose.provider import FirehoseProvider
from localstack.services.plugins import ServiceLifecycleHook
from localstack.utils.aws.client_types import ServicePrincipal

from clickstream_emulator.firehose import runtime
from clickstream_emulator.firehose.config import (
    ConfigError,
    DeliveryConfig,
    from_description,
    validate_destination,
)
from clickstream_emulator.firehose.delivery import DeliveryError
from clickstream_emulator.firehose.engine import DeliveryEngine

LOG = logging.getLogger(__name__)

#: AWS retries S3 deliveries for 24 h; locally the Makefile sets a short value.
DEFAULT_RETRY_SECONDS = 24 * 3600.0
S3_DESTINATIONS = ("S3DestinationDescription", "ExtendedS3DestinationDescription")
S3_UPDATES = {
    "s3_destination_update": "S3DestinationDescription",
    "extended_s3_destination_update": "ExtendedS3DestinationDescription",
}

#: (account, region) of the put being processed: _put_records_to_s3_bucket is not told.
_CALLER: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "clickstream_firehose_caller", default=None
)


def retry_seconds() -> float:
    raw = os.environ.get("FIREHOSE_RETRY_SECONDS")
    try:
        return float(raw) if raw else DEFAULT_RETRY_SECONDS
    except ValueError:
        LOG.error("FIREHOSE_RETRY_SECONDS=%r is not a number: using %s", raw, DEFAULT_RETRY_SECONDS)
        return DEFAULT_RETRY_SECONDS


def spill_dir() -> Path:
    """Where records undeliverable at shutdown are kept (never in LocalStack's tmp, which it
    clears on exit)."""
    from localstack import config

    configured = os.environ.get("FIREHOSE_UNDELIVERED_DIR")
    if configured:
        return Path(configured)
    base = config.dirs.data or config.dirs.var_libs or config.dirs.tmp
    return Path(base) / "clickstream-firehose-undelivered"


def _invalid(exc: ConfigError) -> InvalidArgumentException:
    return InvalidArgumentException(str(exc))


def _validate(desc: Mapping[str, Any] | None) -> None:
    if desc:
        try:
            validate_destination(desc)
        except ConfigError as exc:
            raise _invalid(exc) from None


def _encryption(sse: Mapping[str, Any] | None, stream_type: str | None) -> dict[str, Any]:
    """The described encryption configuration for an SSE input (AWS's rules)."""
    if not sse:
        return {"Status": DeliveryStreamEncryptionStatus.DISABLED}
    key_type = sse.get("KeyType")
    key_arn = sse.get("KeyARN")
    if stream_type == "KinesisStreamAsSource":
        raise InvalidArgumentException(
            "Server-side encryption is not supported for delivery streams with a Kinesis data "
            "stream as the source (encrypt the Kinesis data stream instead)"
        )
    if key_type not in (KeyType.AWS_OWNED_CMK, KeyType.CUSTOMER_MANAGED_CMK):
        raise InvalidArgumentException(
            f"KeyType must be AWS_OWNED_CMK or CUSTOMER_MANAGED_CMK, got {key_type!r}"
        )
    if key_type == KeyType.CUSTOMER_MANAGED_CMK and not key_arn:
        raise InvalidArgumentException("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK")
    if key_type == KeyType.AWS_OWNED_CMK and key_arn:
        raise InvalidArgumentException("KeyARN must not be specified when KeyType is AWS_OWNED_CMK")
    described: dict[str, Any] = {
        "KeyType": key_type,
        "Status": DeliveryStreamEncryptionStatus.ENABLED,
    }
    if key_arn:
        described["KeyARN"] = key_arn
    return described


def _merge(existing: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """AWS's UpdateDestination merge: given fields replace, the others keep their values
    (nested structures such as BufferingHints merged the same way)."""
    merged = dict(existing)
    for name, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(name), Mapping):
            merged[name] = _merge(merged[name], value)
        else:
            merged[name] = value
    return merged


class ClickstreamFirehoseProvider(FirehoseProvider, ServiceLifecycleHook):
    """FirehoseProvider whose S3 destinations deliver as AWS does (see the module doc)."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = DeliveryEngine(
            self._write_object,
            retry_seconds=retry_seconds(),
            spill_dir=spill_dir(),
            exists=self._stream_exists,
        )
        runtime.set_engine(self.engine)

    def on_before_stop(self) -> None:
        runtime.shutdown_engine()  # no-op when the on_infra_shutdown hook already did it

    def _stream_exists(self, stream: tuple[str, str, str]) -> bool:
        account, region, name = stream
        return name in self.get_store(account, region).delivery_streams

    # ------------------------------------------------------------------ API
    def _description(self, context: RequestContext, name: str) -> DeliveryStreamDescription:
        desc = self.get_store(context.account_id, context.region).delivery_streams.get(name)
        if not desc:
            raise ResourceNotFoundException(
                f"Firehose {name} under account {context.account_id} not found."
            )
        return desc

    def create_delivery_stream(
        self, context: RequestContext, delivery_stream_name: str, **kwargs: Any
    ) -> Any:
        _validate(kwargs.get("s3_destination_configuration"))
        _validate(kwargs.get("extended_s3_destination_configuration"))
        encryption = _encryption(
            kwargs.get("delivery_stream_encryption_configuration_input"),
            kwargs.get("delivery_stream_type"),
        )
        result = super().create_delivery_stream(context, delivery_stream_name, **kwargs)
        desc = self._description(context, delivery_stream_name)
        desc["DeliveryStreamEncryptionConfiguration"] = encryption
        return result

    def update_destination(
        self,
        context: RequestContext,
        delivery_stream_name: str,
        current_delivery_stream_version_id: str,
        destination_id: str,
        **kwargs: Any,
    ) -> Any:
        desc = self._description(context, delivery_stream_name)
        if str(current_delivery_stream_version_id) != str(desc.get("VersionId")):
            raise ConcurrentModificationException(
                f"Cannot update firehose: {delivery_stream_name} since the current version id: "
                f"{desc.get('VersionId')} and the specified version id: "
                f"{current_delivery_stream_version_id} do not match"
            )
        destination: dict[str, Any] = next(
            (d for d in desc.get("Destinations", []) if d.get("DestinationId") == destination_id),
            {},
        )
        for argument in S3_UPDATES:
            update = kwargs.get(argument)
            if not update:
                continue
            existing: dict[str, Any] = next(
                (destination[f] for f in S3_DESTINATIONS if destination.get(f)), {}
            )
            merged = _merge(existing, update)
            _validate(merged)
            kwargs[argument] = merged
        # what was accepted before the change is delivered with the settings it was accepted under
        self.engine.flush((context.account_id, context.region, delivery_stream_name))
        result = super().update_destination(
            context,
            delivery_stream_name,
            current_delivery_stream_version_id,
            destination_id,
            **kwargs,
        )
        desc["VersionId"] = str(int(desc.get("VersionId") or 1) + 1)
        return result

    def delete_delivery_stream(
        self, context: RequestContext, delivery_stream_name: str, **kwargs: Any
    ) -> Any:
        self._description(context, delivery_stream_name)
        self.engine.forget_stream((context.account_id, context.region, delivery_stream_name))
        return super().delete_delivery_stream(context, delivery_stream_name, **kwargs)

    def start_delivery_stream_encryption(
        self,
        context: RequestContext,
        delivery_stream_name: str,
        delivery_stream_encryption_configuration_input: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> StartDeliveryStreamEncryptionOutput:
        desc = self._description(context, delivery_stream_name)
        sse = delivery_stream_encryption_configuration_input or {"KeyType": KeyType.AWS_OWNED_CMK}
        desc["DeliveryStreamEncryptionConfiguration"] = _encryption(
            sse, desc.get("DeliveryStreamType")
        )
        return StartDeliveryStreamEncryptionOutput()

    def stop_delivery_stream_encryption(
        self, context: RequestContext, delivery_stream_name: str, **kwargs: Any
    ) -> StopDeliveryStreamEncryptionOutput:
        desc = self._description(context, delivery_stream_name)
        desc["DeliveryStreamEncryptionConfiguration"] = {
            "Status": DeliveryStreamEncryptionStatus.DISABLED
        }
        return StopDeliveryStreamEncryptionOutput()

    # ------------------------------------------------------------------ delivery (private hooks)
    def _put_records(
        self,
        account_id: str,
        region_name: str,
        delivery_stream_name: str,
        unprocessed_records: list[Any],
    ) -> Any:
        token = _CALLER.set((account_id, region_name))
        try:
            return super()._put_records(
                account_id, region_name, delivery_stream_name, unprocessed_records
            )
        finally:
            _CALLER.reset(token)

    def _put_records_to_s3_bucket(
        self,
        stream_name: str,
        records: list[dict[str, Any]],
        s3_destination_description: Any,
    ) -> None:
        caller = _CALLER.get()
        desc = (
            self.get_store(*caller).delivery_streams.get(stream_name)
            if caller is not None
            else None
        )
        if desc is None or not _is_s3_destination(desc, s3_destination_description):
            # another destination's S3 backup (Redshift, OpenSearch): LocalStack's own write
            return super()._put_records_to_s3_bucket(
                stream_name, records, s3_destination_description
            )
        assert caller is not None
        cfg = from_description(
            stream_name, str(desc.get("VersionId") or "1"), s3_destination_description
        )
        data = [base64.b64decode(r.get("Data") or r.get("data") or b"") for r in records]
        self.engine.put((caller[0], caller[1], stream_name), cfg, data)

    def _write_object(self, cfg: DeliveryConfig, key: str, body: bytes) -> None:
        """One S3 PutObject as the stream's role (as LocalStack's own write does)."""
        try:
            if cfg.role_arn:
                factory = connect_to.with_assumed_role(
                    role_arn=cfg.role_arn, service_principal=ServicePrincipal.firehose
                )
            else:
                factory = connect_to()
            s3 = factory.s3.request_metadata(
                source_arn=cfg.stream, service_principal=ServicePrincipal.firehose
            )
            extra: dict[str, str] = {}
            if cfg.kms_key_arn:
                extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": cfg.kms_key_arn}
            s3.put_object(Bucket=cfg.bucket, Key=key, Body=body, **extra)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise DeliveryError(
                f"S3.{error.get('Code', 'Unknown')}", str(error.get("Message") or exc)
            ) from None
        except BotoCoreError as exc:
            raise DeliveryError("S3.ServiceUnavailable", str(exc)) from None


def _is_s3_destination(desc: Mapping[str, Any], s3_desc: Any) -> bool:
    """``s3_desc`` is the stream's own S3/ExtendedS3 destination (not a backup configuration)."""
    return any(
        destination.get(field) is s3_desc
        for destination in desc.get("Destinations", [])
        for field in S3_DESTINATIONS
    )
