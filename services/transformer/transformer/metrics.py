"""The structured log line emitted per object, in CloudWatch Embedded Metric Format.

On Lambda, CloudWatch turns the ``_aws`` block of a JSON log line into metrics without any API
call (no PutMetricData latency or permissions); locally it is just a JSON line. The full
per-reason breakdown is in the same line as properties (not metrics, since reasons like
``missing_field:<name>`` are open-ended).
"""

from __future__ import annotations

import json
import time

from transformer.model import Stats

NAMESPACE = "ClickstreamPipeline"
_METRICS = (
    ("RecordsIn", "records_in", "Count"),
    ("RecordsWritten", "records_written", "Count"),
    ("RecordsQuarantined", "records_quarantined", "Count"),
    ("DuplicateRecords", "duplicates", "Count"),
    ("BytesIn", "bytes_in", "Bytes"),
    ("DurationMs", None, "Milliseconds"),
)


def emf_record(stats: Stats, function_name: str, now_ms: int | None = None) -> dict[str, object]:
    """One JSON-serializable log record with the stats, EMF metrics and the ``reconciled`` flag."""
    doc: dict[str, object] = {"message": "object transformed", **stats.to_dict()}
    values = stats.to_dict()
    metrics = {}
    for metric, attr, _unit in _METRICS:
        metrics[metric] = round(stats.duration_s * 1000, 3) if attr is None else values[attr]
    doc.update(metrics)
    doc["FunctionName"] = function_name
    doc["_aws"] = {
        "Timestamp": now_ms if now_ms is not None else int(time.time() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": [{"Name": m, "Unit": u} for m, _, u in _METRICS],
            }
        ],
    }
    return doc


def emf_line(stats: Stats, function_name: str) -> str:
    return json.dumps(emf_record(stats, function_name), separators=(",", ":"), default=str)
