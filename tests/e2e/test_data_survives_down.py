"""`make down` then `make up` keeps the local data: what was put before the stop is queryable
after the start, and nothing is doubled (no raw object is processed twice into new rows).

Marked ``slow`` (a full stop, start and Terraform apply, ~2-4 min; see test_restart.py for how
the conftest orders slow tests). Records are sent through the deployed Firehose right before
`make down`, so the stop has to deliver (flush) and wait for the transformer before it saves.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any
from urllib.parse import urlparse

import pytest

from clickstream_common import outputs as tf_outputs
from generator.pipeline import GenConfig, generate_records

from .support import ENDPOINT, REPO, client, inventory, run_cli, settle

EVENTS = 2_000
BAD = 0.02


def make(target: str, timeout: float) -> str:
    env = {**os.environ, "LOCALSTACK_PORT": str(urlparse(ENDPOINT).port or 4566)}
    proc = subprocess.run(
        ["make", target], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        pytest.fail(
            f"make {target} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return proc.stdout


def events_by_type() -> dict[str, int]:
    """The count_by_event_type query's answer, as a user would ask for it (a full aggregation:
    no LIMIT, so no ties to make two runs differ)."""
    csv = run_cli(["clickstream-query", "count_by_event_type", "--format", "csv"]).stdout
    rows = [line.split(",") for line in csv.strip().splitlines()[1:]]
    return {event_type: int(count) for event_type, count in rows}


@pytest.mark.slow
def test_data_put_before_make_down_is_queryable_after_make_up_and_not_doubled(
    s3: Any, outputs: dict[str, Any], firehose: Any
) -> None:
    before_anything = settle(s3, outputs, timeout=180)
    cfg = GenConfig(
        seed=77, start_ms=1_735_084_800_000, end_ms=1_735_171_200_000, count=EVENTS, bad_ratio=BAD
    )
    records = [{"Data": r.data} for r in generate_records(cfg)]
    for i in range(0, len(records), 500):
        resp = firehose.put_record_batch(
            DeliveryStreamName=str(outputs["firehose_name"]), Records=records[i : i + 500]
        )
        assert resp["FailedPutCount"] == 0

    down = make("down", timeout=600)  # right away: flush + wait for the transformer, then save
    assert "snapshot: saved" in down, down
    make("up", timeout=900)

    after = tf_outputs.load_outputs()
    s3 = client("s3")  # the new LocalStack process
    inv = settle(s3, after, timeout=180)
    assert inv.reconciled, inv.summary()
    sent = inv.records_in - before_anything.records_in
    assert sent == EVENTS, f"expected {EVENTS} more records read, got {sent}: {inv.summary()}"
    assert inv.parquet_rows + inv.quarantine_records - before_anything.records_out == EVENTS
    answers = events_by_type()
    assert sum(answers.values()) == inv.parquet_rows, (answers, inv.summary())

    # Nothing re-processes restored data later: counts, manifests and answers stay as they are.
    time.sleep(10)
    again = inventory(s3, after)
    assert (again.parquet_rows, again.quarantine_records, again.records_in) == (
        inv.parquet_rows,
        inv.quarantine_records,
        inv.records_in,
    ), again.summary()
    assert events_by_type() == answers
    assert not (REPO / ".local" / "snapshot").exists()  # restored, then removed
