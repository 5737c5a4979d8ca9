"""Which stack a tool talks to, resolved once per process like an AWS profile.

A local deployment's Terraform outputs name the stack that holds it (the ``endpoint_url``
output: scripts/tf.sh passes the LocalStack endpoint to every local apply), so a tool run from
the venv, with nothing exported, reaches the stack whose resources it is about to name. Outputs
of an AWS deployment name no endpoint: the tool talks to AWS. The chain, first match wins:

* endpoint: ``AWS_ENDPOINT_URL``; else the outputs' ``endpoint_url``; else none (AWS);
* region: ``AWS_REGION`` / ``AWS_DEFAULT_REGION``; else the outputs' ``aws_region``; else
  boto3's own chain (the profile);
* credentials: the environment's or the profile's; for a local deployment, LocalStack's
  ``test`` keys when none are exported.

The outputs file is ``CLICKSTREAM_OUTPUTS``, else ``.local/outputs.json``
(:mod:`clickstream_common.outputs`). :func:`resolve` is the pure chain; :func:`configure` applies
it to a command-line process (boto3, pyarrow's S3 filesystem and the tools read the process
environment) and fails in one line when the stack does not answer. Standard library only.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from clickstream_common import outputs as tf_outputs

#: The Terraform output naming the endpoint of a local deployment's stack.
ENDPOINT_OUTPUT = "endpoint_url"
#: LocalStack accepts any keys; these are its documented defaults (account 000000000000).
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class TargetError(RuntimeError):
    """The target cannot be used: its stack does not answer, or its outputs are unreadable.
    The message is one line that says what to do."""


def same_endpoint(a: str, b: str) -> bool:
    """Whether two endpoint URLs name the same server (``localhost`` = ``127.0.0.1``)."""

    def key(url: str) -> tuple[str, str, int | None]:
        parsed = urlparse(url.strip().rstrip("/"))
        host = (parsed.hostname or "").lower()
        default = {"http": 80, "https": 443}.get(parsed.scheme)
        return (parsed.scheme, "localhost" if host in _LOOPBACK else host, parsed.port or default)

    return key(a) == key(b)


def _display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Target:
    """The resolved chain: where the calls go and why."""

    #: Endpoint URL of the stack; None = AWS's own regional endpoints.
    endpoint: str | None
    #: Where the endpoint came from: ``AWS_ENDPOINT_URL``, the outputs file, or ``AWS``.
    origin: str
    #: The outputs file the chain read (whether or not it exists).
    outputs_path: Path
    #: The endpoint the outputs name (a local deployment), or None (AWS, or no outputs).
    outputs_endpoint: str | None = None
    #: Whether an outputs file was read at all.
    outputs_found: bool = False
    #: What the chain sets in the process environment (only what the environment lacks).
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        """The outputs describe a local deployment (LocalStack)."""
        return self.outputs_endpoint is not None

    @property
    def another_stack(self) -> bool:
        """``AWS_ENDPOINT_URL`` names another local stack than the one of the outputs."""
        return (
            self.origin == "AWS_ENDPOINT_URL"
            and self.endpoint is not None
            and self.outputs_endpoint is not None
            and not same_endpoint(self.endpoint, self.outputs_endpoint)
        )

    @property
    def conflict(self) -> str | None:
        """One line when ``AWS_ENDPOINT_URL`` sends the calls somewhere else than the stack of
        the outputs the tool reads its resource names from, else None."""
        if self.origin != "AWS_ENDPOINT_URL" or not self.outputs_found or self.endpoint is None:
            return None
        where = _display(self.outputs_path)
        if self.outputs_endpoint is None:
            return (
                f"{where} names no stack endpoint (an AWS deployment), but AWS_ENDPOINT_URL "
                f"sends the calls to {self.endpoint}"
            )
        if same_endpoint(self.endpoint, self.outputs_endpoint):
            return None
        return (
            f"{self.endpoint} (AWS_ENDPOINT_URL, or make's LOCALSTACK_PORT) is not the stack of "
            f"{where}, which is at {self.outputs_endpoint}: the names read there belong to "
            "that stack"
        )

    def describe(self) -> str:
        """Where the calls go, for messages: ``http://localhost:4611 (named by .local/...)``."""
        if self.endpoint is None:
            return "AWS"
        if self.origin == "AWS_ENDPOINT_URL":
            return f"{self.endpoint} (AWS_ENDPOINT_URL)"
        return f"{self.endpoint} (named by {_display(self.outputs_path)})"

    def down_message(self) -> str:
        """The one line a CLI prints when its stack does not answer."""
        return f"no stack answers at {self.describe()}: start it with `make up`"

    def check(self) -> None:
        """Raise :class:`TargetError` (:meth:`down_message`) when the stack's endpoint does not
        answer. AWS's own endpoints are not probed."""
        if self.endpoint is not None and not answers(self.endpoint):
            raise TargetError(self.down_message())


