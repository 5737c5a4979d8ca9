"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

from clickstream_common import localstack


@pytest.fixture(scope="session")
def localstack_endpoint() -> str:
    """The running local stack, or a clear failure.

    Tests that need LocalStack are marked ``e2e``; when one runs, the stack must be up. Failing
    (not skipping) keeps a stopped stack from passing for a green run.
    """
    url = localstack.endpoint()
    if not localstack.healthy(url):
        pytest.fail(f"LocalStack is not healthy at {url}: run `make up` first", pytrace=False)
    return url
