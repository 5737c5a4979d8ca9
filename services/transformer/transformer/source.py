"""Reading a raw object from S3, and reading the very same bytes again.

The pipeline reads an object a second time only when its optimistic first pass finds a
duplicate event_id (see :func:`transformer.pipeline.process_object`). The second GET is pinned
to the first response with ``If-Match`` on its ETag, so if the object was overwritten in
between, S3 answers 412 and the invocation fails and is retried, rather than mixing two
versions of the object into one output. (Not ``VersionId``: reading a specific version needs
``s3:GetObjectVersion``, which the function's least-privilege role does not have.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transformer.decode import Readable


def open_object(client: Any, bucket: str, key: str) -> tuple[Any, Callable[[], Readable]]:
    """``(response, reopen)``: a GetObject response and a function that GETs the same bytes."""
    response = client.get_object(Bucket=bucket, Key=key)
    pin = {"IfMatch": response["ETag"]} if response.get("ETag") else {}

    def reopen() -> Readable:
        return client.get_object(Bucket=bucket, Key=key, **pin)["Body"]

    return response, reopen