def resolve(
    env: Mapping[str, str], outputs: Mapping[str, object] | None, outputs_path: Path
) -> Target:
    """The chain over an environment and the outputs (None: no outputs file). Pure."""
    found = outputs is not None
    values = outputs or {}
    named = values.get(ENDPOINT_OUTPUT)
    outputs_endpoint = str(named).rstrip("/") if named else None
    region_value = values.get("aws_region")
    outputs_region = str(region_value) if region_value else None

    exported = (env.get("AWS_ENDPOINT_URL") or "").strip()
    if exported:
        endpoint: str | None = exported.rstrip("/")
        origin = "AWS_ENDPOINT_URL"
    elif outputs_endpoint:
        endpoint, origin = outputs_endpoint, str(outputs_path)
    else:
        endpoint, origin = None, "AWS"

    settings: dict[str, str] = {}
    if endpoint and not exported:
        settings["AWS_ENDPOINT_URL"] = endpoint
    if outputs_region and not (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")):
        settings["AWS_REGION"] = settings["AWS_DEFAULT_REGION"] = outputs_region
    elif env.get("AWS_REGION") and not env.get("AWS_DEFAULT_REGION"):
        settings["AWS_DEFAULT_REGION"] = env["AWS_REGION"]  # boto3 reads only this one
    if outputs_endpoint and not env.get("AWS_ACCESS_KEY_ID"):
        settings.update(LOCAL_CREDENTIALS)
    return Target(
        endpoint=endpoint,
        origin=origin,
        outputs_path=outputs_path,
        outputs_endpoint=outputs_endpoint,
        outputs_found=found,
        environment=settings,
    )


def load(env: Mapping[str, str] | None = None) -> Target:
    """The chain over this process's environment and the outputs file it points at.

    A missing outputs file is not an error here (the tool may not need names, and says so itself
    when it does); an unreadable one is."""
    env = os.environ if env is None else env
    path = tf_outputs.outputs_path(env)
    try:
        values: dict[str, object] | None = tf_outputs.load_outputs(path)
    except tf_outputs.OutputsNotFoundError:
        values = None
    except (OSError, ValueError, AttributeError) as exc:
        detail = " ".join(str(exc).split())
        raise TargetError(f"cannot read the Terraform outputs {path}: {detail}") from None
    return resolve(env, values, path)


def answers(endpoint: str, timeout: float = 3.0) -> bool:
    """Whether anything answers HTTP at ``endpoint`` (any status counts: it is up)."""
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def configure(prog: str, *, names_from_outputs: bool = True, check: bool = True) -> Target:
    """Resolve the chain for a command-line tool and apply it to this process.

    Sets what the chain adds (endpoint, region, local credentials) in ``os.environ``, where
    boto3, pyarrow's S3 filesystem and our own helpers read it; prints the one-line note of
    :attr:`Target.conflict` when the tool reads its resource names from the outputs; and, with
    ``check``, raises :class:`TargetError` with :meth:`Target.down_message` when the stack's
    endpoint does not answer (AWS's endpoints are not probed).
    """
    target = load()
    os.environ.update(target.environment)
    if names_from_outputs and target.conflict:
        print(f"{prog}: note: {target.conflict}", file=sys.stderr)
    if check:
        target.check()
    return target
