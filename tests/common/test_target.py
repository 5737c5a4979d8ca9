"""The resolution chain of clickstream_common.target: which stack a tool talks to.

The chain is pure (an environment and an outputs mapping in, a Target out), so most cases are
plain calls; ``answers`` and ``configure`` run against real sockets on 127.0.0.1 (a closed port,
and a real HTTP server that answers 404 like any endpoint that is not LocalStack).
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from clickstream_common import target

LOCAL = {
    "endpoint_url": {"value": "http://localhost:4611", "type": "string"},
    "aws_region": {"value": "eu-west-1", "type": "string"},
    "raw_bucket": {"value": "clickstream-raw", "type": "string"},
}
#: An AWS deployment's outputs: Terraform leaves the null endpoint_url out of `output -json`.
AWS = {"aws_region": {"value": "us-east-2"}, "raw_bucket": {"value": "clickstream-raw"}}
PATH = Path("/repo/.local/outputs.json")


def values(outputs: dict[str, dict[str, str]]) -> dict[str, object]:
    return {k: v["value"] for k, v in outputs.items()}


def test_local_outputs_name_the_stack_with_nothing_exported() -> None:
    t = target.resolve({}, values(LOCAL), PATH)
    assert (t.endpoint, t.origin, t.local) == ("http://localhost:4611", str(PATH), True)
    assert t.environment == {
        "AWS_ENDPOINT_URL": "http://localhost:4611",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    assert t.conflict is None
    assert t.describe() == f"http://localhost:4611 (named by {PATH})"


def test_exported_endpoint_wins_and_a_different_stack_is_noted() -> None:
    env = {"AWS_ENDPOINT_URL": "http://localhost:4566"}
    t = target.resolve(env, values(LOCAL), PATH)
    assert (t.endpoint, t.origin) == ("http://localhost:4566", "AWS_ENDPOINT_URL")
    assert "AWS_ENDPOINT_URL" not in t.environment
    note = t.conflict
    assert note is not None and "\n" not in note
    assert "http://localhost:4566" in note and "http://localhost:4611" in note and str(PATH) in note
    assert t.another_stack


@pytest.mark.parametrize(
    "exported", ["http://localhost:4611", "http://127.0.0.1:4611/", " http://LOCALHOST:4611"]
)
def test_the_same_stack_spelled_differently_is_no_conflict(exported: str) -> None:
    t = target.resolve({"AWS_ENDPOINT_URL": exported}, values(LOCAL), PATH)
    assert t.conflict is None and not t.another_stack


def test_aws_outputs_mean_aws() -> None:
    t = target.resolve({}, values(AWS), PATH)
    assert (t.endpoint, t.origin, t.local) == (None, "AWS", False)
    # no endpoint, no made-up credentials: boto3's own chain (profile, SSO, ...) decides
    assert t.environment == {"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "us-east-2"}
    assert t.describe() == "AWS"


def test_aws_outputs_with_an_exported_endpoint_say_so() -> None:
    t = target.resolve({"AWS_ENDPOINT_URL": "http://localhost:4566"}, values(AWS), PATH)
    assert t.endpoint == "http://localhost:4566"
    assert t.conflict is not None and "AWS deployment" in t.conflict
    # outputs without an endpoint are not another local stack (snapshot, e2e go on)
    assert not t.another_stack


def test_no_outputs_leaves_boto3_alone() -> None:
    assert target.resolve({}, None, PATH).environment == {}
    t = target.resolve({"AWS_ENDPOINT_URL": "http://localhost:4566"}, None, PATH)
    assert (t.endpoint, t.conflict, t.local) == ("http://localhost:4566", None, False)


def test_exported_credentials_and_region_win() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_DEFAULT_REGION": "ap-south-1"}
    t = target.resolve(env, values(LOCAL), PATH)
    assert t.environment == {"AWS_ENDPOINT_URL": "http://localhost:4611"}
    t = target.resolve({"AWS_REGION": "ap-south-1"}, values(AWS), PATH)
    assert t.environment == {"AWS_DEFAULT_REGION": "ap-south-1"}  # boto3 reads only this one


def test_load_reads_clickstream_outputs_first(tmp_path: Path) -> None:
    chosen = tmp_path / "outputs-dev.json"
    chosen.write_text(json.dumps(AWS))
    t = target.load({"CLICKSTREAM_OUTPUTS": str(chosen)})
    assert (t.outputs_path, t.outputs_found, t.endpoint) == (chosen, True, None)
    missing = target.load({"CLICKSTREAM_OUTPUTS": str(tmp_path / "none.json")})
    assert (missing.outputs_found, missing.endpoint) == (False, None)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_unreadable_outputs_are_one_line(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "outputs.json"
    bad.write_text(content)
    with pytest.raises(target.TargetError) as err:
        target.load({"CLICKSTREAM_OUTPUTS": str(bad)})
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_404() -> Iterator[str]:
    """A real HTTP server that answers every path with 404 (an endpoint that is not LocalStack)."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_answers(http_404: str) -> None:
    assert target.answers(http_404)
    assert not target.answers(f"http://127.0.0.1:{closed_port()}", timeout=1)


def write_outputs(tmp_path: Path, endpoint: str) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**LOCAL, "endpoint_url": {"value": endpoint}}))
    return path


def test_configure_applies_the_chain_and_notes_another_stack(
    tmp_path: Path,
    http_404: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outputs = write_outputs(tmp_path, http_404)
    monkeypatch.setattr("os.environ", {"CLICKSTREAM_OUTPUTS": str(outputs)})
    t = target.configure("tool")
    import os

    assert os.environ["AWS_ENDPOINT_URL"] == http_404 == t.endpoint
    assert os.environ["AWS_ACCESS_KEY_ID"] == "test"
    assert capsys.readouterr().err == ""

    other = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setattr(
        "os.environ", {"CLICKSTREAM_OUTPUTS": str(outputs), "AWS_ENDPOINT_URL": other}
    )
    target.configure("tool", check=False)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("tool: note: ") and other in err[0]
    target.configure("tool", names_from_outputs=False, check=False)  # names given: no note
    assert capsys.readouterr().err == ""


def test_configure_fails_in_one_line_naming_the_endpoint_and_make_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setattr("os.environ", {"CLICKSTREAM_OUTPUTS": str(write_outputs(tmp_path, down))})
    with pytest.raises(target.TargetError) as err:
        target.configure("tool")
    message = str(err.value)
    assert down in message and "`make up`" in message and "\n" not in message
    # AWS is never probed
    monkeypatch.setattr("os.environ", {"CLICKSTREAM_OUTPUTS": str(tmp_path / "none.json")})
    assert target.configure("tool").endpoint is None
