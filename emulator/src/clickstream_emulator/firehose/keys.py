"""S3 object keys as Firehose names them: prefix expressions, the default time prefix, the suffix.

AWS's rules (Firehose developer guide, "Custom prefixes for Amazon S3 objects" and "Amazon S3
object name format"), which this module implements and validates:

* key = ``<evaluated prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><extension>``;
* expressions ``!{namespace:value}``: ``timestamp`` (a Java ``DateTimeFormatter`` pattern, UTC,
  the approximate arrival time of the oldest record in the object; every instance in one prefix
  is the same instant) and ``firehose`` (``random-string``: 11 random characters, new for each
  instance; ``error-output-type``: only in ``ErrorOutputPrefix``);
* a ``Prefix`` without a ``timestamp`` expression gets ``!{timestamp:yyyy/MM/dd/HH/}`` appended;
* ``ErrorOutputPrefix`` may be empty only when ``Prefix`` has no expression; an error prefix with
  expressions must contain ``!{firehose:error-output-type}``; ``Prefix`` must not;
* the sequence ``!{`` appears only in expressions; an evaluated prefix is at most 512 characters.

``partitionKeyFromQuery`` / ``partitionKeyFromLambda`` belong to dynamic partitioning, which is
not emulated: they are rejected at create time with a message saying so, never written literally.

Pure functions, no LocalStack import: unit tests run them in the project's own venv.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_EVALUATED_PREFIX = 512
DEFAULT_TIME_PATTERN = "yyyy/MM/dd/HH/"
#: What AWS prefixes every prefix-constraint message with (their spelling, typo included, so a
#: client matching AWS's message matches ours).
CONSTRAINT = "Ths supplied prefix(es) do not satisfy the following constraint: "

_EXPRESSION = re.compile(r"!\{([^{}:]*):([^{}]*)\}")
_RANDOM_ALPHABET = string.ascii_lowercase + string.digits


class PrefixError(ValueError):
    """A prefix AWS would reject (the message is what the API error says)."""


@dataclass(frozen=True)
class Expression:
    namespace: str
    value: str


Part = str | Expression


def parse(prefix: str) -> list[Part]:
    """Split a prefix into literal text and expressions; reject what AWS rejects."""
    parts: list[Part] = []
    pos = 0
    for match in _EXPRESSION.finditer(prefix):
        literal = prefix[pos : match.start()]
        if "!{" in literal:
            raise PrefixError(
                f"{CONSTRAINT}The sequence !{{ can only appear in !{{namespace:value}} expressions"
            )
        if literal:
            parts.append(literal)
        namespace, value = match.group(1), match.group(2)
        _check_expression(namespace, value)
        parts.append(Expression(namespace, value))
        pos = match.end()
    tail = prefix[pos:]
    if "!{" in tail:
        raise PrefixError(
            f"{CONSTRAINT}The sequence !{{ can only appear in !{{namespace:value}} expressions"
        )
    if tail:
        parts.append(tail)
    return parts


def _check_expression(namespace: str, value: str) -> None:
    if namespace == "timestamp":
        compile_java_pattern(value)  # raises PrefixError on a pattern we cannot evaluate
    elif namespace == "firehose":
        if value not in ("random-string", "error-output-type"):
            raise PrefixError(
                f"{CONSTRAINT}Unsupported value '{value}' for namespace 'firehose' "
                "(random-string, error-output-type)"
            )
    elif namespace in ("partitionKeyFromQuery", "partitionKeyFromLambda"):
        raise PrefixError(
            f"!{{{namespace}:{value}}} needs dynamic partitioning, which the local Firehose "
            "(clickstream_emulator.firehose) does not emulate"
        )
    else:
        raise PrefixError(
            f"{CONSTRAINT}Unsupported namespace '{namespace}' in !{{{namespace}:{value}}} "
            "(timestamp, firehose, partitionKeyFromQuery, partitionKeyFromLambda)"
        )


def has_expressions(parts: list[Part]) -> bool:
    return any(isinstance(p, Expression) for p in parts)


def validate(prefix: str | None, error_prefix: str | None) -> None:
    """AWS's create/update-time rules for a pair of prefixes (raises :class:`PrefixError`)."""
    main = parse(prefix or "")
    error = parse(error_prefix or "")
    if Expression("firehose", "error-output-type") in main:
        raise PrefixError(f"{CONSTRAINT}Prefix cannot contain !{{firehose:error-output-type}}")
    if has_expressions(main) and not error_prefix:
        raise PrefixError(
            f"{CONSTRAINT}ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"
        )
    if has_expressions(error) and Expression("firehose", "error-output-type") not in error:
        raise PrefixError(
            f"{CONSTRAINT}ErrorOutputPrefix must contain !{{firehose:error-output-type}} "
            "when it contains expressions"
        )
    sample = datetime(2000, 12, 31, 23, 59, 59, tzinfo=UTC)
    for name, evaluated in (
        ("Prefix", evaluate_prefix(prefix, sample)),
        ("ErrorOutputPrefix", evaluate_error_prefix(error_prefix, prefix, sample, "s3-failed")),
    ):
        if len(evaluated) > MAX_EVALUATED_PREFIX:
            raise PrefixError(
                f"{CONSTRAINT}{name} cannot be longer than {MAX_EVALUATED_PREFIX} characters "
                f"after evaluation ({len(evaluated)})"
            )


def random_string() -> str:
    """11 random characters, as ``!{firehose:random-string}`` (AWS's look: ``046b6c7f-0b``)."""
    raw = "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(10))
    return f"{raw[:8]}-{raw[8:]}"


