"""One day's compaction against S3: claim, read, write, commit, delete, finish; and repair.

The steps, and what a crash after each leaves (the next run repairs it):

1. **Repair**: a committed run whose inputs are not all deleted yet (``pending_deletes``) is
   finished first: its inputs are deleted by version, then its manifest is finalized.
2. **Claim** the day with a conditional write of the manifest (a lease of ``lease_s``). A live
   claim means another run holds the day: this one reports ``busy``. An expired claim is a dead
   run's: it is taken over, and its outputs (``compacted-*`` files the committed state does not
   list) are deleted.
3. **Read** every input by version: the committed compacted files, their provenance, the
   duplicates, and the deltas listed now (files landing later wait for the next run).
4. **Write** the new compacted files (fresh names), then the provenance and duplicates objects.
5. **Commit**: the manifest names the new state and lists the inputs to delete. From here queries
   may see a row twice (old and new file) until step 6 ends: the *window*, measured and logged.
6. **Delete** exactly the input versions read. A delta the transformer rewrote or deleted since
   step 3 is noticed here (its key changed): a rewritten one keeps its new version, a deleted one
   gets an empty delta (its source no longer has rows that day), and the day is compacted once
   more right away.
7. **Finish**: the manifest without the claim and the pending deletes.

A rerun with nothing new changes nothing.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from clickstream_common import compaction as layout
from clickstream_common.compaction import DayManifest, FoldedSource, ObjectVersion
from compactor.config import CompactorConfig
from compactor.engine import SCHEMA, DayInputs, compact_files
from compactor.store import PARQUET, Conflict, Downloaded, Listed, S3Store

#: Concurrent downloads of a day's inputs (a day is ~1,440 small objects).
DOWNLOADS = 8


@dataclass(slots=True)
class DayReport:
    """What happened to one day, for the log line, the handler's answer and the bench."""

    day: str
    action: str = "nothing to do"
    reason: str = ""
    run: str = ""
    files_in: int = 0
    files_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    rows_in: int = 0
    rows_out: int = 0
    duplicate_rows: int = 0
    conflicts: int = 0
    conflict_sample: list[dict[str, str]] = field(default_factory=list)
    repaired_deletes: int = 0
    removed_dead_outputs: int = 0
    window_s: float = 0.0
    seconds: float = 0.0
    followup: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def run_id(now: float) -> str:
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def plan(
    manifest: DayManifest | None, listing: list[Listed], config: CompactorConfig, explicit: bool
) -> str | None:
    """Why the day needs a run, or None (pure)."""
    deltas = [o for o in listing if layout.delta_source(o.key) is not None]
    committed = set(manifest.file_keys) if manifest else set()
    dead = [o for o in listing if layout.is_compacted(o.key) and o.key not in committed]
    if manifest is None or not manifest.files:
        return f"first compaction of {len(deltas)} files" if deltas else None
    if dead:
        return f"{len(dead)} files of a run that died before its commit"
    again = {layout.delta_source(o.key) for o in deltas} & set(manifest.sources)
    if again:
        return f"{len(again)} folded sources published again"
    if deltas and (explicit or len(deltas) >= config.min_uncompacted_files):
        return f"{len(deltas)} uncompacted files"
    return None


def _read(
    store: S3Store, day: date, config: CompactorConfig
) -> tuple[DayManifest | None, str | None]:
    raw, etag = store.read(layout.manifest_key(day, config.compaction_prefix))
    return layout.parse_manifest(raw), etag


def _finish_deletes(
    store: S3Store, day: date, config: CompactorConfig, manifest: DayManifest, etag: str | None
) -> tuple[DayManifest, str]:
    """Delete the committed run's inputs (idempotent), then drop them from the manifest."""
    store.delete_versions([(v.key, v.version_id) for v in manifest.pending_deletes])
    done = replace(manifest, pending_deletes=(), claim=None)
    new_etag = store.put_if(
        layout.manifest_key(day, config.compaction_prefix), done.to_json(), etag
    )
    return done, new_etag


