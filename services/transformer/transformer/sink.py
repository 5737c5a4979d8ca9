"""Where output objects go: a local directory or an S3 bucket, behind one small protocol.

Writers always write to a local *path* (Arrow's native file I/O, no Python in the write loop)
and publish it with :meth:`Pending.commit`; a failed object is never half-published:
:class:`LocalSink` renames a temporary file into place, :class:`S3Sink` uploads the spooled
file (multipart for large files) only on commit. boto3 is imported lazily so the local path
needs no AWS libraries.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client


class PreconditionFailed(Exception):
    """A conditional write lost: the object changed (or appeared) since it was read."""


class Pending(Protocol):
    """An output object being written at ``path``; invisible until :meth:`commit`."""

    path: str

    def commit(self) -> None: ...

    def abort(self) -> None: ...


class Sink(Protocol):
    """Object storage as the pipeline needs it."""

    def create(self, key: str, content_type: str) -> Pending: ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def read(self, key: str) -> bytes | None: ...

    def exists(self, key: str) -> bool: ...

    def read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        """The object's bytes and ETag, ``(None, None)`` if it does not exist."""
        ...

    def put_if(self, key: str, data: bytes, content_type: str, match: str | None) -> str:
        """Write only if the object's ETag is still ``match`` (``None``: only if it does not
        exist); returns the new ETag, raises :class:`PreconditionFailed` otherwise."""
        ...

    def delete(self, key: str) -> None: ...

    def describe(self, key: str) -> str:
        """Where ``key`` lives, for messages (a path, an s3:// URI)."""
        ...


class _LocalPending:
    def __init__(self, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.close(fd)
        self.path = tmp
        self._final = final

    def commit(self) -> None:
        os.replace(self.path, self._final)

    def abort(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class LocalSink:
    """Objects as files under ``root`` (``root/events/year=.../x.parquet``)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key escapes the sink root: {key!r}")
        return path

    def create(self, key: str, content_type: str) -> _LocalPending:
        return _LocalPending(self._path(key))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        pending = self.create(key, content_type)
        Path(pending.path).write_bytes(data)
        pending.commit()

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        data = self.read(key)
        return data, (None if data is None else _md5(data))

    def put_if(self, key: str, data: bytes, content_type: str, match: str | None) -> str:
        """Compare-and-swap on the file's MD5 (one process writes a local directory at a time)."""
        if self.read_tagged(key)[1] != match:
            raise PreconditionFailed(f"{self.describe(key)} changed since it was read")
        self.put(key, data, content_type)
        return _md5(data)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def describe(self, key: str) -> str:
        return str(self._path(key))


class DiscardSink:
    """Writes to temporary files and throws them away: dry runs see real sizes and counts."""

    def __init__(self) -> None:
        self.written: dict[str, int] = {}

    def create(self, key: str, content_type: str) -> _DiscardPending:
        return _DiscardPending(self, key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.written[key] = len(data)

    def read(self, key: str) -> bytes | None:
        return None

    def exists(self, key: str) -> bool:
        return False

    def read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        return None, None

    def put_if(self, key: str, data: bytes, content_type: str, match: str | None) -> str:
        self.written[key] = len(data)
        return _md5(data)

    def delete(self, key: str) -> None:
        return None

    def describe(self, key: str) -> str:
        return f"(dry run) {key}"


class _DiscardPending:
    def __init__(self, sink: DiscardSink, key: str) -> None:
        fd, self.path = tempfile.mkstemp(prefix="clickstream-dry-", suffix=".tmp")
        os.close(fd)
        self._sink, self._key = sink, key

    def commit(self) -> None:
        self._sink.written[self._key] = os.path.getsize(self.path)
        self.abort()

    def abort(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class S3Sink:
    """Objects in an S3 bucket; files are spooled in ``spool_dir`` (Lambda: /tmp) then uploaded.

    Every error other than "no such key" on read propagates: it is an infrastructure problem
    the caller must surface (Lambda retries, then the on-failure destination).
    """

    def __init__(self, client: S3Client, bucket: str, spool_dir: str | None = None) -> None:
        self.client = client
        self.bucket = bucket
        self.spool_dir = spool_dir

    def create(self, key: str, content_type: str) -> _S3Pending:
        return _S3Pending(self, key, content_type)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def read(self, key: str) -> bytes | None:
        return self.read_tagged(key)[0]

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return False
            raise
        return True

    def read_tagged(self, key: str) -> tuple[bytes | None, str | None]:
        """The object's bytes and ETag, or ``(None, None)`` if it does not exist.

        S3 answers 403 instead of 404 for a missing key unless the caller may list the bucket
        *without* a prefix condition; in that case the key is looked up with a prefix-scoped
        list (which such a policy allows) and the 403 is re-raised only if the key exists.
        """
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None, None
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("AccessDenied", "403"):
                raise
            listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
            if not any(o["Key"] == key for o in listed.get("Contents", [])):
                return None, None
            raise
        with contextlib.closing(response["Body"]) as body:
            return body.read(), response.get("ETag")

    def put_if(self, key: str, data: bytes, content_type: str, match: str | None) -> str:
        """S3 conditional write: ``If-Match`` (or ``If-None-Match: *``); 412 and 409 (a
        concurrent conditional write) both mean another writer got there first."""
        try:
            if match is not None:
                response = self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, IfMatch=match
                )
            else:
                response = self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=data,
                    ContentType=content_type,
                    IfNoneMatch="*",
                )
        except self.client.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
                raise PreconditionFailed(f"{self.describe(key)}: {code}") from exc
            raise
        return str(response.get("ETag"))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


class _S3Pending:
    def __init__(self, sink: S3Sink, key: str, content_type: str) -> None:
        # The output's file name in the spool file's: an operator (or a test) sees what it is.
        name = key.rsplit("/", 1)[-1][:80]
        fd, self.path = tempfile.mkstemp(
            prefix=f"clickstream-{name}-", suffix=".part", dir=sink.spool_dir
        )
        os.close(fd)
        self._sink, self._key, self._content_type = sink, key, content_type

    def commit(self) -> None:
        try:
            self._sink.client.upload_file(
                self.path,
                self._sink.bucket,
                self._key,
                ExtraArgs={"ContentType": self._content_type},
            )
        finally:
            self.abort()

    def abort(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def _md5(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
