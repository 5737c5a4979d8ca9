"""A stream's S3 delivery settings, read from its API description and validated as AWS does.

One place turns an ``S3DestinationDescription`` / ``ExtendedS3DestinationDescription`` (the
API's own field names) into the :class:`DeliveryConfig` the buffer and the delivery use, and one
function applies AWS's create/update-time rules to it (:func:`validate_destination`). Defaults are
AWS's: 5 MiB / 300 s buffering, UNCOMPRESSED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clickstream_emulator.firehose import compression, keys

MIB = 1024 * 1024
DEFAULT_SIZE_MB = 5
DEFAULT_INTERVAL_SECONDS = 300
SIZE_RANGE_MB = (1, 128)
INTERVAL_RANGE_SECONDS = (0, 900)


class ConfigError(ValueError):
    """A destination configuration AWS rejects, or one this emulator cannot honour (the message
    says which); the provider answers it as ``InvalidArgumentException``."""


@dataclass(frozen=True)
class DeliveryConfig:
    """What a delivery needs, frozen at the moment a buffer is cut (an update does not change
    the objects of records accepted before it)."""

    stream: str
    version: str
    bucket: str
    prefix: str
    error_prefix: str
    size_bytes: int
    interval_seconds: float
    compression: str
    extension: str
    role_arn: str | None = None
    kms_key_arn: str | None = None


def bucket_name(bucket_arn: str) -> str:
    """``arn:aws:s3:::name`` -> ``name``."""
    return bucket_arn.split(":::", 1)[-1]


def from_description(stream: str, version: str, desc: Mapping[str, Any]) -> DeliveryConfig:
    """The delivery settings of an (Extended)S3 destination description."""
    hints = desc.get("BufferingHints") or {}
    kms = (desc.get("EncryptionConfiguration") or {}).get("KMSEncryptionConfig") or {}
    fmt = compression.check(desc.get("CompressionFormat"))
    return DeliveryConfig(
        stream=stream,
        version=str(version or "1"),
        bucket=bucket_name(str(desc["BucketARN"])),
        prefix=str(desc.get("Prefix") or ""),
        error_prefix=str(desc.get("ErrorOutputPrefix") or ""),
        size_bytes=int(hints.get("SizeInMBs") or DEFAULT_SIZE_MB) * MIB,
        interval_seconds=float(
            DEFAULT_INTERVAL_SECONDS
            if hints.get("IntervalInSeconds") is None
            else hints["IntervalInSeconds"]
        ),
        compression=fmt,
        extension=compression.extension(fmt, desc.get("FileExtension")),
        role_arn=desc.get("RoleARN"),
        kms_key_arn=kms.get("AWSKMSKeyARN"),
    )


def validate_destination(desc: Mapping[str, Any]) -> None:
    """AWS's create/update-time checks of an (Extended)S3 destination; raises :class:`ConfigError`."""
    if not desc.get("BucketARN"):
        raise ConfigError("BucketARN is required for an S3 destination")
    hints = desc.get("BufferingHints") or {}
    size, interval = hints.get("SizeInMBs"), hints.get("IntervalInSeconds")
    if (size is None) != (interval is None) and hints:
        raise ConfigError(
            "BufferingHints: if you specify SizeInMBs or IntervalInSeconds, specify both"
        )
    if size is not None and not SIZE_RANGE_MB[0] <= int(size) <= SIZE_RANGE_MB[1]:
        raise ConfigError(f"BufferingHints.SizeInMBs must be between 1 and 128, got {size}")
    if interval is not None and not (
        INTERVAL_RANGE_SECONDS[0] <= int(interval) <= INTERVAL_RANGE_SECONDS[1]
    ):
        raise ConfigError(
            f"BufferingHints.IntervalInSeconds must be between 0 and 900, got {interval}"
        )
    try:
        compression.check(desc.get("CompressionFormat"))
    except compression.CompressionNotEmulated as exc:
        raise ConfigError(str(exc)) from None
    ext = desc.get("FileExtension")
    if ext and not ext.startswith("."):
        raise ConfigError(f"FileExtension must start with '.', got {ext!r}")
    if (desc.get("DynamicPartitioningConfiguration") or {}).get("Enabled"):
        raise ConfigError(
            "DynamicPartitioningConfiguration is not emulated by the local Firehose "
            "(clickstream_emulator.firehose)"
        )
    if (desc.get("DataFormatConversionConfiguration") or {}).get("Enabled"):
        raise ConfigError(
            "DataFormatConversionConfiguration is not emulated by the local Firehose "
            "(clickstream_emulator.firehose)"
        )
    try:
        keys.validate(desc.get("Prefix"), desc.get("ErrorOutputPrefix"))
    except keys.PrefixError as exc:
        raise ConfigError(str(exc)) from None