def compact_day(
    store: S3Store,
    day: date,
    config: CompactorConfig,
    spool: Path,
    *,
    explicit: bool = False,
    now: Callable[[], float] = time.time,
) -> DayReport:
    """Compact ``day`` if it needs it (``explicit``: any uncompacted file is enough)."""
    started = time.perf_counter()
    report = DayReport(day.isoformat())
    m_key = layout.manifest_key(day, config.compaction_prefix)
    manifest, etag = _read(store, day, config)

    if manifest is not None and manifest.pending_deletes:
        report.repaired_deletes = len(manifest.pending_deletes)
        manifest, etag = _finish_deletes(store, day, config, manifest, etag)
        report.action = "repaired"
        report.reason = f"deleted the {report.repaired_deletes} inputs of a committed run"

    if manifest is not None and manifest.claim and float(manifest.claim.get("expires", 0)) > now():
        expires = datetime.fromtimestamp(float(manifest.claim["expires"]), UTC)
        report.action, report.reason = (
            "busy",
            (
                f"held by run {manifest.claim.get('run')} until "
                f"{expires.isoformat(timespec='seconds')}; a run that died keeps the day until then"
            ),
        )
        return report

    listing = store.listing(layout.day_prefix(day, config.events_prefix))
    why = plan(manifest, listing, config, explicit)
    if why is None:
        report.seconds = time.perf_counter() - started
        return report

    report.run = run_id(now())
    base = manifest or DayManifest(day=day.isoformat())
    claimed = replace(base, claim={"run": report.run, "expires": round(now() + config.lease_s, 3)})
    try:
        etag = store.put_if(m_key, claimed.to_json(), etag)
    except Conflict:
        report.action, report.reason = "busy", "another run claimed the day first"
        return report
    report.action, report.reason = "compacted", why

    work = spool / f"compact-{report.run}"
    try:
        final, etag = _compact(store, day, config, base, claimed, etag, listing, work, report)
    except BaseException:
        # Failed before its commit: give the day back at once (a failed write here leaves the
        # claim to expire). After the commit the manifest has moved on and this write loses:
        # the next run finishes the deletes.
        with contextlib.suppress(Exception):
            store.put_if(m_key, replace(base, claim=None).to_json(), etag)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    final = replace(final, claim=None, pending_deletes=())
    try:
        store.put_if(m_key, final.to_json(), etag)
    except Conflict:
        # A concurrent run finished this run's deletes (step 1 repairs a committed run whatever
        # its claim: deletes are idempotent): fine if the committed state is still this run's.
        current, _ = _read(store, day, config)
        if current is None or current.file_keys != final.file_keys or current.pending_deletes:
            raise
    report.seconds = time.perf_counter() - started
    if report.followup:
        again = compact_day(store, day, config, spool, explicit=True, now=now)
        report.reason += f"; then again: {again.reason}"
    return report


def _compact(
    store: S3Store,
    day: date,
    config: CompactorConfig,
    base: DayManifest,
    claimed: DayManifest,
    etag: str,
    listing: list[Listed],
    work: Path,
    report: DayReport,
) -> tuple[DayManifest, str]:
    committed = set(base.file_keys)
    for dead in (o for o in listing if layout.is_compacted(o.key) and o.key not in committed):
        store.delete_version(dead.key, None)  # outputs of a run that died before its commit
        report.removed_dead_outputs += 1

    # 3. read every input by version
    inputs = work / "in"
    # Many small objects: fetched a few at a time (each stream is bounded; order is kept).
    deltas = [o for o in listing if layout.delta_source(o.key) is not None]
    with ThreadPoolExecutor(max_workers=DOWNLOADS, thread_name_prefix="download") as pool:
        compacted = list(
            pool.map(
                lambda ik: store.download(ik[1], inputs / f"c{ik[0]:05d}.parquet"),
                enumerate(base.file_keys),
            )
        )
        delta_files = list(
            pool.map(
                lambda io: store.download(io[1].key, inputs / f"d{io[0]:05d}.parquet"),
                enumerate(deltas),
            )
        )
    provenance = duplicates = None
    if base.provenance is not None and compacted:
        provenance = _state(store, base.provenance, inputs / "provenance.parquet", base.rows)
    if base.duplicates is not None:
        duplicates = _state(
            store, base.duplicates, inputs / "duplicates.parquet", base.duplicate_rows
        )
    delta_source = {d.key: str(layout.delta_source(d.key)) for d in delta_files}

    arrivals = {s: f.arrival for s, f in base.sources.items()}
    for o in deltas:
        arrivals.setdefault(
            str(layout.delta_source(o.key)), o.last_modified.astimezone(UTC).isoformat()
        )
    ranks = {
        s: i for i, (s, _) in enumerate(sorted(arrivals.items(), key=lambda kv: (kv[1], kv[0])))
    }
    replaced = frozenset(set(delta_source.values()) & set(base.sources))
    report.files_in = len(compacted) + len(delta_files)
    report.bytes_in = sum(d.size for d in compacted) + sum(d.size for d in delta_files)

    out = compact_files(
        DayInputs(
            compacted=[d.path for d in compacted],
            provenance=provenance.path if provenance else None,
            duplicates=duplicates.path if duplicates else None,
            deltas=[(d.path, delta_source[d.key]) for d in delta_files],
            ranks=ranks,
            replaced=replaced,
        ),
        work / "out",
        config,
    )
    report.rows_in, report.rows_out = out.rows_in, out.rows_out
    report.duplicate_rows, report.conflicts = out.duplicate_rows, out.conflicts
    report.conflict_sample = out.conflict_sample

    # 4. write the new state (invisible to the manifest until the commit)
    prefix = layout.day_prefix(day, config.events_prefix)
    files = []
    first_visible: float | None = None
    for i, part in enumerate(out.parts):
        key = f"{prefix}{layout.COMPACTED_PREFIX}{report.run}-{i:04d}.parquet"
        store.upload(part.path, key, PARQUET)
        first_visible = first_visible or time.perf_counter()
        files.append({"key": key, "rows": part.rows, "bytes": part.bytes})
    report.files_out, report.bytes_out = len(files), sum(p.bytes for p in out.parts)
    prov_version = dup_version = None
    if out.parts and out.provenance is not None:
        key = layout.provenance_key(day, config.compaction_prefix)
        prov_version = ObjectVersion(key, store.upload(out.provenance, key, PARQUET))
    if out.duplicates is not None:
        key = layout.duplicates_key(day, config.compaction_prefix)
        dup_version = ObjectVersion(key, store.upload(out.duplicates, key, PARQUET))

    md5s = {delta_source[d.key]: d.md5 for d in delta_files}
    sources = {}
    for source, (rows, kept) in out.per_source.items():
        old = base.sources.get(source)
        md5 = md5s.get(source, old.md5 if old else None)
        sources[source] = FoldedSource(arrivals[source], rows, kept, md5)
    victims = tuple(ObjectVersion(d.key, d.version_id) for d in [*compacted, *delta_files])
    new = replace(
        claimed,
        files=tuple(files),
        sources=sources,
        provenance=prov_version,
        duplicates=dup_version,
        duplicate_rows=out.duplicate_rows,
        conflicts=out.conflicts,
        pending_deletes=victims,
        last_run={
            "run": report.run,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": report.reason,
            "files_in": report.files_in,
            "rows_in": out.rows_in,
            "rows_out": out.rows_out,
            "duplicate_rows": out.duplicate_rows,
            "conflicts": out.conflicts,
            "conflict_sample": out.conflict_sample,
        },
    )
    # 5. commit
    m_key = layout.manifest_key(day, config.compaction_prefix)
    etag = store.put_if(m_key, new.to_json(), etag)
    first_visible = first_visible or time.perf_counter()

    # 6. inputs the transformer changed since they were read: keep their new state
    now_listed = {o.key: o.etag for o in store.listing(prefix)}
    for o in deltas:
        current = now_listed.get(o.key)
        if current == o.etag:
            continue
        report.followup = True
        if current is None:  # the source dropped this day: an empty delta retires its rows
            store.put_new(o.key, _empty_parquet(), PARQUET)
    store.delete_versions([(v.key, v.version_id) for v in victims])
    report.window_s = round(time.perf_counter() - first_visible, 3)
    return new, etag


