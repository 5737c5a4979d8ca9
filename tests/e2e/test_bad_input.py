"""Bad input end to end: nothing is lost, every record is in Parquet or quarantined with its reason.

Two sources of bad input, both through the deployed pipeline (S3 notification -> Lambda):

* the generator with ``--bad-ratio`` through Firehose (truncated JSON, wrong types, missing
  fields, unknown event types, out-of-range timestamps; the manifest knows each reason);
* hand-made objects put straight into ``raw/``: GZIP, records concatenated as ``}{``, an empty
  object, a truncated last line, a line with non-UTF-8 bytes, a UTF-8 BOM, and a 50 MB object.

Counts must reconcile exactly: Parquet rows (from the files, per source object) and quarantine
entries (per source object and reason) against what this test sent.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from clickstream_common import schema
from clickstream_common.inventory import iter_objects, parquet_num_rows, quarantine_entries
from generator.pipeline import GenConfig, generate_records

from .support import arrival_prefix, clean_pipeline, run_cli, wait_reconciled

DAY_MS = 86_400_000
START_MS = 1_734_912_000_000  # 2024-12-23T00:00:00Z
BIG_BYTES = 50 * 1024 * 1024


def good_lines(n: int, seed: int) -> list[bytes]:
    """``n`` valid, newline-terminated events (unique ids) from the real generator."""
    cfg = GenConfig(seed=seed, start_ms=START_MS, end_ms=START_MS + 3 * DAY_MS, count=n)
    return [r.data for r in generate_records(cfg)]


@dataclass
class Shape:
    """One hand-made raw object and what must come out of it."""

    name: str
    body: bytes
    rows: int
    reasons: Counter[str] = field(default_factory=Counter)
    key: str = ""


def big_object(seed: int) -> tuple[bytes, int]:
    """A ~50 MB NDJSON object: generated events repeated with distinct event ids."""
    base = good_lines(2000, seed)
    chunk = sum(len(x) for x in base)
    parts, rows, copy = [], 0, 0
    while rows == 0 or (copy * chunk) < BIG_BYTES:
        tag = f'"event_id":"c{copy}-'.encode()
        parts.extend(line.replace(b'"event_id":"', tag, 1) for line in base)
        rows += len(base)
        copy += 1
    return b"".join(parts), rows


def hand_made_shapes(seed: int) -> list[Shape]:
    lines = good_lines(1000, seed)
    gz, concat, trunc, enc, bom = (
        lines[:300],
        lines[300:500],
        lines[500:650],
        lines[650:750],
        lines[750:800],
    )
    truncated_tail = lines[999][: len(lines[999]) // 2]  # no newline: Firehose cut it off
    bad_line = enc[50].replace(b'"event_type"', b'"note":"caf\xe9 \xff","event_type"', 1)
    big, big_rows = big_object(seed + 1)
    assert len(big) >= BIG_BYTES
    return [
        Shape("gzip", gzip.compress(b"".join(gz)), len(gz)),
        Shape("concatenated", b"".join(x.rstrip(b"\n") for x in concat), len(concat)),
        Shape("empty", b"", 0),
        Shape(
            "truncated-last-line",
            b"".join(trunc) + truncated_tail,
            len(trunc),
            Counter({schema.REASON_MALFORMED_JSON: 1}),
        ),
        Shape(
            "non-utf8",
            b"".join([*enc[:50], bad_line, *enc[51:]]),
            len(enc) - 1,
            Counter({schema.REASON_BAD_ENCODING: 1}),
        ),
        Shape("bom", b"\xef\xbb\xbf" + b"".join(bom), len(bom)),
        Shape("50mb", big, big_rows),
    ]


@pytest.fixture(scope="module")
def processed(
    s3: Any, outputs: dict[str, Any], run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    clean_pipeline(s3, outputs)
    manifest_path = tmp_path_factory.mktemp("bad") / "manifest.json"
    run_cli(
        [
            "clickstream-generate",
            *("--count", "4000", "--bad-ratio", "0.05", "--seed", "7"),
            *("--start", "2024-12-23", "--end", "2024-12-26", "--batch-size", "40"),
            *("--manifest", str(manifest_path), "--quiet"),
        ]
    )
    manifest = json.loads(manifest_path.read_text())
    shapes = hand_made_shapes(seed=11)
    prefix = arrival_prefix(outputs)
    for shape in shapes:
        shape.key = f"{prefix}e2e-{run_id}-{shape.name}"
        s3.put_object(Bucket=outputs["raw_bucket"], Key=shape.key, Body=shape.body)
    rows = manifest["good"] + sum(s.rows for s in shapes)
    reasons = Counter(manifest["bad_by_reason"])
    for shape in shapes:
        reasons.update(shape.reasons)
    inv = wait_reconciled(
        s3,
        outputs,
        rows=rows,
        quarantined=sum(reasons.values()),
        timeout=180,
        what="generated + hand-made bad input",
    )
    entries = list(
        quarantine_entries(
            s3, str(outputs["transformed_bucket"]), str(outputs["quarantine_prefix"])
        )
    )
    return {
        "manifest": manifest,
        "shapes": shapes,
        "inventory": inv,
        "reasons": reasons,
        "entries": entries,
    }


def test_generator_bad_ratio_covers_every_kind(processed: dict[str, Any]) -> None:
    manifest = processed["manifest"]
    assert manifest["bad"] > 0
    assert set(manifest["bad_by_kind"]) == {
        "truncated_json",
        "wrong_type",
        "missing_field",
        "unknown_event_type",
        "timestamp_out_of_range",
    }


def test_totals_reconcile_exactly(processed: dict[str, Any]) -> None:
    inv = processed["inventory"]
    assert inv.records_in == inv.parquet_rows + inv.quarantine_records
    assert dict(inv.quarantine_by_reason) == dict(processed["reasons"])
    assert inv.unprocessed_keys == []


def test_firehose_records_are_quarantined_with_the_generators_reasons(
    processed: dict[str, Any],
) -> None:
    hand_made = {s.key for s in processed["shapes"]}
    from_firehose = Counter(
        e["reason"] for e in processed["entries"] if e["source_key"] not in hand_made
    )
    assert from_firehose == Counter(processed["manifest"]["bad_by_reason"])


@pytest.mark.parametrize(
    "name", ["gzip", "concatenated", "empty", "truncated-last-line", "non-utf8", "bom", "50mb"]
)
def test_each_hand_made_object_lands_exactly(
    name: str, processed: dict[str, Any], s3: Any, outputs: dict[str, Any]
) -> None:
    shape = next(s for s in processed["shapes"] if s.name == name)
    bucket = str(outputs["transformed_bucket"])
    # Output files are named after their source object (<digest>-<file name>.parquet).
    suffix = f"-{shape.key.rsplit('/', 1)[1]}.parquet"
    rows = sum(
        parquet_num_rows(s3, bucket, o["Key"], o["Size"])
        for o in iter_objects(s3, bucket, str(outputs["events_prefix"]))
        if o["Key"].endswith(suffix)
    )
    assert rows == shape.rows
    mine = [e for e in processed["entries"] if e["source_key"] == shape.key]
    assert Counter(e["reason"] for e in mine) == shape.reasons
    for entry in mine:  # the evidence is kept: the original bytes can be recovered
        original = (
            base64.b64decode(entry["raw_base64"])
            if "raw_base64" in entry
            else entry["raw"].encode()
        )
        assert original.rstrip(b"\n") in shape.body
