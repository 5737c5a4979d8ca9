"""The subprocess Lambda executor behind LocalStack behaves like the AWS python3.13 runtime.

Real LocalStack, real functions from a zip, real subprocesses: nothing is mocked.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def invoke(aws: Callable[[str], Any], name: str, event: dict) -> tuple[dict, Any]:
    response = aws("lambda").invoke(
        FunctionName=name, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
    )
    return response, json.loads(response["Payload"].read() or b"null")


def wait_for(check: Callable[[], Any], timeout_s: float = 30.0, interval_s: float = 0.2) -> Any:
    """Poll until ``check`` returns something truthy (a deadline, never a timed assertion)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval_s)


def test_sync_invoke_returns_payload_and_lambda_context(aws, make_function):
    name = make_function("echo", timeout=10, memory=256)
    marker = uuid.uuid4().hex

    response, body = invoke(aws, name, {"marker": marker})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert body["event"] == {"marker": marker}
    assert body["function_name"] == name
    assert body["invoked_function_arn"].endswith(f":function:{name}")
    assert len(body["request_id"]) == 36
    assert 0 < body["remaining_ms"] <= 10_000
    assert body["memory_limit_in_mb"] == "256"
    assert body["log_group_name"] == f"/aws/lambda/{name}"
    assert body["log_stream_name"].endswith(f"[$LATEST]{body['log_stream_name'][-32:]}")
    assert "python3.13" in body["executable"]


def test_boto3_comes_from_the_runtime_after_the_function_code(aws, make_function):
    name = make_function("echo")

    _, body = invoke(aws, name, {"marker": "path"})

    path = body["sys_path"]
    runtime_site = next(p for p in path if p.endswith("lambda-runtime/python3.13/site-packages"))
    assert body["boto3_file"].startswith(runtime_site)
    assert path.index(runtime_site) > 0, "function code must come before the runtime's packages"
    assert not [p for p in path if ".venv" in p], f"a host virtualenv leaked in: {path}"


def test_handler_exception_is_a_function_error(aws, make_function):
    name = make_function("fail")

    response, body = invoke(aws, name, {"marker": "x1"})

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "boom x1"
    assert any("handlers.py" in frame for frame in body["stackTrace"])


def test_timeout_kills_the_invocation_and_the_next_one_starts_fresh(aws, make_function, bucket):
    name = make_function("sleep", timeout=1)
    # an S3 object, not a file: the function may run in LocalStack's container (docker mode)
    survivor = "survived"

    response, body = invoke(aws, name, {"seconds": 2, "witness": [bucket, survivor]})

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    response, body = invoke(aws, name, {"seconds": 0})
    assert "FunctionError" not in response
    assert body == {"slept": 0}
    time.sleep(2.5)  # past the moment the killed handler would have written the object
    listed = aws("s3").list_objects_v2(Bucket=bucket).get("Contents", [])
    assert survivor not in [o["Key"] for o in listed], "the timed-out handler kept running"


def test_runtime_exit_during_invocation_is_a_runtime_exit_error(aws, make_function):
    name = make_function("crash")

    response, body = invoke(aws, name, {})

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]


def test_missing_handler_module_is_an_import_error(aws, make_function, role_arn, function_zip):
    name = make_function("echo")
    aws("lambda").update_function_configuration(FunctionName=name, Handler="nowhere.handler")
    aws("lambda").get_waiter("function_updated_v2").wait(FunctionName=name)

    response, body = invoke(aws, name, {})

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'nowhere'" in body["errorMessage"]
    aws("lambda").update_function_configuration(FunctionName=name, Handler="handlers.echo")
    aws("lambda").get_waiter("function_updated_v2").wait(FunctionName=name)


def test_function_output_reaches_cloudwatch_logs(aws, make_function):
    name = make_function("echo")
    marker = uuid.uuid4().hex
    _, body = invoke(aws, name, {"marker": marker})
    request_id = body["request_id"]
    logs = aws("logs")

    def messages() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        found = [event["message"] for event in events]
        return found if any(request_id in m and m.startswith("REPORT") for m in found) else []

    found = wait_for(messages)

    assert f"START RequestId: {request_id} Version: $LATEST\n" in found
    assert f"stdout-line {marker}\n" in found
    assert f"stderr-line {marker}\n" in found
    assert any(m.startswith("[INFO]") and f"logging-line {marker}" in m for m in found)
    assert any(m.endswith(f"multi\rline {marker}\n") for m in found), "one record, one event"
    assert f"END RequestId: {request_id}\n" in found
    report = next(m for m in found if m.startswith(f"REPORT RequestId: {request_id}"))
    assert "Duration:" in report and "Memory Size: 256 MB" in report


