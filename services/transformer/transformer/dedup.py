"""Duplicate ``event_id`` detection within one raw object.

Firehose delivers at least once and SDKs retry, so the same event can appear twice in an
object. The first valid occurrence is kept; later ones go to the quarantine with reason
``duplicate_event_id`` (not silently dropped), so ``records_in == written + quarantined``
holds exactly and the duplicate's text stays inspectable. Duplicates *across* objects are not
detected here (that needs state outside one invocation); queries can ``DISTINCT`` on event_id.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


class DuplicateFilter:
    """Remembers the event_ids of one object (about 100 bytes each: ~80 MB for 800k events).

    Built for the common case of no duplicates: one ``set.update`` per batch, and a batch
    whose ids all turn out new costs nothing more. Only when the set grows by less than the
    batch size is the batch examined id by id; the ids accepted from earlier batches are kept
    as Arrow arrays (they share the tables' buffers) to tell "seen in an earlier batch" from
    "repeated inside this batch" on that rare path.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._accepted: list[pa.Array] = []

    def duplicates(self, ids: pa.Array | pa.ChunkedArray | list[str]) -> list[int]:
        """Positions in ``ids`` whose id was seen before (earlier in ``ids`` or in earlier calls)."""
        array = _as_array(ids)
        values = array.to_pylist()
        before = len(self._seen)
        self._seen.update(values)
        if len(self._seen) - before == len(values):
            self._accepted.append(array)
            return []
        earlier: set[int] = set()
        if self._accepted:
            prior = pa.concat_arrays(self._accepted)
            earlier = set(pc.indices_nonzero(pc.is_in(array, value_set=prior)).to_pylist())
        batch: set[str] = set()
        dups: list[int] = []
        for i, event_id in enumerate(values):
            if i in earlier or event_id in batch:
                dups.append(i)
            else:
                batch.add(event_id)
        if len(dups) < len(values):
            keep = [True] * len(values)
            for i in dups:
                keep[i] = False
            self._accepted = [pa.concat_arrays([*self._accepted, array.filter(pa.array(keep))])]
        return dups


def _as_array(ids: pa.Array | pa.ChunkedArray | list[str]) -> pa.Array:
    if isinstance(ids, pa.ChunkedArray):
        return ids.combine_chunks() if ids.num_chunks != 1 else ids.chunk(0)
    if isinstance(ids, pa.Array):
        return ids
    return pa.array(ids, pa.string())
