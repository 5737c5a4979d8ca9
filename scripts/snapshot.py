"""Local data survives `make down`: the local buckets' objects saved under .local/ and put back
by the next `make up`.

Why: LocalStack community 4.14 has no persistence (PERSISTENCE is a Pro feature), so stopping the
stack for the night would lose every object. AWS needs none of this: the script only ever talks
to the local endpoint and is called by `make down` / `make up` alone.

  save      (make down, before the stop) 1. ask our Firehose extension to deliver everything
            still buffered (POST /_clickstream/firehose/flush; 404 = no such extension, nothing
            buffered), 2. wait until the pipeline is idle (every raw object's current version
            has its manifest, nothing changed for a few seconds), 3. copy the current version of
            every object of the raw and transformed buckets to .local/snapshot/ (written
            beside it and renamed, so a failed save keeps the previous snapshot). Nothing to
            save (stack not running, not deployed) keeps the existing snapshot as it is.
  restore   (make up, after the deploy) put the objects back without re-processing doubling
            anything: the transformed bucket first (Parquet, quarantine, manifests); then the
            raw objects whose outputs were saved, with the raw bucket's notifications switched
            off meanwhile (the configuration is read, emptied, and put back unchanged); then
            the raw objects that had not been processed yet, with notifications on, so the
            Lambda processes exactly those. The snapshot is removed once restored.
  discard   (make destroy / make clean-data) remove the snapshot.

Only current object versions are kept (not the version history of the versioned buckets).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from clickstream_common import localstack, target
from clickstream_common.inventory import bare_etag, inventory_from_outputs, iter_objects
from clickstream_common.outputs import OutputsNotFoundError, load_outputs

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / ".local" / "snapshot"
#: Buckets whose objects are data (the others: Lambda artifacts and Athena results, rebuilt).
ROLES = ("raw_bucket", "transformed_bucket")
FLUSH_PATH = "/_clickstream/firehose/flush"


def log(message: str) -> None:
    print(f"snapshot: {message}", flush=True)


# ---------------------------------------------------------------------------- save
def flush_firehose(endpoint: str, timeout: float = 300) -> str:
    """Deliver every buffered Firehose record now; returns what the extension said."""
    request = urllib.request.Request(f"{endpoint}{FLUSH_PATH}", data=b"{}", method="POST")
    request.add_header("Content-Type", "application/json")
    absent = "no Firehose flush endpoint (nothing buffered)"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode(errors="replace").strip()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return absent
        raise
    try:  # without the extension another LocalStack handler may answer (empty, or XML)
        return json.dumps(json.loads(body))
    except ValueError:
        return absent


def wait_idle(
    s3: Any, outputs: dict[str, Any], quiet: float = 3.0, stuck: float = 20.0, timeout: float = 300
) -> bool:
    """Until every raw object is processed and nothing changed for ``quiet`` seconds; a raw
    object that fails for good never will be, so after ``stuck`` seconds without any change
    the pipeline counts as idle too. False on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        inv = inventory_from_outputs(s3, outputs)
        progress = (inv.raw_objects, inv.processed_objects, inv.records_in, inv.records_out)
        if progress != last:
            last, stable_since = progress, time.monotonic()
        stable = time.monotonic() - stable_since
        if (stable >= quiet and not inv.unprocessed_keys) or stable >= stuck:
            if inv.unprocessed_keys:
                log(
                    f"{len(inv.unprocessed_keys)} raw objects not processed (failed?): saved as they are"
                )
            return True
        time.sleep(0.5)
    return False


