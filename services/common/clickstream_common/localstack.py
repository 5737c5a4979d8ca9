"""Where the local stack is and whether it answers: one definition for tests, benches and tools.

Local tools reach LocalStack through the standard ``AWS_ENDPOINT_URL`` (the Makefile sets it);
nothing here is used by the pipeline code itself, which only sees boto3's normal config chain.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterable
from typing import Any

DEFAULT_ENDPOINT = "http://localhost:4566"
_READY = ("running", "available")


def endpoint() -> str:
    """The LocalStack gateway URL (``AWS_ENDPOINT_URL``, else the default port)."""
    return os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT


def healthy(url: str | None = None, services: Iterable[str] = (), timeout: float = 3.0) -> bool:
    """True when ``/_localstack/health`` answers and every named service is up."""
    try:
        with urllib.request.urlopen(
            f"{url or endpoint()}/_localstack/health", timeout=timeout
        ) as r:
            state = json.load(r).get("services", {})
    except (OSError, ValueError):
        return False
    return all(state.get(name) in _READY for name in services)


def client(service: str, url: str | None = None, **config: Any) -> Any:
    """A boto3 client for the local stack: dummy credentials unless set, path-style S3."""
    import boto3
    from botocore.config import Config

    cfg = Config(
        s3={"addressing_style": "path"},
        retries={"mode": "standard", "max_attempts": 3},
        **config,
    )
    return boto3.client(
        service,
        endpoint_url=url or endpoint(),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=cfg,
    )
