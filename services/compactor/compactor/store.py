"""The compactor's S3 I/O: listing a day, versioned reads and deletes, conditional writes.

Every input is read and deleted by version id (the transformed bucket is versioned): a delta
that the transformer writes again while a run reads it keeps its new version, which waits for
the next run. A bucket without versioning is refused, not guessed around.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformer.sink import PreconditionFailed, S3Sink

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

PARQUET = "application/vnd.apache.parquet"
JSON = "application/json"


class Conflict(Exception):
    """A conditional write lost: the object changed since it was read."""


class NotVersioned(RuntimeError):
    """The bucket does not version objects: inputs could not be deleted exactly."""


@dataclass(frozen=True, slots=True)
class Listed:
    key: str
    etag: str
    size: int
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class Downloaded:
    key: str
    path: Path
    version_id: str
    md5: str
    size: int


class S3Store:
    """One bucket, as the compactor uses it."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket
        self._sink = S3Sink(client, bucket)

    def listing(self, prefix: str) -> list[Listed]:
        out = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            for o in page.get("Contents", []):
                out.append(
                    Listed(o["Key"], o.get("ETag", "").strip('"'), o["Size"], o["LastModified"])
                )
        return out

    def read(self, key: str) -> tuple[bytes | None, str | None]:
        """The object's bytes and ETag; ``(None, None)`` when it does not exist."""
        return self._sink.read_tagged(key)

    def put_if(self, key: str, data: bytes, match: str | None) -> str:
        """Write only if the ETag is still ``match`` (None: only if absent); the new ETag.
        The transformer's conditional write (:meth:`transformer.sink.S3Sink.put_if`)."""
        try:
            return self._sink.put_if(key, data, JSON, match)
        except PreconditionFailed as exc:
            raise Conflict(str(exc)) from exc

    def put_new(self, key: str, data: bytes, content_type: str) -> bool:
        """Create ``key`` only if it does not exist; False if it does."""
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, IfNoneMatch="*"
            )
        except self.client.exceptions.ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (409, 412):
                return False
            raise
        return True

    def download(self, key: str, dest: Path, version_id: str | None = None) -> Downloaded:
        """Stream one object version to ``dest`` (bounded memory), hashing it on the way."""
        kwargs: dict[str, Any] = {"VersionId": version_id} if version_id else {}
        response = self.client.get_object(Bucket=self.bucket, Key=key, **kwargs)
        vid = response.get("VersionId")
        if not vid or vid == "null":
            raise NotVersioned(
                f"s3://{self.bucket}/{key} has no version id: the compactor needs a versioned "
                "bucket to delete exactly the inputs it read"
            )
        md5 = hashlib.md5(usedforsecurity=False)
        dest.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with contextlib.closing(response["Body"]) as body, open(dest, "wb") as f:
            while chunk := body.read(8 << 20):
                md5.update(chunk)
                f.write(chunk)
                size += len(chunk)
        return Downloaded(key, dest, str(vid), md5.hexdigest(), size)

    def upload(self, path: Path, key: str, content_type: str) -> str:
        """Upload a file; returns the version id it got."""
        if os.path.getsize(path) < 64 << 20:
            with open(path, "rb") as f:
                response = self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=f, ContentType=content_type
                )
            return str(response.get("VersionId"))
        self.client.upload_file(
            str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}
        )
        # Only the claim holder writes these keys, so the current version is the one uploaded.
        return str(self.client.head_object(Bucket=self.bucket, Key=key).get("VersionId"))

    def delete_version(self, key: str, version_id: str | None) -> None:
        if version_id:
            self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        else:
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_versions(self, victims: list[tuple[str, str | None]]) -> None:
        """Delete exactly these object versions, 1,000 per request (S3's batch limit);
        idempotent: a version already gone counts as deleted."""
        for i in range(0, len(victims), 1000):
            batch = [
                {"Key": k, **({"VersionId": v} if v else {})} for k, v in victims[i : i + 1000]
            ]
            response = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},  # type: ignore[typeddict-item]
            )
            # Already gone (a repair deleting what the dead run had deleted): done, not an error.
            errors = [
                e
                for e in response.get("Errors", [])
                if e.get("Code") not in ("NoSuchVersion", "NoSuchKey")
            ]
            if errors:
                first = errors[0]
                raise RuntimeError(
                    f"{len(errors)} deletes failed, e.g. {first.get('Key')}: {first.get('Code')} "
                    f"{first.get('Message')}"
                )

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
