"""Prefix expressions, key names and validation of the local Firehose, against AWS's documented
examples (Firehose developer guide, "Custom prefixes for Amazon S3 objects")."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from clickstream_emulator.firehose import keys

AT = datetime(2018, 8, 27, 10, 30, 15, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy/MM/dd/HH/", "2018/08/27/10/"),
        ("yyyy'-'MM'-'dd", "2018-08-27"),
        ("'year='yyyy'/month='MM'/day='dd'/hour='HH", "year=2018/month=08/day=27/hour=10"),
        ("yy-M-d H:m:s", "18-8-27 10:30:15"),
        ("yyyyMMddHHmmss", "20180827103015"),
        ("DDD", "239"),
        ("MMM EEE", "Aug Mon"),
        ("SSS", "123"),
        ("''", "'"),
    ],
)
def test_java_patterns_format_like_datetimeformatter(pattern: str, expected: str) -> None:
    assert keys.format_java(pattern, AT) == expected


def test_timestamps_are_utc_whatever_the_input_zone() -> None:
    from datetime import timedelta, timezone

    tokyo = AT.astimezone(timezone(timedelta(hours=9)))
    assert keys.format_java("yyyy/MM/dd/HH", tokyo) == "2018/08/27/10"


def test_prefix_without_timestamp_gets_the_hour_path_appended() -> None:
    assert keys.evaluate_prefix("raw/", AT) == "raw/2018/08/27/10/"
    assert keys.evaluate_prefix("", AT) == "2018/08/27/10/"
    assert keys.evaluate_prefix(None, AT) == "2018/08/27/10/"


def test_aws_examples_evaluate_as_documented() -> None:
    assert (
        keys.evaluate_prefix(
            "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
            "hour=!{timestamp:HH}/",
            AT,
        )
        == "myPrefix/year=2018/month=08/day=27/hour=10/"
    )
    error = "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}"
    assert (
        keys.evaluate_error_prefix(error, None, AT, "processing-failed")
        == "myErrorPrefix/year=2018/month=08/day=27/hour=10/processing-failed"
    )


def test_random_string_is_new_for_each_instance_and_11_characters() -> None:
    out = keys.evaluate_prefix("a/!{firehose:random-string}/!{firehose:random-string}/", AT)
    first, second = out.split("/")[1:3]
    assert len(first) == len(second) == 11 and first != second
    assert re.fullmatch(r"[a-z0-9]{8}-[a-z0-9]{2}", first)


def test_error_prefix_without_expressions_gets_type_and_hour() -> None:
    assert (
        keys.evaluate_error_prefix("firehose-errors/", "raw/", AT, "s3-failed")
        == "firehose-errors/s3-failed/2018/08/27/10/"
    )
    # null error prefix: the Prefix, then the type and the hour (AWS's last example)
    assert (
        keys.evaluate_error_prefix(None, "myFirehosePrefix/", AT, "processing-failed")
        == "myFirehosePrefix/processing-failed/2018/08/27/10/"
    )


def test_object_name_is_stream_version_time_uuid_extension() -> None:
    name = keys.object_name("events", "3", AT, "6d87d3d0-bf0d-4d59-8ae7-7d6aa6e3a9b8", ".gz")
    assert name == "events-3-2018-08-27-10-30-15-6d87d3d0-bf0d-4d59-8ae7-7d6aa6e3a9b8.gz"


@pytest.mark.parametrize(
    ("prefix", "error_prefix", "message"),
    [
        ("!{timestamp:yyyy/MM/dd}", None, "ErrorOutputPrefix cannot be null or empty"),
        ("x/!{timestamp:yyyy}/", "", "ErrorOutputPrefix cannot be null or empty"),
        ("x/!{firehose:error-output-type}/", "e/", "Prefix cannot contain"),
        ("x/", "e/!{timestamp:yyyy}/", "must contain !{firehose:error-output-type}"),
        ("x/!{timestamp:yyyy", "e/!{firehose:error-output-type}", "!{ can only appear"),
        ("x/!{foo:bar}/", "e/!{firehose:error-output-type}", "Unsupported namespace 'foo'"),
        ("x/!{firehose:nope}/", "e/!{firehose:error-output-type}", "Unsupported value 'nope'"),
        ("x/!{timestamp:yyyy'}/", "e/!{firehose:error-output-type}", "incomplete string literal"),
        ("x/!{timestamp:QQ}/", "e/!{firehose:error-output-type}", "Pattern letter 'Q'"),
        (
            "x/!{partitionKeyFromQuery:id}/",
            "e/!{firehose:error-output-type}",
            "dynamic partitioning",
        ),
        ("a" * 513, None, "cannot be longer than 512"),
    ],
)
def test_invalid_prefixes_are_rejected_with_aws_rules(
    prefix: str, error_prefix: str | None, message: str
) -> None:
    with pytest.raises(keys.PrefixError, match=re.escape(message)):
        keys.validate(prefix, error_prefix)


@pytest.mark.parametrize(
    ("prefix", "error_prefix"),
    [
        ("raw/", "firehose-errors/"),
        ("raw/", None),
        (None, None),
        ("x/!{timestamp:yyyy/MM/dd}/", "errors/!{firehose:error-output-type}/"),
        (
            "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}",
            "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}",
        ),
    ],
)
def test_valid_prefixes_pass(prefix: str | None, error_prefix: str | None) -> None:
    keys.validate(prefix, error_prefix)
