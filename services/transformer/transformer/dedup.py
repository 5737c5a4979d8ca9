"""Duplicate ``event_id`` detection within one raw object.

Firehose delivers at least once and SDKs retry, so the same event can appear twice in an
object. The first valid occurrence is kept; later ones go to the quarantine with reason
``duplicate_event_id`` (not silently dropped), so ``records_in == written + quarantined``
holds exactly and the duplicate's text stays inspectable. Duplicates *across* objects are not
detected here (that needs state outside one invocation); queries can ``DISTINCT`` on event_id.
"""

from __future__ import annotations


class DuplicateFilter:
    """Remembers the event_ids of one object (about 100 bytes each: ~80 MB for 800k events)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def duplicates(self, ids: list[str]) -> list[int]:
        """Positions in ``ids`` whose id was seen before (earlier in ``ids`` or in earlier calls)."""
        batch = set(ids)
        if len(batch) == len(ids) and self._seen.isdisjoint(batch):
            self._seen |= batch  # the common case: C-speed set operations, no Python loop
            return []
        seen = self._seen
        dups: list[int] = []
        for i, event_id in enumerate(ids):
            if event_id in seen:
                dups.append(i)
            else:
                seen.add(event_id)
        return dups
