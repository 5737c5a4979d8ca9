"""Where output objects go: a local directory or an S3 bucket, behind one small protocol.

Writers always write to a local *path* (Arrow's native file I/O, no Python in the write loop)
and publish it with :meth:`Pending.commit`; a failed object is never half-published:
:class:`LocalSink` renames a temporary file into place, :class:`S3Sink` uploads the spooled
file (multipart for large files) only on commit. boto3 is imported lazily so the local path
needs no AWS libraries.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client


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

    def delete(self, key: str) -> None: ...


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

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()


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

    def delete(self, key: str) -> None:
        return None


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
        """The object's bytes, or None if it does not exist.

        S3 answers 403 instead of 404 for a missing key unless the caller may list the bucket
        *without* a prefix condition; in that case the key is looked up with a prefix-scoped
        list (which such a policy allows) and the 403 is re-raised only if the key exists.
        """
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("AccessDenied", "403"):
                raise
            listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
            if not any(o["Key"] == key for o in listed.get("Contents", [])):
                return None
            raise
        return response["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


class _S3Pending:
    def __init__(self, sink: S3Sink, key: str, content_type: str) -> None:
        fd, self.path = tempfile.mkstemp(prefix="clickstream-", suffix=".part", dir=sink.spool_dir)
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
