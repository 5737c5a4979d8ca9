"""A raw key overwritten while the transformer still processes the old version: the outputs end up
describing the *current* object, whatever order the invocations finish in.

Real S3 notifications (with increasing per-key sequencers, emulator/s3_sequencer), the deployed
Lambda, real Parquet. The late old invocation is also replayed deterministically by invoking the
deployed function with the old version's S3 event, both after the object changed (S3 answers the
``If-Match`` read with 412) and with the current ETag but an older sequencer (the manifest's
sequencer decides): both end cleanly as "superseded" and change nothing. `make status` flags a
manifest whose ETag no longer matches its raw object.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from clickstream_common.inventory import iter_objects
from generator.pipeline import GenConfig, generate_records

from .support import REPO, arrival_prefix, clean_pipeline, inventory, spool_files, wait_for

BIG_EVENTS = 100_000  # ~85 MB: its invocation runs for seconds on this machine
SMALL_EVENTS = 40


def _payload(seed: int, count: int) -> tuple[bytes, set[str]]:
    cfg = GenConfig(seed=seed, start_ms=1_735_084_800_000, end_ms=1_735_171_200_000, count=count)
    lines = [r.data if r.data.endswith(b"\n") else r.data + b"\n" for r in generate_records(cfg)]
    ids = {json.loads(line)["event_id"] for line in lines}
    return b"".join(lines), ids


@pytest.fixture(scope="module")
def payloads() -> dict[str, tuple[bytes, set[str]]]:
    return {"big": _payload(101, BIG_EVENTS), "small": _payload(202, SMALL_EVENTS)}


@pytest.fixture(autouse=True)
def _clean(s3: Any, outputs: dict[str, Any]) -> None:
    clean_pipeline(s3, outputs, settle_timeout=180)


def _event_ids(s3: Any, bucket: str) -> list[str]:
    ids: list[str] = []
    for obj in iter_objects(s3, bucket, "events/"):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        ids += pq.read_table(io.BytesIO(body), columns=["event_id"])["event_id"].to_pylist()
    return ids


def _manifest(s3: Any, outputs: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    bucket = str(outputs["transformed_bucket"])
    docs = [
        json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
        for obj in iter_objects(s3, bucket, "manifests/")
    ]
    [doc] = [d for d in docs if key is None or d.get("source_key") == key]
    return doc


def _wait_current(s3: Any, outputs: dict[str, Any], key: str, etag: str, rows: int) -> None:
    """Until the manifest names ``etag`` and every raw object is reconciled with ``rows``."""
    wait_for(
        lambda: inventory(s3, outputs),
        lambda inv: (
            inv.reconciled
            and inv.manifest_etags.get(key) == etag.strip('"')
            and inv.parquet_rows == rows
        ),
        timeout=240,
        what=f"the outputs of {key} to describe version {etag}",
        show=lambda inv: inv.summary(),
    )


def _settled_on(s3: Any, outputs: dict[str, Any], key: str, etag: str, ids: set[str]) -> None:
    """The outputs equal the version ``etag`` and stay so once every invocation is done."""
    _wait_current(s3, outputs, key, etag, len(ids))
    time.sleep(8)  # any invocation still running (the old version) finishes meanwhile
    inv = inventory(s3, outputs)
    assert inv.reconciled and inv.manifest_etags[key] == etag.strip('"'), inv.summary()
    got = _event_ids(s3, str(outputs["transformed_bucket"]))
    assert len(got) == len(ids) and set(got) == ids, "outputs are not the current raw object"
    assert inv.quarantine_records == 0, inv.summary()


def _warm(lambda_client: Any, outputs: dict[str, Any], environments: int = 2) -> None:
    """Start ``environments`` warm execution environments (an event with no records is a
    no-op), so the overwrite's invocation does not wait for a cold start."""
    with ThreadPoolExecutor(environments) as pool:
        for resp in pool.map(
            lambda _: lambda_client.invoke(
                FunctionName=str(outputs["lambda_name"]), Payload=b'{"Records": []}'
            ),
            range(environments),
        ):
            assert "FunctionError" not in resp


def _superseded_lines(logs_client: Any, outputs: dict[str, Any], key: str) -> list[dict]:
    group = str(outputs["lambda_log_group"])
    events = logs_client.filter_log_events(logGroupName=group, filterPattern="superseded")
    found = []
    for e in events["events"]:
        text = e["message"]
        if key in text and '"superseded: ' in text:
            found.append(json.loads(text[text.index("{") :]))
    return found


def test_old_version_finishing_last_does_not_overwrite_the_new_one(
    s3: Any,
    outputs: dict[str, Any],
    lambda_client: Any,
    logs_client: Any,
    payloads: dict[str, Any],
    run_id: str,
) -> None:
    """The race itself: the big version's invocation has read it (If-Match passed) and is
    transforming it when the small version overwrites the key; the small one is published
    first and the big one, finishing last, is superseded by the order of the sequencers."""
    bucket = str(outputs["raw_bucket"])
    big, _ = payloads["big"]
    small, small_ids = payloads["small"]
    for attempt in range(3):  # the finishing order is up to the machine: try to get old-last
        key = f"{arrival_prefix(outputs)}race-{run_id}-old-last-{attempt}"
        _warm(lambda_client, outputs)
        s3.put_object(Bucket=bucket, Key=key, Body=b"not json\n" + big)
        name = key.rsplit("/", 1)[-1]
        wait_for(
            lambda name=name: spool_files(name),
            bool,
            timeout=120,
            interval=0.05,
            what="the big version's invocation to be transforming it (its quarantine spooling)",
        )
        etag = s3.put_object(Bucket=bucket, Key=key, Body=small)["ETag"]
        _settled_on(s3, outputs, key, etag, small_ids)
        manifest = _manifest(s3, outputs, key)
        assert "claim" not in manifest, manifest
        # A real sequencer (LocalStack alone writes the documentation's constant into every event).
        assert manifest["sequencer"] not in (None, "0055AED6DCD90281E5"), manifest
        reasons = [line["reason"] for line in _superseded_lines(logs_client, outputs, key)]
        if any("older than" in r for r in reasons):
            return  # the old invocation finished last and was superseded: the race, handled
        clean_pipeline(s3, outputs, settle_timeout=180)
    pytest.fail(f"the old version never finished last in 3 attempts (superseded lines: {reasons})")


