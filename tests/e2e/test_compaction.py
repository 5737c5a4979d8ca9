"""Compaction on the real local stack, through the deployed compactor function.

A day arrives as many raw objects with cross-object duplicates (at-least-once delivery) and one
event id sent twice with different content. Then, in order:

1. ``clickstream-compact --day D`` (what ``make compact DAY=D`` runs) folds the day into one file
   holding each event once, sorted by event time; the conflict is counted and kept aside;
   ``make status``'s inventory reconciles raw = Parquet + quarantine + duplicates removed;
2. a rerun changes nothing;
3. ``clickstream-replay`` of the day's raw objects brings no duplicate back;
4. the Athena API (the local mirror) answers from the compacted day;
5. a compactor killed between its write and its delete leaves the window's duplicates, and the
   next run repairs them;
6. a late event for the compacted day is folded in by the next scheduled sweep.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clickstream_common import compaction as layout
from generator.pipeline import GenConfig, generate_records

from .support import REPO, clean_pipeline, client, inventory, run_cli, wait_for, wait_reconciled
from .test_glue_catalog import CRAWLER_SETTINGS, _columns, _keys, _partitions, run_crawler

DAY = date(2024, 12, 25)
START_MS = 1_735_084_800_000  # 2024-12-25T00:00:00Z
OBJECTS = 24
PER_OBJECT = 60
REPEATED = 5  # each object repeats the last events of the one before (at-least-once)


def _events() -> list[bytes]:
    cfg = GenConfig(
        seed=21, start_ms=START_MS, end_ms=START_MS + 86_400_000 - 1, count=OBJECTS * PER_OBJECT
    )
    lines = [ln + b"\n" for r in generate_records(cfg) for ln in r.data.split(b"\n") if ln.strip()]
    assert len(lines) == OBJECTS * PER_OBJECT
    return lines


def _objects(lines: list[bytes]) -> list[bytes]:
    """OBJECTS raw objects; object k+1 starts with the last REPEATED events of object k; the last
    one also carries the first event again with another page (a conflicting duplicate)."""
    chunks = [lines[i * PER_OBJECT : (i + 1) * PER_OBJECT] for i in range(OBJECTS)]
    out = []
    for k, chunk in enumerate(chunks):
        repeat = chunks[k - 1][-REPEATED:] if k else []
        out.append(b"".join(repeat + chunk))
    first = json.loads(lines[0])
    first["page_url"] = "/conflicting/content"
    out[-1] += json.dumps(first).encode() + b"\n"
    return out


DUPLICATES = (OBJECTS - 1) * REPEATED + 1
DISTINCT = OBJECTS * PER_OBJECT


@pytest.fixture(scope="module")
def day_loaded(s3: Any, outputs: dict[str, Any], run_id: str) -> list[str]:
    clean_pipeline(s3, outputs)
    keys = []
    for k, body in enumerate(_objects(_events())):
        key = f"raw/2024/12/25/{k:02d}/compaction-{run_id}-{k:02d}"
        s3.put_object(Bucket=outputs["raw_bucket"], Key=key, Body=body)
        keys.append(key)
        time.sleep(0.05)  # distinct arrival order
    wait_reconciled(
        s3, outputs, rows=DISTINCT + DUPLICATES, quarantined=0, what="the day's objects"
    )
    return keys


def _day_keys(s3: Any, outputs: dict[str, Any]) -> list[str]:
    prefix = layout.day_prefix(DAY)
    listed = s3.list_objects_v2(Bucket=outputs["transformed_bucket"], Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def _day_table(s3: Any, outputs: dict[str, Any]) -> pa.Table:
    tables = []
    for key in _day_keys(s3, outputs):
        body = s3.get_object(Bucket=outputs["transformed_bucket"], Key=key)["Body"].read()
        tables.append(pq.read_table(pa.BufferReader(body)))
    return pa.concat_tables(tables)


def _manifest(s3: Any, outputs: dict[str, Any]) -> layout.DayManifest:
    body = s3.get_object(Bucket=outputs["transformed_bucket"], Key=layout.manifest_key(DAY))
    manifest = layout.parse_manifest(body["Body"].read())
    assert manifest is not None
    return manifest


def _assert_compacted(s3: Any, outputs: dict[str, Any], distinct: int) -> pa.Table:
    keys = _day_keys(s3, outputs)
    assert keys and all(layout.is_compacted(k) for k in keys), keys
    table = _day_table(s3, outputs)
    ids = table.column("event_id")
    assert table.num_rows == distinct == len(pa.compute.unique(ids)), "each event once"
    times = table.column("event_timestamp").to_pylist()
    assert times == sorted(times), "sorted by event time"
    inv = inventory(s3, outputs)
    assert inv.reconciled, inv.summary()
    assert inv.records_in == inv.parquet_rows + inv.quarantine_records + inv.duplicates_removed
    return table


def test_a_sweep_names_the_days_outside_it_that_wait(
    day_loaded: list[str], s3: Any, outputs: dict[str, Any]
) -> None:
    """``make compact`` without a day sweeps the last days by the clock, so the loaded 2024 day
    is outside it: the sweep leaves it alone and says how to compact it."""
    proc = run_cli(["clickstream-compact"], timeout=300)
    assert f"{DAY}: " not in proc.stdout, proc.stdout
    hint = proc.stdout.strip().splitlines()[-1]
    assert hint.startswith("outside the sweep, 1 day(s) hold files not compacted yet: "), hint
    assert f"make compact DAY={DAY}" in hint, hint
    assert len(_day_keys(s3, outputs)) == OBJECTS, "the sweep left the day alone"


def test_compact_day_through_the_deployed_function(
    day_loaded: list[str], s3: Any, outputs: dict[str, Any]
) -> None:
    before = _day_keys(s3, outputs)
    assert len(before) == OBJECTS
    proc = run_cli(["clickstream-compact", "--day", DAY.isoformat()], timeout=300)
    assert f"{DAY}: compacted" in proc.stdout and "duplicates removed 116" in proc.stdout, (
        proc.stdout
    )
    table = _assert_compacted(s3, outputs, DISTINCT)
    assert len(_day_keys(s3, outputs)) == 1
    manifest = _manifest(s3, outputs)
    assert manifest.duplicate_rows == DUPLICATES and manifest.conflicts == 1
    assert not manifest.pending_deletes and manifest.claim is None
    # the earliest arrival is kept: the first event keeps its original page
    first = json.loads(_events()[0])
    row = table.filter(pa.compute.equal(table.column("event_id"), first["event_id"])).to_pylist()
    assert row[0]["page_url"] == first["page_url"]
    # the conflicting row is kept aside, inspectable
    assert manifest.duplicates is not None
    dups = s3.get_object(
        Bucket=outputs["transformed_bucket"],
        Key=manifest.duplicates.key,
        VersionId=manifest.duplicates.version_id,
    )["Body"].read()
    dup_table = pq.read_table(pa.BufferReader(dups))
    assert dup_table.num_rows == DUPLICATES
    assert dup_table.filter(dup_table.column("conflict")).column("page_url").to_pylist() == [
        "/conflicting/content"
    ]


def test_a_rerun_changes_nothing(day_loaded: list[str], s3: Any, outputs: dict[str, Any]) -> None:
    keys = _day_keys(s3, outputs)
    manifest = _manifest(s3, outputs)
    proc = run_cli(["clickstream-compact", "--day", DAY.isoformat()], timeout=300)
    assert f"{DAY}: nothing to do" in proc.stdout, proc.stdout
    assert _day_keys(s3, outputs) == keys and _manifest(s3, outputs) == manifest


def test_replay_of_compacted_sources_brings_no_duplicate_back(
    day_loaded: list[str], s3: Any, outputs: dict[str, Any]
) -> None:
    keys = _day_keys(s3, outputs)
    proc = run_cli(["clickstream-replay", "--prefix", "raw/2024/12/25/", "--json"], timeout=300)
    stats = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(stats) == OBJECTS
    assert all(s["compacted_keys"] for s in stats)
    assert _day_keys(s3, outputs) == keys, "identical outputs are not uploaded again"
    _assert_compacted(s3, outputs, DISTINCT)


def test_the_athena_api_answers_from_the_compacted_day(
    day_loaded: list[str], outputs: dict[str, Any]
) -> None:
    athena = client("athena")
    qid = athena.start_query_execution(
        QueryString="SELECT count(*), count(DISTINCT event_id) FROM events "
        "WHERE year = '2024' AND month = '12' AND day = '25'",
        WorkGroup=outputs["athena_workgroup"],
        QueryExecutionContext={"Database": outputs["glue_database"]},
    )["QueryExecutionId"]
    state = wait_for(
        lambda: athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"],
        lambda s: s["State"] not in ("QUEUED", "RUNNING"),
        timeout=60,
        what="the Athena query",
    )
    assert state["State"] == "SUCCEEDED", state
    rows = athena.get_query_results(QueryExecutionId=qid)["ResultSet"]["Rows"]
    assert [d["VarCharValue"] for d in rows[1]["Data"]] == [str(DISTINCT), str(DISTINCT)]


def test_a_crawler_catalogs_the_compacted_day_as_the_terraform_table(
    day_loaded: list[str], outputs: dict[str, Any], run_id: str
) -> None:
    """Glue crawler mode: the compacted files have the table's schema, the day its partition."""
    glue = client("glue")
    database, name = f"{outputs['glue_database']}_compacted_{run_id}", f"e2e-compacted-{run_id}"
    glue.create_database(DatabaseInput={"Name": database})
    try:
        glue.create_crawler(
            Name=name,
            Role="arn:aws:iam::000000000000:role/e2e-crawler",
            DatabaseName=database,
            Targets={
                "S3Targets": [
                    {"Path": f"s3://{outputs['transformed_bucket']}/{outputs['events_prefix']}"}
                ]
            },
            Configuration=json.dumps(CRAWLER_SETTINGS["configuration"]),
        )
        _, crawler = run_crawler(glue, name)
        assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
        table = outputs["table_name"]
        crawled = glue.get_table(DatabaseName=database, Name=table)["Table"]
        defined = glue.get_table(DatabaseName=outputs["glue_database"], Name=table)["Table"]
        assert _columns(crawled) == _columns(defined) and _keys(crawled) == _keys(defined)
        assert int(crawled["Parameters"]["recordCount"]) == DISTINCT
        assert _partitions(glue, database, table) == [("2024", "12", "25")]
    finally:
        glue.delete_crawler(Name=name)
        glue.delete_database(Name=database)