def _file_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def save(s3: Any, outputs: dict[str, Any], endpoint: str) -> int:
    log(f"firehose flush: {flush_firehose(endpoint)}")
    if not wait_idle(s3, outputs):
        log(
            "the pipeline did not become idle in 300 s: saving anyway (unprocessed raw objects are processed after the restore)"
        )
    tmp = SNAPSHOT.with_name("snapshot.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    index: dict[str, list[dict[str, Any]]] = {}
    total = 0
    for role in ROLES:
        bucket = str(outputs[role])
        entries = index[role] = []
        folder = tmp / role
        folder.mkdir(parents=True)
        for obj in iter_objects(s3, bucket, ""):
            response = s3.get_object(Bucket=bucket, Key=obj["Key"])
            name = _file_name(obj["Key"])
            with (folder / name).open("wb") as f:
                shutil.copyfileobj(response["Body"], f, 1 << 20)
            entries.append(
                {
                    "key": obj["Key"],
                    "file": name,
                    "etag": bare_etag(response.get("ETag")),
                    "content_type": response.get("ContentType") or "binary/octet-stream",
                    "size": obj["Size"],
                }
            )
            total += obj["Size"]
    (tmp / "index.json").write_text(json.dumps(index, indent=1))
    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    tmp.rename(SNAPSHOT)
    counts = ", ".join(f"{role.removesuffix('_bucket')} {len(v)}" for role, v in index.items())
    where = SNAPSHOT.relative_to(ROOT) if SNAPSHOT.is_relative_to(ROOT) else SNAPSHOT
    log(f"saved {counts} objects ({total:,} bytes) to {where}")
    return 0


# ---------------------------------------------------------------------------- restore
def _put(s3: Any, bucket: str, role: str, entry: dict[str, Any]) -> str | None:
    with (SNAPSHOT / role / entry["file"]).open("rb") as body:
        response = s3.put_object(
            Bucket=bucket, Key=entry["key"], Body=body, ContentType=entry["content_type"]
        )
    return bare_etag(response.get("ETag"))


def processed_raw_keys(index: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Raw keys whose saved outputs describe the saved version (the manifest names its ETag)."""
    raw_etags = {e["key"]: e["etag"] for e in index.get("raw_bucket", [])}
    done = set()
    for entry in index.get("transformed_bucket", []):
        if not entry["key"].startswith("manifests/"):
            continue
        doc = json.loads((SNAPSHOT / "transformed_bucket" / entry["file"]).read_bytes())
        key = doc.get("source_key")
        if key in raw_etags and bare_etag(doc.get("etag")) == raw_etags[key]:
            done.add(key)
    return done


def restore(s3: Any, outputs: dict[str, Any]) -> int:
    index = json.loads((SNAPSHOT / "index.json").read_text())
    raw, transformed = str(outputs["raw_bucket"]), str(outputs["transformed_bucket"])
    for entry in index.get("transformed_bucket", []):
        _put(s3, transformed, "transformed_bucket", entry)
    done = processed_raw_keys(index)
    raw_entries = index.get("raw_bucket", [])
    notifications = s3.get_bucket_notification_configuration(Bucket=raw)
    notifications.pop("ResponseMetadata", None)
    changed: dict[str, tuple[str | None, str | None]] = {}
    s3.put_bucket_notification_configuration(Bucket=raw, NotificationConfiguration={})
    try:
        for entry in raw_entries:
            if entry["key"] in done:
                etag = _put(s3, raw, "raw_bucket", entry)
                if etag != entry["etag"]:  # a multipart upload's ETag: same bytes, new ETag
                    changed[entry["key"]] = (entry["etag"], etag)
    finally:
        s3.put_bucket_notification_configuration(
            Bucket=raw, NotificationConfiguration=notifications, SkipDestinationValidation=True
        )
    _carry_etags(s3, transformed, index, changed)
    pending = [e for e in raw_entries if e["key"] not in done]
    for entry in pending:  # not processed before the stop: the Lambda processes them now
        _put(s3, raw, "raw_bucket", entry)
    shutil.rmtree(SNAPSHOT)
    log(
        f"restored {len(index.get('transformed_bucket', []))} transformed and "
        f"{len(raw_entries)} raw objects ({len(pending)} of them sent to the transformer)"
    )
    return 0


def _carry_etags(
    s3: Any,
    bucket: str,
    index: dict[str, list[dict[str, Any]]],
    changed: dict[str, tuple[str | None, str | None]],
) -> None:
    """A raw object first written in parts gets another ETag when put back in one piece; its
    manifest then names the new ETag (the bytes are the saved ones, so the outputs still
    describe it) instead of showing as stale."""
    if not changed:
        return
    for entry in index.get("transformed_bucket", []):
        if not entry["key"].startswith("manifests/"):
            continue
        doc = json.loads((SNAPSHOT / "transformed_bucket" / entry["file"]).read_bytes())
        old_new = changed.get(doc.get("source_key"))
        if old_new and bare_etag(doc.get("etag")) == old_new[0]:
            doc["etag"] = old_new[1]
            body = json.dumps(doc, indent=1).encode()
            s3.put_object(
                Bucket=bucket, Key=entry["key"], Body=body, ContentType="application/json"
            )


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["save", "restore", "discard"])
    args = ap.parse_args(argv)
    if args.command == "discard":
        shutil.rmtree(SNAPSHOT, ignore_errors=True)
        shutil.rmtree(SNAPSHOT.with_name("snapshot.tmp"), ignore_errors=True)
        log("local data snapshot discarded")
        return 0
    if args.command == "restore" and not (SNAPSHOT / "index.json").is_file():
        return 0
    try:
        stack = target.load()
    except target.TargetError as exc:
        print(f"snapshot: error: {exc}", file=sys.stderr)
        return 1
    if stack.another_stack:  # another checkout's stack: its data is not this checkout's
        print(f"snapshot: error: {stack.conflict}", file=sys.stderr)
        return 1
    endpoint = stack.endpoint or localstack.endpoint()
    if not localstack.healthy(endpoint):
        if args.command == "save":
            log(f"LocalStack is not running at {endpoint}: nothing to save (snapshot kept)")
            return 0
        print(f"snapshot: error: LocalStack does not answer at {endpoint}", file=sys.stderr)
        return 1
    try:
        outputs = load_outputs()
    except OutputsNotFoundError:
        if args.command == "save":
            log("no Terraform outputs (nothing deployed): nothing to save (snapshot kept)")
            return 0
        raise
    s3 = localstack.client("s3", endpoint)
    try:
        if args.command == "save":
            return save(s3, outputs, endpoint)
        return restore(s3, outputs)
    except (BotoCoreError, ClientError, OSError, ValueError) as exc:
        print(f"snapshot: error: {args.command} failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
