"""Handlers of the tiny test function (this file is zipped as `handlers.py` by the tests).

Each test function uses one of these entry points; together they exercise what the subprocess
executor must provide: the context object, error reporting, timeouts, logging and boto3.
"""

import json
import logging
import os
import sys
import time

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def echo(event, context):
    print(f"stdout-line {event.get('marker')}")
    logger.info("logging-line %s", event.get("marker"))
    logger.info("multi\nline %s", event.get("marker"))
    sys.stderr.write(f"stderr-line {event.get('marker')}\n")
    return {
        "event": event,
        "function_name": context.function_name,
        "request_id": context.aws_request_id,
        "invoked_function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "boto3_file": boto3.__file__,
        "sys_path": sys.path,
        "executable": sys.executable,
    }


def fail(event, context):
    raise ValueError(f"boom {event.get('marker')}")


def sleep(event, context):
    time.sleep(event["seconds"])
    if event.get("witness"):  # proves (by its absence) that a timed-out process was killed
        bucket, key = event["witness"]
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"still running")
    return {"slept": event["seconds"]}


def crash(event, context):
    print("about to exit")
    os._exit(3)


def list_bucket(event, context):
    s3 = boto3.client("s3")
    response = s3.list_objects_v2(Bucket=event["bucket"])
    return sorted(item["Key"] for item in response.get("Contents", []))


def on_object_created(event, context):
    """S3 notification target: writes a marker object per created object."""
    s3 = boto3.client("s3")
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = record["s3"]["object"]["key"]
        body = {
            "source_key": key,
            "event_name": record["eventName"],
            "request_id": context.aws_request_id,
        }
        s3.put_object(Bucket=bucket, Key=f"markers/{key.rsplit('/', 1)[-1]}", Body=json.dumps(body))
    return {"records": len(event["Records"])}


def log_markers(event, context):
    """One invocation's worth of log lines, each carrying the event's marker.

    The XML line is what botocore logs at DEBUG level for a failed S3 call (``Response body:``):
    log events that contain ``<RequestId>`` must come back from CloudWatch Logs like any other.
    """
    marker = event["marker"]
    print(f"stdout {marker}")
    print(f"<Error><Code>NoSuchKey</Code><RequestId>{marker}</RequestId></Error>")
    if event.get("mode") == "raise":
        raise ValueError(f"raised {marker}")
    if event.get("mode") == "logging":
        logger.info("logging %s", marker)
    return {"request_id": context.aws_request_id}


def allocate(event, context):
    """Holds ``mb`` MiB resident (every page touched) for the memory-limit warning test."""
    block = bytearray(event["mb"] * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])
    return {"allocated_mb": len(block) // (1024 * 1024)}
