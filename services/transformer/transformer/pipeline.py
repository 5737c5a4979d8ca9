"""The transformer's core: one raw object in, Parquet per event day + quarantine out.

Used unchanged by the Lambda handler, the replay CLI, local processing, tests and benchmarks;
only the :class:`~transformer.sink.Sink` differs.

Flow: the caller's stream is decompressed and cut into blocks on this thread; blocks are
parsed, validated and split by event day on worker threads (Arrow releases the GIL); results
are consumed *in order* on this thread, which hands rows to the Parquet writer, whose row
groups are encoded on the same worker pool (two busy threads on two cores, not three). At
most ``workers + 1`` blocks are in flight, so memory is bounded by the block size, not the
object size.

Publishing order (retry-safe, ordered): all outputs are written to spool files; only when the
whole object succeeded does the invocation claim the source's manifest with a conditional write
(:mod:`transformer.ordering`: a version older than the published or publishing one is
superseded and publishes nothing; an older publish in progress is waited for). Then the outputs
are committed, keys listed by the previous manifest (or a dead claim) but not produced now are
deleted (e.g. a fixed timestamp bug moved rows to another day), and only then the final manifest
replaces the claim, so a crash in between leaves the claim, which the retry takes over.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa

from clickstream_common.schema import REASON_BAD_COMPRESSION, REASON_DUPLICATE_EVENT_ID
from transformer import ordering
from transformer.block import BlockResult, process_block
from transformer.compacted import CompactedDays
from transformer.config import TransformConfig
from transformer.decode import CorruptCompressionError, Readable, decoded_chunks
from transformer.dedup import DuplicateFilter
from transformer.frame import iter_blocks
from transformer.keys import manifest_key, quarantine_key, source_digest
from transformer.model import QuarantineRecord, ReconciliationError, SourceRef, Stats
from transformer.partition import split_by_day
from transformer.sink import Pending, PreconditionFailed, Sink
from transformer.writer import PartitionedParquetWriter, QuarantineWriter


class _Consumer:
    """In-order consumer of block results: shifts positions, dedups, hands rows to the writer.

    Dedup needs the order of the whole object, so it runs here, on a set of the ids' 64-bit
    fingerprints that the workers computed (see :mod:`transformer.dedup`).
    """

    def __init__(
        self,
        stats: Stats,
        parquet: PartitionedParquetWriter,
        quarantine: QuarantineWriter,
        recycle: Callable[[object], None],
    ):
        self.stats = stats
        self.parquet = parquet
        self.quarantine = quarantine
        self.recycle = recycle
        self.dedup = DuplicateFilter()
        self.lines_before = 0
        self.bytes_decoded = 0

    def _shifted(self, res: BlockResult, q: QuarantineRecord) -> QuarantineRecord:
        return QuarantineRecord(
            line=self.lines_before + q.line + 1,
            offset=res.block.offset + q.offset,
            reason=q.reason,
            raw=q.raw,
            error=q.error,
            raw_bytes=q.raw_bytes,
            event_id=q.event_id,
        )

    def consume(self, res: BlockResult) -> None:
        self.stats.records_in += res.records
        for q in res.quarantine:
            self.record(self._shifted(res, q))
        table = res.table
        if table.num_rows:
            dups = self.dedup.duplicates(table["event_id"], res.id_fingerprints)
            parts = res.parts
            if dups:
                ids = table["event_id"]
                for row in dups:
                    entry = self._duplicate(res, table, row, ids[row].as_py())
                    self.record(self._shifted(res, entry))
                keep = [True] * table.num_rows
                for row in dups:
                    keep[row] = False
                table = table.filter(pa.array(keep))
                parts = split_by_day(table)
            for day, part in parts:
                self.parquet.write(day, part)
            self.stats.records_written += table.num_rows
        self.lines_before += res.newlines
        self.bytes_decoded += len(res.data)
        self.recycle(res.block.data)  # this block is done: its read buffer can be reused

    @staticmethod
    def _duplicate(res: BlockResult, table: pa.Table, row: int, event_id: str) -> QuarantineRecord:
        error = "event_id already seen earlier in this object"
        span = res.span_of_valid_row(row)
        if span is None:  # cannot locate the text: keep the parsed values instead
            values = table.slice(row, 1).to_pylist()[0]
            raw = json.dumps(values, default=str, ensure_ascii=False)
            error += "; raw is re-serialized from the parsed row"
            return QuarantineRecord(0, 0, REASON_DUPLICATE_EVENT_ID, raw, error, None, event_id)
        return QuarantineRecord(
            line=span.line,
            offset=span.start,
            reason=REASON_DUPLICATE_EVENT_ID,
            raw=res.text(span),
            error=error,
            event_id=event_id,
        )

    def record(self, entry: QuarantineRecord) -> None:
        self.quarantine.write(entry)
        self.stats.quarantined_by_reason[entry.reason] += 1


def process_object(
    data: bytes | bytearray | Readable,
    source: SourceRef,
    sink: Sink,
    config: TransformConfig | None = None,
) -> Stats:
    """Transform one raw object. Content problems never raise (they are quarantined);
    errors reading ``data`` or writing to ``sink`` propagate unchanged. When a newer version of
    the key is (being) published, nothing is published and ``stats.superseded`` says why."""
    config = config or TransformConfig()
    started = time.perf_counter()
    run = _transform(data, source, sink, config)
    stats, parquet, quarantine, pendings = run.stats, run.parquet, run.quarantine, run.pendings

    if not stats.reconciled:
        for pending in pendings:
            pending.abort()
        raise ReconciliationError(f"counts do not reconcile: {stats.to_dict()}")

    new_keys = parquet.keys + ([quarantine.key] if quarantine.count else [])
    m_key = manifest_key(config.manifests_prefix, source)
    try:
        claimed = _claim(sink, m_key, source, new_keys, config)
    except BaseException:
        for pending in pendings:
            pending.abort()
        raise
    if isinstance(claimed, str):
        for pending in pendings:
            pending.abort()
        stats.superseded = claimed
        stats.duration_s = time.perf_counter() - started
        return stats
    current, claim_etag = claimed
    # Published before: some of its days may be compacted already (transformer.compacted).
    compacted = CompactedDays(sink, config, source) if current is not None else None
    for pending in pendings:
        key = parquet.key_of(pending) if compacted is not None else None
        if (
            compacted is not None
            and key is not None
            and compacted.already_compacted(key, pending.path)
        ):
            pending.abort()
            stats.compacted_keys.append(key)
            continue
        pending.commit()
    if compacted is not None:
        stats.recompact_keys.extend(compacted.replacing)
    digest = source_digest(source)
    for key in sorted(ordering.keys_to_replace(current) - set(new_keys)):
        if digest in key:  # only ever delete what this source produced
            if compacted is not None and key.endswith(".parquet") and compacted.retire(key):
                stats.emptied_keys.append(key)
                stats.recompact_keys.append(key)
                continue
            sink.delete(key)
            stats.deleted_keys.append(key)
    stats.output_keys = new_keys
    stats.duration_s = time.perf_counter() - started
    doc = _manifest(stats, ordering.published_sequencer(current, source))
    try:
        sink.put_if(m_key, doc, "application/json", claim_etag)
    except PreconditionFailed:
        if not _same_event_took_over(sink.read(m_key), source):
            # Another version took over mid-publish (our lease ran out): its outputs and ours
            # may be mixed, so fail (the retry re-decides) rather than claim success.
            raise RuntimeError(
                f"lost the publish claim on {sink.describe(m_key)} (lease of "
                f"{config.publish_lease_s:.0f}s exceeded?)"
            ) from None
    return stats


def _same_event_took_over(raw: bytes | None, source: SourceRef) -> bool:
    """A duplicate delivery of the same event (S3 events are at-least-once) took the claim
    over: it publishes the very same outputs, so this publish is done as well."""
    current = ordering.parse_manifest(raw)
    if current is None or source.sequencer is None:
        return False
    mine = (source.sequencer.upper(), ordering.normalize_etag(source.etag))
    states = [(current.sequencer, current.etag)]
    if current.claim is not None:
        states.append((current.claim.sequencer, current.claim.etag))
    return any(seq is not None and (seq.upper(), etag) == mine for seq, etag in states)


def _claim(
    sink: Sink, m_key: str, source: SourceRef, new_keys: list[str], config: TransformConfig
) -> tuple[ordering.Manifest | None, str] | str:
    """Claim the right to publish in the manifest (a conditional write); returns the manifest
    as it was and the claim's ETag, or why this version is superseded. Waits (polling) while an
    older invocation publishes, at most ``config.publish_wait_s``, then raises: the Lambda
    retries later."""
    deadline = time.monotonic() + config.publish_wait_s
    delay = 0.05
    while True:
        raw, etag = sink.read_tagged(m_key)
        current = ordering.parse_manifest(raw)
        decision = ordering.decide(current, source, time.time())
        if decision.verdict is ordering.Verdict.SUPERSEDED:
            return decision.reason
        if decision.verdict is ordering.Verdict.PUBLISH:
            doc = ordering.claim_document(
                current, source, new_keys, time.time() + config.publish_lease_s
            )
            try:
                return current, sink.put_if(m_key, doc, "application/json", etag)
            except PreconditionFailed:
                continue  # someone else wrote the manifest meanwhile: decide again
        if time.monotonic() > deadline:
            raise PublishBusyError(f"{sink.describe(m_key)}: {decision.reason}")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


@dataclass(slots=True)
class _Run:
    """What :func:`_transform` produced: counts, and the written (not yet published) outputs."""

    stats: Stats
    parquet: PartitionedParquetWriter
    quarantine: QuarantineWriter
    pendings: list[Pending]


def _transform(
    data: bytes | bytearray | Readable,
    source: SourceRef,
    sink: Sink,
    config: TransformConfig,
) -> _Run:
    """Read, parse, validate, dedup and write; outputs are written but not yet published."""
    stats = Stats(source)
    pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="block")
    parquet = PartitionedParquetWriter(sink, source, config, pool)
    quarantine = QuarantineWriter(sink, quarantine_key(config.quarantine_prefix, source), source)
    try:
        compressed, chunks, reader = decoded_chunks(data, config.block_size)
        consumer = _Consumer(stats, parquet, quarantine, reader.recycle)
        stats.compressed = compressed
        corrupt: list[CorruptCompressionError] = []
        in_flight: deque[Future[BlockResult]] = deque()
        for block in iter_blocks(_until_corrupt(chunks, corrupt), config.block_size):
            in_flight.append(pool.submit(process_block, block, config))
            if len(in_flight) > config.workers:
                consumer.consume(in_flight.popleft().result())
        while in_flight:
            consumer.consume(in_flight.popleft().result())
        if corrupt:
            # The undecodable rest of the object counts as one record: its contents are
            # unknown, and the raw object (still in the raw bucket) is the evidence.
            stats.records_in += 1
            consumer.record(
                QuarantineRecord(
                    line=consumer.lines_before + 1,
                    offset=consumer.bytes_decoded,
                    reason=REASON_BAD_COMPRESSION,
                    raw="",
                    error=f"{corrupt[0]} (at compressed byte ~{corrupt[0].compressed_offset})",
                )
            )
        stats.bytes_in = reader.bytes_read
        stats.bytes_decoded = consumer.bytes_decoded
        pendings = parquet.close()
        q_pending = quarantine.close()
    except BaseException:
        parquet.abort()
        quarantine.abort()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return _Run(stats, parquet, quarantine, [*pendings, *([q_pending] if q_pending else [])])


def _until_corrupt(
    chunks: Iterator[bytes | bytearray], errors: list[CorruptCompressionError]
) -> Iterator[bytes | bytearray]:
    """End the stream at a compression error (recorded in ``errors``) so the blocks before it
    are still processed; the damage itself becomes one quarantine entry."""
    try:
        yield from chunks
    except CorruptCompressionError as exc:
        errors.append(exc)


class PublishBusyError(RuntimeError):
    """An older version of the key is still being published: retry later."""


def _manifest(stats: Stats, sequencer: str | None) -> bytes:
    """Deterministic (no timestamps) so reprocessing identical input yields identical objects."""
    doc = {
        "version": ordering.MANIFEST_VERSION,
        "source_bucket": stats.source.bucket,
        "source_key": stats.source.key,
        "etag": ordering.normalize_etag(stats.source.etag),
        "version_id": stats.source.version_id,
        "sequencer": sequencer,
        "keys": stats.output_keys,
        "records_in": stats.records_in,
        "records_written": stats.records_written,
        "quarantined_by_reason": dict(sorted(stats.quarantined_by_reason.items())),
    }
    return json.dumps(doc, indent=1).encode()