def test_boto3_inside_the_function_reaches_s3(aws, make_function, bucket):
    s3 = aws("s3")
    for key in ("a.txt", "b/c.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    name = make_function("list_bucket")

    response, body = invoke(aws, name, {"bucket": bucket})

    assert "FunctionError" not in response, body
    assert body == ["a.txt", "b/c.txt"]


def test_s3_object_created_notification_invokes_the_function_async(aws, make_function, bucket):
    name = make_function("on_object_created")
    lambda_client, s3 = aws("lambda"), aws("s3")
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lambda_client.add_permission(
        FunctionName=name,
        StatementId="s3-invoke",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
    )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "raw/"}]}},
                }
            ]
        },
    )

    s3.put_object(Bucket=bucket, Key="raw/2024/12/25/10/object-1.json", Body=b"{}")

    def marker() -> dict | None:
        try:
            return json.loads(
                s3.get_object(Bucket=bucket, Key="markers/object-1.json")["Body"].read()
            )
        except s3.exceptions.NoSuchKey:
            return None

    body = wait_for(marker, timeout_s=60)
    assert body is not None, "the notification did not invoke the function within 60 s"
    assert body["source_key"] == "raw/2024/12/25/10/object-1.json"
    assert body["event_name"].startswith("ObjectCreated:")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == ["markers/object-1.json", "raw/2024/12/25/10/object-1.json"]


def test_failed_async_invocation_is_retried_then_sent_to_the_on_failure_destination(
    aws, make_function, bucket, run_id
):
    """LocalStack's own async path: 1 retry (after LAMBDA_RETRY_BASE_DELAY, 60 s like AWS), then SQS."""
    name = make_function("fail")
    lambda_client, s3, sqs = aws("lambda"), aws("s3"), aws("sqs")
    queue_url = sqs.create_queue(QueueName=f"stack-{run_id}-failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    lambda_client.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    arn = lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )

    s3.put_object(Bucket=bucket, Key="raw/bad.json", Body=b"{}")

    def failure_message() -> dict | None:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5).get("Messages", [])
        return json.loads(messages[0]["Body"]) if messages else None

    record = wait_for(failure_message, timeout_s=180)
    sqs.delete_queue(QueueUrl=queue_url)
    assert record is not None, "no on-failure record within 180 s"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "raw/bad.json"


def test_every_invocation_keeps_its_log_lines_in_cloudwatch(aws, make_function):
    """Sync and async invocations of one environment: none of their lines may go missing.

    Each invocation also logs an S3 error body (``<RequestId>...</RequestId>``, as botocore does
    at DEBUG level): CloudWatch Logs must return such events, and the ones between them, intact.
    """
    name = make_function("log_markers")
    lambda_client, logs = aws("lambda"), aws("logs")
    run = uuid.uuid4().hex[:8]
    sync_modes = ["return", "raise", "logging", "return"]
    markers = [f"{run}-sync{i}-{mode}" for i, mode in enumerate(sync_modes)]
    async_markers = [f"{run}-async{i}" for i in range(2)]

    sync_request_ids = []
    for marker, mode in zip(markers, sync_modes, strict=True):
        response, body = invoke(aws, name, {"marker": marker, "mode": mode})
        assert ("FunctionError" in response) == (mode == "raise"), body
        if mode != "raise":
            sync_request_ids.append(body["request_id"])
    for marker in async_markers:
        response = lambda_client.invoke(
            FunctionName=name,
            InvocationType="Event",
            Payload=json.dumps({"marker": marker}).encode(),
        )
        assert response["StatusCode"] == 202
    invocations = len(markers) + len(async_markers)

    def messages() -> list[str]:
        try:
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=f"/aws/lambda/{name}"
            )
            return [event["message"] for page in pages for event in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            return []

    def all_reported() -> list[str]:
        found = messages()
        reports = [m for m in found if m.startswith("REPORT RequestId: ")]
        return found if len(reports) >= invocations else []

    found = wait_for(all_reported, timeout_s=60) or messages()  # on timeout: show what is there

    def request_ids(prefix: str) -> set[str]:
        return {m.split()[2] for m in found if m.startswith(prefix)}

    starts = request_ids("START RequestId: ")
    assert len(starts) == invocations, f"START lines of {len(starts)}/{invocations}:\n{found}"
    assert request_ids("END RequestId: ") == starts
    assert request_ids("REPORT RequestId: ") == starts
    assert set(sync_request_ids) <= starts
    for marker in markers + async_markers:
        assert f"stdout {marker}\n" in found, f"{marker} lost:\n{found}"
        xml = f"<Error><Code>NoSuchKey</Code><RequestId>{marker}</RequestId></Error>\n"
        assert xml in found, f"{marker}'s XML line lost or altered:\n{found}"
    assert any(m.startswith(f"[ERROR] ValueError: raised {markers[1]}") for m in found)
    assert any(m.startswith("[INFO]") and f"logging {markers[2]}" in m for m in found)
