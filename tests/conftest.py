"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

from clickstream_common import localstack, target

#: Every test run ends in bounded time, even on a deadlock pytest-timeout cannot break.
pytest_plugins = ("tests.hang_guard",)


@pytest.fixture(scope="session")
def localstack_endpoint() -> str:
    """The running local stack, or a clear failure.

    Tests that need LocalStack are marked ``e2e``; when one runs, the stack must be up. Failing
    (not skipping) keeps a stopped stack from passing for a green run.
    """
    stack = target.load()
    if stack.another_stack:  # its buckets would be emptied as if they were this checkout's
        pytest.fail(f"not this checkout's stack: {stack.conflict}", pytrace=False)
    url = localstack.endpoint()
    if not localstack.healthy(url):
        pytest.fail(f"LocalStack is not healthy at {url}: run `make up` first", pytrace=False)
    return url
