"""Real ``sequencer`` values in LocalStack's S3 event notifications.

AWS puts a per-key ordering token in every PUT/DELETE event (``s3.object.sequencer``, a hex
string that grows with each write of the key; compare after left-padding with zeros).
LocalStack 4.14 writes the documentation's example, ``0055AED6DCD90281E5``, into every event, so
a consumer cannot tell an old event from a new one, and the transformer's ordered publishing
(services/transformer/transformer/ordering.py) could not be tested locally.

The fix: when LocalStack builds the notification context of a write (``S3EventNotificationContext
.from_request_context``, called once per write after the object is stored), it stamps a
process-wide, strictly increasing token (nanoseconds since the epoch, 18 upper-case hex digits
like AWS's); the S3-record payload (Lambda, SQS, SNS destinations) then carries that token
instead of the constant. EventBridge payloads keep LocalStack's constant (this project does not
route S3 events through EventBridge). Tokens
grow across keys too, which AWS does not promise but does not contradict.

Private LocalStack code is patched: the version is pinned (localstack-core 4.14.0) and
tests/stack/test_s3_sequencer_patch.py fails if the patched names move.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

_PATCHED_FLAG = "_clickstream_local_sequencer"
#: The constant LocalStack 4.14 writes into every event's ``sequencer``.
LOCALSTACK_CONSTANT = "0055AED6DCD90281E5"
_ATTR = "clickstream_sequencer"


class SequencerClock:
    """Strictly increasing tokens from wall-clock nanoseconds (monotonic even if the clock
    steps back), formatted as AWS formats them: upper-case hex, zero-padded to 18 digits."""

    def __init__(self, now_ns: Any = time.time_ns) -> None:
        self._now_ns = now_ns
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, int(self._now_ns()))
            return f"{self._last:018X}"


def stamp_payload(payload: Any, token: str | None) -> Any:
    """Replace the constant sequencer in one S3 notification (``{"Records": [...]}``, as sent to
    Lambda, SQS and SNS) by ``token``; records without one (ACL, tagging events) pass unchanged."""
    if not token or not isinstance(payload, dict):
        return payload
    for record in payload.get("Records") or []:
        obj = (record.get("s3") or {}).get("object") if isinstance(record, dict) else None
        if isinstance(obj, dict) and "sequencer" in obj:
            obj["sequencer"] = token
    return payload


def install(clock: SequencerClock | None = None) -> bool:
    """Patch LocalStack's S3 notifications; returns whether it patched (False if already)."""
    from localstack.services.s3 import notifications as n

    if getattr(n.S3EventNotificationContext, _PATCHED_FLAG, False):
        return False
    clock = clock or SequencerClock()
    original_ctx = n.S3EventNotificationContext.__dict__["from_request_context"].__func__

    def from_request_context(cls: Any, *args: Any, **kwargs: Any) -> Any:
        ctx = original_ctx(cls, *args, **kwargs)
        object.__setattr__(ctx, _ATTR, clock.next())
        return ctx

    n.S3EventNotificationContext.from_request_context = classmethod(from_request_context)

    original = n.BaseNotifier.__dict__["_get_event_payload"].__func__

    def _get_event_payload(ctx: Any, *args: Any) -> Any:
        return stamp_payload(original(ctx, *args), getattr(ctx, _ATTR, None))

    n.BaseNotifier._get_event_payload = staticmethod(_get_event_payload)
    setattr(n.S3EventNotificationContext, _PATCHED_FLAG, True)
    return True


@hooks.on_infra_start()
def _real_s3_sequencers() -> None:
    if install():
        LOG.debug("S3 event notifications carry increasing sequencers")
