"""Fixtures for the local-stack executor tests: a running LocalStack and a throw-away python3.13 function.

These tests need the host-mode stack (`scripts/stack.sh start`, or `make up`). Until the common
e2e conftest provides a shared fixture, a missing stack skips them with a message saying so.
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from clickstream_common import localstack

ENDPOINT = localstack.endpoint()
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
HANDLERS = Path(__file__).with_name("handlers.py")


@pytest.fixture(scope="session")
def aws(localstack_endpoint: str) -> Callable[[str], Any]:
    """boto3 client factory for the local stack (fails clearly if the stack is not up)."""
    session = boto3.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=REGION,
    )
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}, read_timeout=120)

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=ENDPOINT, config=config)

    return client


@pytest.fixture(scope="session")
def run_id() -> str:
    """Unique per test run, so runs never see each other's functions, buckets or logs."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def role_arn(aws: Callable[[str], Any], run_id: str) -> Iterator[str]:
    iam = aws("iam")
    name = f"stack-test-{run_id}"
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
        ),
    )
    yield role["Role"]["Arn"]
    iam.delete_role(RoleName=name)


@pytest.fixture(scope="session")
def function_zip() -> bytes:
    """The deployment zip: handlers.py only (boto3 comes from the runtime, as on AWS)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(HANDLERS, "handlers.py")
    return buffer.getvalue()


@pytest.fixture(scope="session")
def make_function(
    aws: Callable[[str], Any], run_id: str, role_arn: str, function_zip: bytes
) -> Iterator[Callable[..., str]]:
    """Create a python3.13 function for one handler and wait until it is Active."""
    lambda_client = aws("lambda")
    created: list[str] = []

    def make(handler: str, timeout: int = 10, memory: int = 256, env: dict | None = None) -> str:
        name = f"stack-{run_id}-{handler.replace('_', '-')}-{uuid.uuid4().hex[:4]}"
        lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role_arn,
            Handler=f"handlers.{handler}",
            Code={"ZipFile": function_zip},
            Timeout=timeout,
            MemorySize=memory,
            Environment={"Variables": env or {}},
        )
        created.append(name)
        lambda_client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        return name

    yield make
    for name in created:
        lambda_client.delete_function(FunctionName=name)


@pytest.fixture()
def bucket(aws: Callable[[str], Any], run_id: str) -> Iterator[str]:
    s3 = aws("s3")
    name = f"stack-test-{run_id}-{uuid.uuid4().hex[:6]}"
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)
