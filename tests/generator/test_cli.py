"""The command line: compat shim, stdout, configuration errors, window, pacing, progress."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from generator import cli
from generator.aggregate import Envelope, aggregate
from generator.events import Record
from generator.progress import Progress
from generator.rate import Deadline, RateLimiter

ROOT = Path(__file__).resolve().parents[2]


def test_compat_shim_keeps_the_seed_interface_and_writes_ndjson(tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    proc = subprocess.run(
        [
            sys.executable,
            "scripts/generate_events.py",
            "--stream-name",
            "ignored-with-output",
            "--count",
            "100",
            "--output",
            str(out),
            "--seed",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = out.read_bytes().splitlines()
    assert len(lines) == 100 and all(json.loads(x)["event_id"] for x in lines)
    assert "sent 100/100 events" in proc.stderr  # the summary line


def test_output_dash_writes_ndjson_to_stdout_and_the_summary_to_stderr() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator.cli",
            "--output",
            "-",
            "--count",
            "7",
            "--seed",
            "2",
            "--start",
            "2024-12-25",
            "--days",
            "1",
        ],
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0
    assert len(proc.stdout.splitlines()) == 7
    assert b"clickstream-generate: sent 7/7" in proc.stderr


def test_missing_outputs_without_stream_name_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLICKSTREAM_OUTPUTS", str(tmp_path / "nope.json"))
    assert cli.main(["--count", "1"]) == 2
    assert "make up" in capsys.readouterr().err


def test_quiet_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--output", str(tmp_path / "x"), "--count", "3", "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def ns(**kw: object) -> argparse.Namespace:
    base = {"start": None, "end": None, "days": 1.0}
    return argparse.Namespace(**{**base, **kw})


def test_window_resolution() -> None:
    d = datetime(2024, 12, 25, tzinfo=UTC)
    ms = int(d.timestamp() * 1000)
    day = 86_400_000
    assert cli.resolve_window(ns(start=d, days=2)) == (ms, ms + 2 * day)
    assert cli.resolve_window(ns(end=d, days=3)) == (ms - 3 * day, ms)
    assert cli.resolve_window(ns(), now=d) == (ms - day, ms)
    with pytest.raises(ValueError):
        cli.resolve_window(ns(start=d, end=d))
    assert cli.parse_time("2024-12-25T10:00:00+02:00") == datetime(2024, 12, 25, 8, tzinfo=UTC)
    assert cli.parse_time("2024-12-25") == d


@pytest.mark.parametrize(
    "argv",
    [["--bad-ratio", "1.5"], ["--rate", "0"], ["--batch-size", "0"], ["--start", "yesterday"]],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--output", "-", *argv])
    assert exc.value.code == 2


class FakeClock:
    """A clock that only moves when the limiter sleeps or the test says so."""

    def __init__(self) -> None:
        self.t = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def test_rate_limiter_keeps_the_average_rate() -> None:
    clock = FakeClock()
    lim = RateLimiter(200.0, clock=clock, sleep=clock.sleep)
    for _ in range(1001):
        lim.acquire()
    assert clock.t - 100.0 == pytest.approx(1000 / 200.0, abs=0.006)
    assert all(s > 0.005 for s in clock.slept)  # no sub-millisecond sleeps
    assert len(clock.slept) < 1000


def test_rate_limiter_does_not_sleep_when_behind() -> None:
    clock = FakeClock()
    lim = RateLimiter(10.0, clock=clock, sleep=clock.sleep)
    lim.acquire()
    clock.t += 5.0  # the producer was slow
    lim.acquire()
    assert clock.slept == []


def test_deadline() -> None:
    clock = FakeClock()
    d = Deadline(2.0, clock=clock)
    assert not d.expired()
    clock.t += 2.0
    assert d.expired()
    assert not Deadline(None, clock=clock).expired()


def test_progress_renders_and_stays_silent_off_a_tty() -> None:
    buf = io.StringIO()
    p = Progress(1000, stream=buf)  # StringIO is not a TTY
    p.update(250)
    p.close()
    assert buf.getvalue() == "" and p.done == 250
    text = Progress(1000, stream=io.StringIO(), enabled=True)
    text.update(500)
    assert text.render(text._t0 + 1.0).startswith("[" + "#" * 15 + "." * 15 + "] 500/1,000")
    assert "events" in Progress(None, stream=io.StringIO()).render(0.0)


def recs(*sizes: int) -> list[Record]:
    return [Record(b"x" * (n - 1) + b"\n") for n in sizes]


def test_aggregation_groups_whole_events_and_respects_the_byte_limit() -> None:
    r = recs(10, 10, 10, 10, 10)
    assert [len(e.records) for e in aggregate(r, 2)] == [2, 2, 1]
    assert b"".join(e.data for e in aggregate(r, 2)) == b"".join(x.data for x in r)
    big = recs(60, 60, 60)
    envs: list[Envelope] = list(aggregate(big, 10, max_bytes=130))
    assert [len(e.records) for e in envs] == [2, 1]  # never split an event, never exceed 130
    lone = list(aggregate(recs(500), 10, max_bytes=100))
    assert [len(e) for e in lone] == [500]  # too big alone: passed on, the batcher reports it
    with pytest.raises(ValueError):
        list(aggregate(r, 0))
