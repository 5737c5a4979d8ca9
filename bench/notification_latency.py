"""Measure S3 ObjectCreated -> Lambda latency on the running local stack (rerunnable, no asserts).

Why: the pipeline's freshness depends on how fast LocalStack's async path (S3 notification ->
internal SQS -> execution environment) reaches the function. Prints, per object, the time from
PutObject returning to the handler starting and to the handler's marker object being visible.
The first object pays the cold start (a new subprocess + handler import).

    .venv/bin/python -m bench.notification_latency -n 10   # this checkout's stack (make up)
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
import uuid
import zipfile

import boto3
from botocore.config import Config

from clickstream_common import localstack

HANDLER = """
import json, time
import boto3
s3 = boto3.client("s3")
def handler(event, context):
    started = time.time()
    for record in event["Records"]:
        key = record["s3"]["object"]["key"]
        s3.put_object(Bucket=record["s3"]["bucket"]["name"], Key="markers/" + key.rsplit("/", 1)[-1],
                      Body=json.dumps({"handler_started": started}))
"""


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("latency.py", HANDLER)
    return buffer.getvalue()


def measure(count: int) -> list[tuple[float, float]]:
    endpoint = localstack.endpoint()
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1"
    )
    config = Config(s3={"addressing_style": "path"})
    s3 = session.client("s3", endpoint_url=endpoint, config=config)
    lam = session.client("lambda", endpoint_url=endpoint)
    iam = session.client("iam", endpoint_url=endpoint)
    run = uuid.uuid4().hex[:8]
    bucket, name = f"latency-{run}", f"latency-{run}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    s3.create_bucket(Bucket=bucket)
    arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="latency.handler",
        Code={"ZipFile": _zip()},
        Timeout=30,
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
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
    results = []
    try:
        for index in range(count):
            s3.put_object(Bucket=bucket, Key=f"raw/object-{index}.json", Body=b"{}")
            put_done = time.time()
            while True:
                try:
                    body = s3.get_object(Bucket=bucket, Key=f"markers/object-{index}.json")["Body"]
                    break
                except s3.exceptions.NoSuchKey:
                    time.sleep(0.01)
            visible = time.time()
            started = json.loads(body.read())["handler_started"]
            results.append((started - put_done, visible - put_done))
    finally:
        lam.delete_function(FunctionName=name)
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)
        iam.delete_role(RoleName=name)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--count", type=int, default=10)
    args = parser.parse_args()
    results = measure(args.count)
    for index, (to_handler, to_marker) in enumerate(results):
        label = "cold" if index == 0 else "warm"
        print(
            f"object {index} ({label}): handler started +{to_handler * 1000:.0f} ms, "
            f"marker visible +{to_marker * 1000:.0f} ms"
        )
    if len(results) > 1:
        warm = results[1:]
        print(
            f"warm median: handler +{statistics.median(r[0] for r in warm) * 1000:.0f} ms, "
            f"marker +{statistics.median(r[1] for r in warm) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