def _render(parts: list[Part], at: datetime, error_type: str | None) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part.namespace == "timestamp":
            out.append(format_java(part.value, at))
        elif part.value == "random-string":
            out.append(random_string())
        else:  # error-output-type (validate() keeps it out of Prefix)
            out.append(error_type or "")
    return "".join(out)


def evaluate_prefix(prefix: str | None, at: datetime) -> str:
    """The evaluated ``Prefix`` for an object whose oldest record arrived at ``at`` (UTC)."""
    parts = parse(prefix or "")
    if not any(isinstance(p, Expression) and p.namespace == "timestamp" for p in parts):
        parts.append(Expression("timestamp", DEFAULT_TIME_PATTERN))
    return _render(parts, at, None)


def evaluate_error_prefix(
    error_prefix: str | None, prefix: str | None, at: datetime, error_type: str
) -> str:
    """The evaluated ``ErrorOutputPrefix``; without expressions AWS adds the type and the hour."""
    parts = parse(error_prefix or "") if error_prefix else parse(prefix or "")
    if not has_expressions(parts):
        parts += [
            Expression("firehose", "error-output-type"),
            "/",
            Expression("timestamp", DEFAULT_TIME_PATTERN),
        ]
    return _render(parts, at, error_type)


def object_name(stream: str, version: str, at: datetime, uuid: str, extension: str) -> str:
    """The suffix AWS gives every object: ``<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid><ext>``."""
    return f"{stream}-{version}-{at.astimezone(UTC):%Y-%m-%d-%H-%M-%S}-{uuid}{extension}"


# ------------------------------------------------------------------ Java DateTimeFormatter subset
def _year(count: int) -> Callable[[datetime], str]:
    if count == 2:
        return lambda d: f"{d.year % 100:02d}"
    return lambda d: str(d.year).zfill(count)


def _number(
    attr: Callable[[datetime], int], count: int, max_width: int
) -> Callable[[datetime], str]:
    if count > max_width:
        raise PrefixError(f"Too many pattern letters ({count}) for a {max_width}-digit field")
    return lambda d: str(attr(d)).zfill(count)


def _month(count: int) -> Callable[[datetime], str]:
    if count <= 2:
        return lambda d: str(d.month).zfill(count)
    if count == 3:
        return lambda d: f"{d:%b}"
    return lambda d: f"{d:%B}"


def _day_name(count: int) -> Callable[[datetime], str]:
    return (lambda d: f"{d:%a}") if count <= 3 else (lambda d: f"{d:%A}")


def _fraction(count: int) -> Callable[[datetime], str]:
    return lambda d: f"{d.microsecond:06d}000"[:count]


#: pattern letter -> field renderer for a run of ``count`` letters (the letters Firehose users
#: put in prefixes; anything else is rejected rather than written wrongly).
_FIELDS: dict[str, Callable[[int], Callable[[datetime], str]]] = {
    "y": _year,
    "u": _year,
    "M": _month,
    "L": _month,
    "d": lambda n: _number(lambda d: d.day, n, 2),
    "D": lambda n: _number(lambda d: d.timetuple().tm_yday, n, 3),
    "H": lambda n: _number(lambda d: d.hour, n, 2),
    "h": lambda n: _number(lambda d: (d.hour % 12) or 12, n, 2),
    "k": lambda n: _number(lambda d: d.hour or 24, n, 2),
    "K": lambda n: _number(lambda d: d.hour % 12, n, 2),
    "m": lambda n: _number(lambda d: d.minute, n, 2),
    "s": lambda n: _number(lambda d: d.second, n, 2),
    "S": _fraction,
    "a": lambda n: lambda d: f"{d:%p}",
    "E": _day_name,
    "e": lambda n: _number(lambda d: d.isoweekday() % 7 + 1, n, 1),
    "w": lambda n: _number(lambda d: d.isocalendar().week, n, 2),
}


def _constant(text: str) -> Callable[[datetime], str]:
    """A pattern piece that prints ``text`` whatever the time."""
    return lambda _d: text


def compile_java_pattern(pattern: str) -> Callable[[datetime], str]:
    """A formatter for a Java ``DateTimeFormatter`` pattern (letters above, quoted literals)."""
    pieces: list[Callable[[datetime], str]] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end == -1:
                raise PrefixError(f"Pattern ends with an incomplete string literal: {pattern}")
            literal = pattern[i + 1 : end] or "'"  # '' is one quote
            pieces.append(_constant(literal))
            i = end + 1
        elif char.isascii() and char.isalpha():
            count = 1
            while i + count < len(pattern) and pattern[i + count] == char:
                count += 1
            if char not in _FIELDS:
                raise PrefixError(
                    f"Pattern letter '{char}' in !{{timestamp:{pattern}}} is not supported by the "
                    f"local Firehose (supported: {''.join(sorted(_FIELDS))}, quoted literals)"
                )
            pieces.append(_FIELDS[char](count))
            i += count
        elif char in "#{}[]":
            raise PrefixError(f"Pattern character '{char}' is reserved: {pattern}")
        else:
            pieces.append(_constant(char))
            i += 1
    return lambda d: "".join(piece(d) for piece in pieces)


def format_java(pattern: str, at: datetime) -> str:
    """Format ``at`` (converted to UTC) with a Java ``DateTimeFormatter`` pattern."""
    return compile_java_pattern(pattern)(at.astimezone(UTC))