#: A compactor run in a child process, with ``PATCH`` making it die somewhere (``os._exit``: like
#: SIGKILL, no cleanup). argv: bucket, day, spool directory[, lease seconds].
KILLED_RUN = """
import os, sys
from datetime import date
from pathlib import Path
import boto3
from compactor.config import CompactorConfig
from compactor.run import compact_day
from compactor.store import S3Store
PATCH
lease = {"lease_s": float(sys.argv[4])} if len(sys.argv) > 4 else {}
compact_day(S3Store(boto3.client("s3"), sys.argv[1]), date.fromisoformat(sys.argv[2]),
            CompactorConfig(memory_limit_mb=256, **lease), Path(sys.argv[3]), explicit=True)
"""
DIE_AFTER_FIRST_DELETE = """
real = S3Store.delete_versions
def delete_then_die(self, victims):
    real(self, victims[:1])
    os._exit(137)  # killed between the write and the last delete
S3Store.delete_versions = delete_then_die
"""


def _run_killed(patch: str, outputs: dict[str, Any], tmp_path: Any, *lease_s: str) -> None:
    """Run the compactor on DAY in a child process that ``patch`` kills; it must die so."""
    script = KILLED_RUN.replace("PATCH", patch)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            outputs["transformed_bucket"],
            DAY.isoformat(),
            str(tmp_path),
            *lease_s,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ},
    )
    assert proc.returncode == 137, proc.stderr[-2000:]


