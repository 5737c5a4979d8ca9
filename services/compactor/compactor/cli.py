"""clickstream-compact: run the deployed compactor now (make compact [DAY=YYYY-MM-DD]).

Invokes the function named by the Terraform output ``compactor_name`` synchronously, as the
schedule would (no ``--day``: yesterday plus the sweep of the last days; ``--day``: that day),
and prints one line per day. Exit status 1 when the function failed; expected failures (bad
arguments, no outputs, stack down) are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any, NoReturn


def _line(day: dict[str, Any]) -> str:
    text = f"{day['day']}: {day['action']}"
    if day.get("reason"):
        text += f" ({day['reason']})"
    if day["action"] == "compacted":
        text += (
            f": {day['files_in']} files -> {day['files_out']}, rows {day['rows_in']:,} -> "
            f"{day['rows_out']:,}, duplicates removed {day['duplicate_rows']:,} "
            f"(conflicting content: {day['conflicts']}), window {day['window_s']:.3f} s"
        )
    if day.get("removed_dead_outputs"):
        text += (
            f"; removed {day['removed_dead_outputs']} files of a run that died before its commit"
        )
    if day.get("repaired_deletes"):
        text += f"; finished {day['repaired_deletes']} deletes of an interrupted run"
    return text


def _uncompacted_days(s3: Any, bucket: str, events_prefix: str) -> list[str]:
    """Days under ``events/`` that hold a file the compactor has not folded yet (one LIST)."""
    from clickstream_common import compaction
    from clickstream_common.inventory import iter_objects

    days = {
        day.isoformat()
        for obj in iter_objects(s3, bucket, events_prefix)
        if compaction.delta_source(obj["Key"]) is not None
        and (day := compaction.day_of_prefix_key(obj["Key"], events_prefix)) is not None
    }
    return sorted(days)


def _hint_outside_sweep(answered: set[str]) -> str | None:
    """After a sweep: name the days it did not look at that still hold uncompacted files.

    The sweep covers yesterday and the last ``compaction_sweep_days`` days by the clock, so a
    backfill, a replay of old raw objects or the demo's fixed 2024 dates are never swept; saying
    so beats a silent "nothing to do".
    """
    import boto3

    from clickstream_common import schema
    from clickstream_common.outputs import load_outputs

    outputs = load_outputs()
    bucket = str(outputs["transformed_bucket"])
    prefix = str(outputs.get("events_prefix") or schema.EVENTS_PREFIX)
    outside = [
        d for d in _uncompacted_days(boto3.client("s3"), bucket, prefix) if d not in answered
    ]
    if not outside:
        return None
    shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
    return (
        f"outside the sweep, {len(outside)} day(s) hold files not compacted yet: {shown} "
        f"(compact one with `make compact DAY={outside[0]}`)"
    )


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {value!r}") from None


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr, exit 2 (no usage block)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    p = _OneLineParser(prog="clickstream-compact", description=__doc__.split("\n\n")[0])
    p.add_argument("--day", type=_day, help="compact this UTC day (YYYY-MM-DD)")
    p.add_argument("--function", help="function name (default: Terraform output compactor_name)")
    p.add_argument("--json", action="store_true", help="print the function's answer as JSON")
    args = p.parse_args(argv)

    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from clickstream_common import target
    from clickstream_common.outputs import OutputsNotFoundError, output
    from clickstream_common.target import TargetError

    try:
        name = args.function or output("compactor_name")
        # The stack of the outputs, unless AWS_ENDPOINT_URL says otherwise; one line when down.
        target.configure("clickstream-compact", names_from_outputs=not args.function)
        client = boto3.client(
            "lambda", config=Config(read_timeout=960, retries={"max_attempts": 0})
        )
        payload = {"day": args.day.isoformat()} if args.day else {"mode": "sweep"}
        response = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
        body = json.loads(response["Payload"].read() or b"null")
    except (BotoCoreError, ClientError, OutputsNotFoundError, TargetError) as exc:
        print(f"clickstream-compact: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    if response.get("FunctionError"):
        message = body.get("errorMessage") if isinstance(body, dict) else body
        print(f"clickstream-compact: {name} failed: {message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(body, indent=1))
    else:
        days = body.get("days", [])
        for day in days:
            print(_line(day))
        if not args.day and not args.function:
            try:
                hint = _hint_outside_sweep({str(d["day"]) for d in days})
            except (BotoCoreError, ClientError, OutputsNotFoundError, KeyError) as exc:
                hint = f"could not list the days outside the sweep: {' '.join(str(exc).split())}"
            if hint:
                print(hint)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
