"""S3 event parsing, handler settings and the structured log line (pure parts of the handler)."""

from __future__ import annotations

import json

import pytest

from clickstream_common.schema import EVENTS_PREFIX, MANIFESTS_PREFIX, QUARANTINE_PREFIX
from transformer.events import s3_sources
from transformer.handler import HandlerSettings
from transformer.metrics import emf_record
from transformer.model import SourceRef

from .helpers import make_event, ndjson


def s3_record(bucket: str, key: str, name: str = "ObjectCreated:Put") -> dict:
    return {
        "eventSource": "aws:s3",
        "eventName": name,
        "s3": {
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 10, "eTag": "abc", "versionId": "v1"},
        },
    }


def test_url_encoded_keys_and_multiple_records():
    event = {
        "Records": [
            s3_record("raw", "raw/2024/12/25/10/file+with+spaces%2Band%3Dsigns.json"),
            s3_record("raw", "raw/2024/12/25/11/caf%C3%A9.json"),
            s3_record("raw", "raw/x", name="ObjectRemoved:Delete"),
        ]
    }
    sources = list(s3_sources(event))
    assert [s.key for s in sources] == [
        "raw/2024/12/25/10/file with spaces+and=signs.json",
        "raw/2024/12/25/11/café.json",
    ]
    assert sources[0] == SourceRef("raw", sources[0].key, "abc", "v1")


def test_test_event_and_empty_event_have_no_work():
    assert list(s3_sources({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    assert list(s3_sources({"Records": []})) == []


def test_eventbridge_object_created():
    event = {
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "raw"}, "object": {"key": "raw/a b.json", "etag": "e"}},
    }
    assert list(s3_sources(event)) == [SourceRef("raw", "raw/a b.json", "e", None)]


def test_settings_from_env():
    s = HandlerSettings.from_env({"TRANSFORMED_BUCKET": "out", "EVENTS_PREFIX": "ev"})
    assert s.transformed_bucket == "out"
    assert s.config.events_prefix == "ev/"
    assert s.config.quarantine_prefix == QUARANTINE_PREFIX
    assert s.config.manifests_prefix == MANIFESTS_PREFIX
    assert (
        HandlerSettings.from_env({"TRANSFORMED_BUCKET": "o"}).config.events_prefix == EVENTS_PREFIX
    )
    with pytest.raises(RuntimeError, match="TRANSFORMED_BUCKET"):
        HandlerSettings.from_env({})


def test_emf_log_line_carries_reconciled_counts(run):
    r = run(ndjson([make_event(1), make_event(1), make_event(2, event_type="x")]) + b"oops\n")
    doc = json.loads(json.dumps(emf_record(r.stats, "fn", now_ms=123)))
    assert doc["records_in"] == 4
    assert doc["records_written"] == 1
    assert doc["records_quarantined"] == 3
    assert doc["duplicates"] == 1
    assert doc["quarantined_by_reason"] == {
        "duplicate_event_id": 1,
        "malformed_json": 1,
        "unknown_event_type": 1,
    }
    assert doc["reconciled"] is True
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert doc["_aws"]["Timestamp"] == 123
    assert directive["Dimensions"] == [["FunctionName"]]
    for metric in directive["Metrics"]:
        assert isinstance(doc[metric["Name"]], int | float)  # EMF: every metric has a value
    assert doc["RecordsIn"] == 4 and doc["FunctionName"] == "fn"