def test_a_kill_between_write_and_delete_is_repaired_by_the_next_run(
    day_loaded: list[str], s3: Any, outputs: dict[str, Any], run_id: str, tmp_path: Any
) -> None:
    # something to compact: one late object with new events and a repeated one
    lines = _events()
    extra = GenConfig(seed=99, start_ms=START_MS, end_ms=START_MS + 86_400_000 - 1, count=20)
    late = [ln + b"\n" for r in generate_records(extra) for ln in r.data.split(b"\n") if ln.strip()]
    body = b"".join(late) + lines[7]
    s3.put_object(Bucket=outputs["raw_bucket"], Key=f"raw/2024/12/26/01/late-{run_id}", Body=body)
    wait_for(
        lambda: len(_day_keys(s3, outputs)),
        lambda n: n == 2,
        timeout=60,
        what="the late object's delta in the compacted day",
    )
    _run_killed(DIE_AFTER_FIRST_DELETE, outputs, tmp_path)
    manifest = _manifest(s3, outputs)
    assert manifest.pending_deletes, "killed inside the window: the commit lists undeleted inputs"
    inv = inventory(s3, outputs)
    assert inv.parquet_rows > DISTINCT + 20, "inside the window queries see the folded rows twice"
    assert inv.reconciled, inv.summary()  # the inventory already knows they are on their way out
    proc = run_cli(["clickstream-compact", "--day", DAY.isoformat()], timeout=300)
    assert "finished" in proc.stdout and "deletes of an interrupted run" in proc.stdout, proc.stdout
    _assert_compacted(s3, outputs, DISTINCT + 20)
    again = run_cli(["clickstream-compact", "--day", DAY.isoformat()], timeout=300)
    assert f"{DAY}: nothing to do" in again.stdout, again.stdout