def _state(store: S3Store, version: ObjectVersion, path: Path, rows: int) -> Downloaded:
    """The committed version of a state object. Where that version is gone (`make down` / `make
    up` restores current versions under new ids) the current one is used if its row count is
    the committed one; anything else is refused rather than guessed."""
    try:
        return store.download(version.key, path, version.version_id)
    except store.client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchVersion", "InvalidArgument"):
            raise
    current = store.download(version.key, path)
    found = pq.read_metadata(path).num_rows
    if found != rows:
        raise RuntimeError(
            f"{store.describe(version.key)}: version {version.version_id} is gone and the "
            f"current one has {found} rows, not the committed {rows}"
        )
    return current


def _empty_parquet() -> bytes:
    buf = io.BytesIO()
    pq.write_table(SCHEMA.empty_table(), buf)
    return buf.getvalue()


def days_to_sweep(today: date, sweep_days: int) -> list[date]:
    """Yesterday first (day D compacts at D+1), then the rest of the last ``sweep_days``."""
    return [today - timedelta(days=i) for i in range(1, sweep_days + 1)]


def sweep(
    store: S3Store,
    today: date,
    config: CompactorConfig,
    spool: Path,
    *,
    now: Callable[[], float] = time.time,
    log: Callable[[DayReport], None] = lambda r: None,
) -> list[DayReport]:
    """The scheduled run: every day of the sweep window that needs it."""
    reports, failed = [], []
    for day in days_to_sweep(today, config.sweep_days):
        try:
            report = compact_day(store, day, config, spool, now=now)
        except Exception as exc:  # the other days still run; the invocation fails at the end
            report = DayReport(
                day.isoformat(), action="failed", reason=f"{type(exc).__name__}: {exc}"
            )
            failed.append(report)
        log(report)
        reports.append(report)
    if failed:
        raise SweepError("; ".join(f"{r.day}: {r.reason}" for r in failed))
    return reports


class SweepError(RuntimeError):
    """Some days of a scheduled run failed (each is logged; the others were compacted)."""


def summary_line(report: DayReport) -> str:
    return json.dumps({"message": "compaction", **report.to_dict()}, default=str)