def test_new_version_finishing_last_replaces_the_old_outputs(
    s3: Any, outputs: dict[str, Any], payloads: dict[str, Any], run_id: str
) -> None:
    bucket = str(outputs["raw_bucket"])
    key = f"{arrival_prefix(outputs)}race-{run_id}-new-last"
    big, big_ids = payloads["big"]
    small, small_ids = payloads["small"]
    etag_big = s3.put_object(Bucket=bucket, Key=key, Body=big)["ETag"]
    _wait_current(s3, outputs, key, etag_big, len(big_ids))
    etag = s3.put_object(Bucket=bucket, Key=key, Body=small)["ETag"]
    _settled_on(s3, outputs, key, etag, small_ids)


def _s3_event(bucket: str, key: str, etag: str, sequencer: str) -> dict[str, Any]:
    """The S3 notification record of one write, as S3 sends it (key URL-encoded, bare ETag)."""
    from urllib.parse import quote_plus

    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "eTag": etag.strip('"'),
                        "sequencer": sequencer,
                    },
                },
            }
        ]
    }


def test_a_late_event_of_an_older_version_ends_cleanly_and_changes_nothing(
    s3: Any, outputs: dict[str, Any], lambda_client: Any, payloads: dict[str, Any], run_id: str
) -> None:
    bucket = str(outputs["raw_bucket"])
    key = f"{arrival_prefix(outputs)}race-{run_id}-late"
    big, _ = payloads["small"]  # two small versions: this test is about the late event only
    etag_old = s3.put_object(Bucket=bucket, Key=key, Body=big)["ETag"]
    time.sleep(0.5)
    small, small_ids = _payload(303, 25)
    etag = s3.put_object(Bucket=bucket, Key=key, Body=small)["ETag"]
    _settled_on(s3, outputs, key, etag, small_ids)
    manifest = _manifest(s3, outputs)
    before = {o["Key"]: o["ETag"] for o in iter_objects(s3, outputs["transformed_bucket"], "")}

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        resp = lambda_client.invoke(
            FunctionName=str(outputs["lambda_name"]), Payload=json.dumps(event).encode()
        )
        assert "FunctionError" not in resp, resp["Payload"].read()
        return json.loads(resp["Payload"].read())

    # The old version's event after the object changed: the If-Match read gets 412.
    old_seq = "0" * 17 + "1"  # older than any real sequencer of this key
    assert invoke(_s3_event(bucket, key, etag_old, old_seq))["results"] == [
        {"source": f"s3://{bucket}/{key}", "superseded": True}
    ]
    # An event naming the current content but older than the published one: the order decides.
    assert invoke(_s3_event(bucket, key, etag, old_seq))["results"] == [
        {"source": f"s3://{bucket}/{key}", "superseded": True}
    ]
    after = {o["Key"]: o["ETag"] for o in iter_objects(s3, outputs["transformed_bucket"], "")}
    assert after == before
    assert _manifest(s3, outputs) == manifest


def test_status_flags_a_manifest_whose_etag_no_longer_matches(
    s3: Any, outputs: dict[str, Any], payloads: dict[str, Any], run_id: str
) -> None:
    bucket = str(outputs["raw_bucket"])
    key = f"{arrival_prefix(outputs)}race-{run_id}-stale"
    small, small_ids = payloads["small"]
    etag = s3.put_object(Bucket=bucket, Key=key, Body=small)["ETag"]
    _wait_current(s3, outputs, key, etag, len(small_ids))
    # What the unfixed transformer left behind: outputs and a manifest of another version.
    tbucket = str(outputs["transformed_bucket"])
    [obj] = list(iter_objects(s3, tbucket, "manifests/"))
    doc = _manifest(s3, outputs)
    doc["etag"] = "0123456789abcdef0123456789abcdef"
    s3.put_object(Bucket=tbucket, Key=obj["Key"], Body=json.dumps(doc).encode())

    status = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "status.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert status.returncode == 0, status.stderr
    assert "stale manifest (raw object overwritten" in status.stdout and key in status.stdout
    assert "NOT RECONCILED: 1 stale manifests" in status.stdout
    assert "(OK)" not in status.stdout
    wait = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "wait_for_pipeline.py"),
            *("--timeout", "2", "--manifest", str(_generator_manifest(len(small_ids)))),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert wait.returncode == 1 and "1 with a stale manifest" in wait.stderr, wait.stderr


def _generator_manifest(good: int) -> Path:
    path = Path(tempfile.mkdtemp()) / "manifest.json"
    path.write_text(json.dumps({"good": good, "bad": 0}))
    return path
