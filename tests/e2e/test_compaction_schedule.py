"""The compactor's schedule on the real local stack.

Terraform deploys an EventBridge *rule* with a ``schedule_expression`` (not an EventBridge
Scheduler schedule): measured on LocalStack 4.14 community, rules with a schedule fire their
targets, Scheduler schedules are stored but never fire. The daily cron cannot be waited for, so
the slow test fires a rule of the same kind (``rate(1 minute)``) at the deployed compactor and
finds its run in the compactor's log.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .support import client, wait_for


def test_the_deployed_rule_runs_the_compactor_daily(outputs: dict[str, Any]) -> None:
    events = client("events")
    rule = events.describe_rule(Name=outputs["compaction_rule"])
    assert rule["ScheduleExpression"] == outputs["compaction_schedule"] == "cron(30 1 * * ? *)"
    assert rule["State"] == "ENABLED"
    targets = events.list_targets_by_rule(Rule=outputs["compaction_rule"])["Targets"]
    arn = client("lambda").get_function(FunctionName=outputs["compactor_name"])["Configuration"][
        "FunctionArn"
    ]
    assert [t["Arn"] for t in targets] == [arn]


@pytest.mark.slow
def test_localstack_fires_a_scheduled_rule_at_the_compactor(
    outputs: dict[str, Any], run_id: str
) -> None:
    events, logs = client("events"), client("logs")
    arn = client("lambda").get_function(FunctionName=outputs["compactor_name"])["Configuration"][
        "FunctionArn"
    ]
    name = f"e2e-compaction-tick-{run_id}"
    day = "2001-01-01"  # nothing there: the run reports "nothing to do"
    since = int(time.time() * 1000)
    events.put_rule(Name=name, ScheduleExpression="rate(1 minute)", State="ENABLED")
    try:
        events.put_targets(
            Rule=name, Targets=[{"Id": "compactor", "Arn": arn, "Input": json.dumps({"day": day})}]
        )

        def runs() -> list[str]:
            try:
                found = logs.filter_log_events(
                    logGroupName=outputs["compactor_log_group"], startTime=since
                )["events"]
            except logs.exceptions.ResourceNotFoundException:
                return []
            return [e["message"] for e in found if f'"day":"{day}"' in e["message"]]

        lines = wait_for(runs, bool, timeout=150, interval=5, what="the rule to fire the compactor")
        assert '"action":"nothing to do"' in lines[0], lines[0]
    finally:
        events.remove_targets(Rule=name, Ids=["compactor"])
        events.delete_rule(Name=name)