def test_a_late_event_is_folded_in_by_the_next_sweep(
    day_loaded: list[str], s3: Any, outputs: dict[str, Any], run_id: str
) -> None:
    rows_before = _assert_compacted(s3, outputs, len(_day_table(s3, outputs))).num_rows
    late = json.loads(_events()[100])
    late["event_id"] = f"late-{run_id}"
    s3.put_object(
        Bucket=outputs["raw_bucket"],
        Key=f"raw/2024/12/27/09/late-event-{run_id}",
        Body=json.dumps(late).encode() + b"\n",
    )
    wait_for(
        lambda: len(_day_keys(s3, outputs)),
        lambda n: n == 2,
        timeout=60,
        what="the late event's delta in the compacted day",
    )
    # the schedule's own event: its time is the scheduled time; the sweep covers DAY
    response = client("lambda").invoke(
        FunctionName=outputs["compactor_name"],
        Payload=json.dumps(
            {
                "source": "aws.events",
                "detail-type": "Scheduled Event",
                "time": "2024-12-28T01:30:00Z",
            }
        ).encode(),
    )
    answer = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, answer
    days = {d["day"]: d for d in answer["days"]}
    assert days[DAY.isoformat()]["action"] == "compacted", answer
    assert days["2024-12-27"]["action"] == "nothing to do"
    table = _assert_compacted(s3, outputs, rows_before + 1)
    assert f"late-{run_id}" in table.column("event_id").to_pylist()


DIE_AT_COMMIT = """
real = S3Store.put_if
calls = []
def claim_then_die_at_commit(self, key, body, etag):
    calls.append(key)
    if len(calls) == 2:  # the claim went through, the new files are uploaded: die at the commit
        os._exit(137)
    return real(self, key, body, etag)
S3Store.put_if = claim_then_die_at_commit
"""
LEASE_S = 20.0


def test_a_run_that_dies_before_its_commit_is_taken_over_when_its_lease_ends(
    day_loaded: list[str], s3: Any, outputs: dict[str, Any], run_id: str, tmp_path: Any
) -> None:
    """A crash after the new files are uploaded and before the manifest commits them: the
    committed state is untouched, the orphan files are visible beside it (queries see the folded
    rows twice), the day stays claimed until the dead run's lease ends, and the run after that
    deletes the orphans and compacts: every figure holds again."""
    rows_before = _assert_compacted(s3, outputs, len(_day_table(s3, outputs))).num_rows
    committed_before = _manifest(s3, outputs).file_keys
    extra = GenConfig(seed=77, start_ms=START_MS, end_ms=START_MS + 86_400_000 - 1, count=10)
    new = [ln + b"\n" for r in generate_records(extra) for ln in r.data.split(b"\n") if ln.strip()]
    s3.put_object(
        Bucket=outputs["raw_bucket"], Key=f"raw/2024/12/27/11/orphan-{run_id}", Body=b"".join(new)
    )
    wait_for(
        lambda: len(_day_keys(s3, outputs)),
        lambda n: n == len(committed_before) + 1,
        timeout=60,
        what="the new object's delta in the compacted day",
    )
    _run_killed(DIE_AT_COMMIT, outputs, tmp_path, str(LEASE_S))
    manifest = _manifest(s3, outputs)
    assert manifest.file_keys == committed_before and not manifest.pending_deletes
    assert manifest.claim is not None, "the dead run still holds the day"
    orphans = [k for k in _day_keys(s3, outputs) if layout.is_compacted(k)]
    assert len(orphans) == len(committed_before) + 1, "the uncommitted new file is listed"

    busy = run_cli(["clickstream-compact", "--day", DAY.isoformat()], timeout=300)
    assert f"{DAY}: busy (held by run {manifest.claim['run']} until" in busy.stdout, busy.stdout
    assert set(orphans) <= set(_day_keys(s3, outputs)), "a busy run leaves the day alone"

    time.sleep(max(0.0, float(manifest.claim["expires"]) - time.time()) + 1)
    after = run_cli(["clickstream-compact", "--day", DAY.isoformat()], timeout=300)
    assert f"{DAY}: compacted" in after.stdout, after.stdout
    assert "removed 1 files of a run that died before its commit" in after.stdout, after.stdout
    table = _assert_compacted(s3, outputs, rows_before + 10)
    assert _manifest(s3, outputs).claim is None
    dead = set(orphans) - set(committed_before)
    assert len(dead) == 1 and not dead & set(_day_keys(s3, outputs)), "the orphan is deleted"
    assert table.num_rows == rows_before + 10
