"""Fixtures for the end-to-end suite: the real local stack deployed by `make up`.

Nothing here is mocked: the tests talk to LocalStack through the standard AWS variables and read
resource names from the Terraform outputs. Missing stack = a clear failure, never a silent skip
(a skipped e2e suite would look green).

Isolation between tests and between runs: the Firehose prefix (``raw/YYYY/MM/DD/HH/``) and the
table layout are fixed by the product, and the queries read the whole table, so unique prefixes
cannot isolate runs. Instead each test module starts with :func:`clean_pipeline`: wait until the
pipeline is idle (every raw object has been processed and nothing changes), then empty the raw
bucket first (a late retry then finds no source and writes nothing) and the transformed bucket
second. A second run therefore never sees the first run's data, without a redeploy.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from clickstream_common import localstack
from clickstream_common import outputs as tf_outputs

from .support import ENDPOINT, clean_pipeline, client


@pytest.fixture(scope="session")
def outputs(localstack_endpoint: str) -> dict[str, Any]:
    """Terraform outputs of the deployed local stack (which must be up)."""
    try:
        return tf_outputs.load_outputs()
    except tf_outputs.OutputsNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def s3(outputs: dict[str, Any]) -> Any:
    return client("s3")


@pytest.fixture(scope="session")
def firehose(outputs: dict[str, Any]) -> Any:
    return client("firehose")


@pytest.fixture(scope="session")
def lambda_client(outputs: dict[str, Any]) -> Any:
    return client("lambda")


@pytest.fixture(scope="session")
def logs_client(outputs: dict[str, Any]) -> Any:
    return client("logs")


@pytest.fixture(scope="session")
def sqs(outputs: dict[str, Any]) -> Any:
    return client("sqs")


@pytest.fixture(scope="session")
def failure_queue_url(outputs: dict[str, Any], sqs: Any) -> str:
    """The on-failure destination, resolved by name (the output may be a URL or an ARN, and a
    URL written by another deployment may name another port)."""
    value = str(outputs["failure_destination"])
    name = value.rsplit(":", 1)[-1] if value.startswith("arn:") else value.rsplit("/", 1)[-1]
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


@pytest.fixture(scope="session")
def run_id() -> str:
    """Unique per test session: names hand-made raw objects so runs never share keys."""
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session", autouse=True)
def leave_the_stack_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a green run, empty the buckets so `make demo`/`make queries` see no test data.
    After a failure the data stays where it is, for `make status` and debugging."""
    yield
    if request.session.testsfailed or not localstack.healthy(ENDPOINT):
        return
    try:
        outputs = tf_outputs.load_outputs()
    except tf_outputs.OutputsNotFoundError:
        return
    clean_pipeline(client("s3"), outputs)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/e2e needs the stack: mark it so `-m "not e2e"` leaves it out.

    Tests marked ``slow`` (they restart the stack) run after the rest of this directory but
    before other directories' tests: those set up session fixtures (functions, roles) in the
    stack, which a restart in the middle of their session would pull away.
    """
    here = os.path.dirname(__file__)
    mine = [item for item in items if str(item.path).startswith(here)]
    for item in mine:
        item.add_marker(pytest.mark.e2e)
    slow = [item for item in mine if item.get_closest_marker("slow")]
    if not slow or len(slow) == len(mine):
        return
    rest = [item for item in items if item not in slow]
    last_mine = max(i for i, item in enumerate(rest) if item in mine)
    items[:] = rest[: last_mine + 1] + slow + rest[last_mine + 1 :]
