"""Pin of the LocalStack code the local Firehose provider overrides (LocalStack 4.14.0).

``clickstream_emulator.firehose.provider`` overrides two private methods of LocalStack's
``FirehoseProvider`` (``_put_records`` and ``_put_records_to_s3_bucket``) and relies on the first
calling the second with the stream's own destination description. A LocalStack upgrade that
changes either must fail here, not silently bypass the buffering. The check reads LocalStack's
installed source (tests/localstack_code.py: ``.venv-localstack``, or the docker-mode image, both
installed by ``make up``), so it runs with the e2e suite.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

import pytest

from tests import localstack_code

REPO = Path(__file__).resolve().parents[2]
PROVIDER = "localstack/services/firehose/provider.py"  # in LocalStack's site-packages

#: sha256 of each overridden method's source in localstack-core 4.14.0
PINNED = {
    "_put_records": "055ac857255ed2e95df27c27e61a4054d8d40928e1aad2509b24b6f675a89273",
    "_put_records_to_s3_bucket": "e180b3c47e36e1ed8390b9410b4f73617699c4bfb0efd7d1aa2502f7b9c06abb",
}


@functools.cache
def _provider_source() -> str:
    source = localstack_code.read(PROVIDER)
    if source is None:
        pytest.fail(f"{PROVIDER} missing: {localstack_code.missing()}", pytrace=False)
    return source


def _methods() -> dict[str, ast.FunctionDef]:
    tree = ast.parse(_provider_source())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "FirehoseProvider")
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


@pytest.mark.e2e
def test_localstack_version_is_the_pinned_one() -> None:
    found = [d for d in localstack_code.distributions() if d.startswith("localstack_core-")]
    assert found == ["localstack_core-4.14.0.dist-info"], found


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(PINNED))
def test_overridden_localstack_methods_have_not_moved(name: str) -> None:
    source = ast.get_source_segment(_provider_source(), _methods()[name])
    assert source is not None
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == PINNED[name], (
        f"LocalStack's FirehoseProvider.{name} changed: re-check "
        "clickstream_emulator/firehose/provider.py against it, then update the pin"
    )


@pytest.mark.e2e
def test_put_records_hands_the_destination_description_to_the_s3_write() -> None:
    body = ast.unparse(_methods()["_put_records"])
    assert "self._put_records_to_s3_bucket(delivery_stream_name, records, s3_dest_desc)" in body
    assert (
        "destination['S3DestinationDescription'] or destination['ExtendedS3DestinationDescription']"
        in body
    )


def test_our_overrides_keep_localstacks_parameter_names() -> None:
    """Our side of the contract (no LocalStack needed): the parameter names we override."""
    source = (REPO / "emulator/src/clickstream_emulator/firehose/provider.py").read_text()
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    ours = {
        n.name: [a.arg for a in n.args.args] for n in cls.body if isinstance(n, ast.FunctionDef)
    }
    assert ours["_put_records"] == [
        "self",
        "account_id",
        "region_name",
        "delivery_stream_name",
        "unprocessed_records",
    ]
    assert ours["_put_records_to_s3_bucket"] == [
        "self",
        "stream_name",
        "records",
        "s3_destination_description",
    ]
