"""emulator/s3_sequencer: LocalStack's S3 events carry increasing per-key sequencers.

Runs LocalStack's own notification code (in .venv-localstack, where LocalStack is installed) with
the patch applied: the payload a Lambda/SQS/SNS destination receives for two writes of one key
carries two different sequencers, the second one larger by S3's rule. Fails if the private names
the patch wraps move (the patch pins localstack-core 4.14.0), or if LocalStack starts writing
real sequencers itself (then the patch can go).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests import localstack_code

# LocalStack's own code runs here (tests/localstack_code.py: .venv-localstack, or the docker-mode
# image), installed by `make up`, so this runs with the e2e suite.
pytestmark = pytest.mark.e2e

PROBE = r"""
import datetime, json
from types import SimpleNamespace as NS
from localstack.services.s3 import notifications as n
from clickstream_emulator.s3_sequencer.patch import LOCALSTACK_CONSTANT, install

def payload():
    request = NS(
        service_request={"Bucket": "b"}, operation=NS(wire_name="PutObject"), request_id="r",
        account_id="000000000000", region="us-east-1", request=NS(headers={}),
    )
    bucket = NS(bucket_region="us-east-1", bucket_account_id="000000000000", versioning_status=None)
    obj = NS(etag='"e"', size=1, expires=None, storage_class="STANDARD", key="k", version_id=None)
    ctx = n.S3EventNotificationContext.from_request_context(request, s3_bucket=bucket, s3_object=obj)
    return n.LambdaNotifier._get_event_payload(ctx, "config-id")

before = payload()["Records"][0]["s3"]["object"]["sequencer"]
assert before == LOCALSTACK_CONSTANT, f"LocalStack now writes {before!r}: drop the patch"
assert install() and not install()
first, second = (payload()["Records"][0]["s3"]["object"]["sequencer"] for _ in range(2))
print(json.dumps([first, second]))
"""


def test_two_writes_of_a_key_get_increasing_sequencers() -> None:
    if not localstack_code.installed():
        pytest.fail(localstack_code.missing(), pytrace=False)
    proc = subprocess.run(
        localstack_code.python("-c", PROBE), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, second = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(first) == len(second) == 18 and first == first.upper()
    assert int(first, 16) < int(second, 16)


def test_clock_is_strictly_increasing_even_if_time_stands_still() -> None:
    probe = (
        "from clickstream_emulator.s3_sequencer.patch import SequencerClock\n"
        "c = SequencerClock(lambda: 5)\n"
        "print(c.next(), c.next())"
    )
    proc = subprocess.run(localstack_code.python("-c", probe), capture_output=True, text=True)
    assert proc.stdout.split() == ["000000000000000005", "000000000000000006"], proc.stderr
