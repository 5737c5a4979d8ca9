"""Fix for a LocalStack (moto) bug that makes function logs vanish when they are read back.

moto's ``BaseResponse._enrich_response`` runs ``re.sub(r"(?<=<RequestId>).*(?=</RequestId>)")``
over every response body to stamp a fresh request id into XML responses. It runs over JSON
responses too: a CloudWatch Logs ``GetLogEvents`` / ``FilterLogEvents`` answer is one line of
JSON, so the greedy ``.*`` spans from the first ``<RequestId>`` in one log event to the last
``</RequestId>`` in another and replaces every event in between (and the text around them) with a
request id. Lambda logs hit this as soon as a function logs an S3 error body (botocore at DEBUG
level logs ``Response body: ...<RequestId>...</RequestId>...`` for each failed S3 call): all but
the first and the last invocation of a log stream seem lost, although they are stored
(``storedBytes`` counts them). AWS returns them all.

The fix keeps moto's behaviour for XML bodies (the only ones that carry ``<RequestId>`` elements)
and leaves every other body untouched. It is a LocalStack ``on_infra_start`` hook, so it applies
to the whole stack (Lambda, Firehose or any other log group), not only to Lambda invocations.
"""

from __future__ import annotations

import logging
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

_PATCHED_FLAG = "_clickstream_local_json_safe"


def is_xml_body(body: Any) -> bool:
    """True for an XML document (what moto's request-id stamping is meant for)."""
    if isinstance(body, bytes | bytearray):
        return body.lstrip()[:1] == b"<"
    if isinstance(body, str):
        return body.lstrip()[:1] == "<"
    return False


def keep_non_xml_response_bodies() -> bool:
    """Patch moto so request-id stamping only touches XML bodies; returns whether it patched."""
    from moto.core.responses import BaseResponse

    original = BaseResponse.__dict__["_enrich_response"].__func__
    if getattr(original, _PATCHED_FLAG, False):
        return False

    def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        if is_xml_body(body):
            return original(headers, body)
        headers, _ = original(headers, "")  # keep the header side (status, request-id header)
        return headers, body

    setattr(_enrich_response, _PATCHED_FLAG, True)
    BaseResponse._enrich_response = staticmethod(_enrich_response)
    return True


@hooks.on_infra_start()
def _keep_json_log_events_intact() -> None:
    if keep_non_xml_response_bodies():
        LOG.debug("moto request-id stamping restricted to XML bodies (keeps JSON log events)")
