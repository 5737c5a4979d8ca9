"""The partial-failure retry algorithm, driven by a deterministic ``put`` that fails chosen entries.

LocalStack's Firehose never reports per-entry failures (its PutRecordBatch always answers
FailedPutCount=0), so the "retry ONLY the failed entries" logic is tested here on the pure
algorithm; the real-Firehose tests (test_firehose.py) cover the AWS call itself and the
whole-call failure path.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import pytest

from generator.retry import RetryPolicy, deliver


class ScriptedFirehose:
    """A put callable: entry payloads listed in ``fail_plan[attempt]`` fail on that attempt.

    It records every call and which payloads it accepted, so tests can prove that nothing is
    sent twice after being accepted and that retries carry only the failed entries.
    """

    def __init__(self, fail_plan: dict[int, set[bytes]], code: str = "ServiceUnavailableException"):
        self.fail_plan = fail_plan
        self.code = code
        self.calls: list[list[bytes]] = []
        self.accepted: Counter[bytes] = Counter()

    def __call__(self, payloads: Sequence[bytes]) -> list[str | None]:
        attempt = len(self.calls) + 1
        self.calls.append(list(payloads))
        failing = self.fail_plan.get(attempt, set())
        out: list[str | None] = []
        for p in payloads:
            if p in failing:
                out.append(self.code)
            else:
                self.accepted[p] += 1
                out.append(None)
        return out


def payloads(n: int) -> list[bytes]:
    return [f'{{"i":{i}}}\n'.encode() for i in range(n)]


class Sleeps(list[float]):
    def __call__(self, s: float) -> None:
        self.append(s)


def test_only_failed_entries_are_resent_and_each_record_is_accepted_once() -> None:
    data = payloads(500)
    first = {data[i] for i in (0, 7, 250, 499)}
    second = {data[7]}
    fh = ScriptedFirehose({1: first, 2: second})
    sleeps = Sleeps()
    res = deliver(data, fh, RetryPolicy(max_attempts=5), sleep=sleeps, rng=random.Random(1))

    assert res.failed == [] and res.attempts == 3
    assert fh.calls[0] == data
    assert fh.calls[1] == [data[i] for i in (0, 7, 250, 499)]  # only the failed ones, in order
    assert fh.calls[2] == [data[7]]
    assert fh.accepted == Counter(data)  # every record exactly once: no duplicates
    assert res.retried == 4 + 1
    assert len(sleeps) == 2


def test_entries_still_failing_after_max_attempts_are_reported_with_their_error() -> None:
    data = payloads(10)
    always = {data[3], data[4]}
    fh = ScriptedFirehose({a: always for a in range(1, 10)}, code="InternalFailure")
    res = deliver(data, fh, RetryPolicy(max_attempts=4), sleep=Sleeps(), rng=random.Random(1))
    assert res.failed == [3, 4]
    assert res.errors == Counter({"InternalFailure": 2})
    assert res.attempts == 4 and len(fh.calls) == 4
    assert res.retried == 2 * 3
    assert set(fh.accepted) == set(data) - always


def test_no_retry_when_everything_succeeds() -> None:
    data = payloads(3)
    sleeps = Sleeps()
    res = deliver(data, ScriptedFirehose({}), sleep=sleeps)
    assert (res.failed, res.attempts, res.retried, sleeps) == ([], 1, 0, [])


def test_max_attempts_one_never_retries() -> None:
    data = payloads(3)
    fh = ScriptedFirehose({1: {data[1]}})
    res = deliver(data, fh, RetryPolicy(max_attempts=1), sleep=Sleeps())
    assert res.failed == [1] and len(fh.calls) == 1 and res.retried == 0


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    data = payloads(1)
    fh = ScriptedFirehose({a: {data[0]} for a in range(1, 9)})
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=8, base_delay=0.1, max_delay=1.0)
    deliver(data, fh, policy, sleep=sleeps, rng=random.Random(7))
    assert len(sleeps) == 7
    caps = [min(1.0, 0.1 * 2**k) for k in range(7)]  # 0.1 0.2 0.4 0.8 1 1 1
    assert all(0.0 <= s <= cap for s, cap in zip(sleeps, caps, strict=True))
    # jitter: not simply the cap every time
    assert len(set(sleeps)) == len(sleeps)


class Flaky:
    """Raises ``exc`` on the first ``n`` calls, then accepts everything."""

    def __init__(self, exc: Exception, n: int):
        self.exc, self.n, self.calls = exc, n, 0

    def __call__(self, payloads: Sequence[bytes]) -> list[str | None]:
        self.calls += 1
        if self.calls <= self.n:
            raise self.exc
        return [None] * len(payloads)


def test_retryable_whole_call_errors_count_as_all_entries_failed() -> None:
    data = payloads(5)
    put = Flaky(ConnectionResetError("reset"), 2)
    res = deliver(data, put, RetryPolicy(max_attempts=5), retryable=lambda e: True, sleep=Sleeps())
    assert res.failed == [] and res.attempts == 3 and res.retried == 10


def test_retryable_errors_that_never_clear_fail_every_entry_with_the_error_code() -> None:
    data = payloads(4)
    put = Flaky(TimeoutError("slow"), 99)
    res = deliver(data, put, RetryPolicy(max_attempts=3), retryable=lambda e: True, sleep=Sleeps())
    assert res.failed == [0, 1, 2, 3] and res.errors == Counter({"TimeoutError": 4})


def test_non_retryable_errors_propagate_immediately() -> None:
    put = Flaky(PermissionError("denied"), 99)
    with pytest.raises(PermissionError):
        deliver(payloads(2), put, retryable=lambda e: False, sleep=Sleeps())
    assert put.calls == 1


def test_a_put_that_answers_for_the_wrong_number_of_entries_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="results for"):
        deliver(payloads(3), lambda p: [None], sleep=Sleeps())


def test_policy_validation() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
