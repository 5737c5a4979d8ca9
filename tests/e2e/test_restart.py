"""LocalStack restarted between runs (it keeps no state): `make up` recovers a clean, working stack.

Marked ``slow`` (a restart plus a full Terraform apply, ~2 min). The conftest runs it after the
rest of tests/e2e, since it replaces the stack every other test uses, and before other
directories' e2e tests, whose session fixtures must not lose their resources mid-session.
Deselect with ``-m "e2e and not slow"``.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any
from urllib.parse import urlparse

import pytest

from clickstream_common import outputs as tf_outputs
from generator.pipeline import GenConfig, generate_records

from .support import (
    ENDPOINT,
    REPO,
    client,
    inventory,
    wait_reconciled,
)


def sh(cmd: list[str], timeout: float) -> str:
    env = {**os.environ, "LOCALSTACK_PORT": str(urlparse(ENDPOINT).port or 4566)}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return proc.stdout


@pytest.mark.slow
def test_make_up_after_a_localstack_restart_gives_a_clean_working_pipeline(
    outputs: dict[str, Any], run_id: str
) -> None:
    sh([str(REPO / "scripts" / "stack.sh"), "restart"], timeout=180)
    sh(["make", "up"], timeout=400)

    after = tf_outputs.load_outputs()
    names = ("raw_bucket", "transformed_bucket", "firehose_name", "lambda_name", "glue_database")
    assert {k: after[k] for k in names} == {k: outputs[k] for k in names}
    s3 = client("s3")  # a new connection to the new process
    inv = inventory(s3, after)
    assert (inv.raw_objects, inv.parquet_rows, inv.quarantine_records) == (0, 0, 0), inv.summary()

    # ...and the redeployed pipeline works end to end: Firehose -> raw -> Lambda -> Parquet.
    cfg = GenConfig(seed=5, start_ms=1_735_084_800_000, end_ms=1_735_171_200_000, count=300)
    records = [{"Data": r.data} for r in generate_records(cfg)]
    resp = client("firehose").put_record_batch(
        DeliveryStreamName=str(after["firehose_name"]), Records=records
    )
    assert resp["FailedPutCount"] == 0
    wait_reconciled(s3, after, rows=300, quarantined=0, timeout=60, what="the redeployed stack")
    assert inventory(s3, after).raw_objects == 1
