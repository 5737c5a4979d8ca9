"""RuntimeExecutor that runs a Lambda execution environment as a local subprocess instead of a container.

LocalStack creates one executor per execution environment and drives it through the RuntimeExecutor
interface (start / invoke / stop). Where the Docker executor starts a container with the Go init,
this one starts ``<python of the runtime> -I -S bootstrap.py`` in the function's unpacked deployment
zip (LocalStack unpacks it in ``prepare_version``), in its own session so that stopping it also
stops whatever the function spawned.

Differences from AWS that the executor owns:
* the timeout is enforced here: the process group is killed and the invocation returns the AWS
  ``Sandbox.Timedout`` error; the next invocation starts a fresh process (a new init, as on AWS);
* the function reaches LocalStack at ``http://<LAMBDA_SUBPROCESS_ENDPOINT_HOST>:<gateway port>``
  (default 127.0.0.1: works offline and makes boto3 use path-style S3 addressing).
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.http import Response
from localstack.services.lambda_.invocation.executor_endpoint import (
    ExecutorEndpoint,
    InvokeSendError,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from werkzeug import Request

from clickstream_emulator.lambda_executor import bootstrap, hot_reload
from clickstream_emulator.lambda_executor.logs import LogCollector, exit_lines, timeout_lines
from clickstream_emulator.lambda_executor.runtimes import RuntimeSpec, resolve_runtime, runtime_root

LOG = logging.getLogger(__name__)

ENDPOINT_HOST_ENV = "LAMBDA_SUBPROCESS_ENDPOINT_HOST"
MARKER_WAIT_S = 2.0
"""How long to wait for the end-of-invocation marker after the result arrived (normally ~0)."""
STOP_GRACE_S = 2.0
STARTUP_TIMEOUT_S = config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT


class SubprocessExecutorEndpoint(ExecutorEndpoint):
    """LocalStack's executor endpoint, plus: the bootstrap reports its invoke port when ready.

    The bootstrap binds port 0 and says which port it got, so concurrent environments never race
    for a port chosen in advance.
    """

    def status_ready(self, request: Request, executor_id: str) -> Response:
        body = request.get_json(silent=True) or {}
        if "port" in body:
            self.container_port = int(body["port"])
        return super().status_ready(request, executor_id)


class SubprocessRuntimeExecutor(RuntimeExecutor):
    """One execution environment = one ``python -I -S bootstrap.py`` process."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = SubprocessExecutorEndpoint(self.id, container_address="127.0.0.1")
        self.process: subprocess.Popen[bytes] | None = None
        self.collector = LogCollector()
        self._env: dict[str, str] = {}
        self._lock = threading.RLock()
        self._stopped = False
        self._invocation_started = 0.0
        self._reader: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, env_vars: dict[str, str]) -> None:
        spec = resolve_runtime(self.function_version.config.runtime, runtime_root())
        self._env = self._process_env(env_vars, spec)
        self._spec = spec
        self._spawn()

    def _process_env(self, env_vars: dict[str, str], spec: RuntimeSpec) -> dict[str, str]:
        """The function's environment: LocalStack's + the function's variables, nothing of ours."""
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        env = {key: str(value) for key, value in env_vars.items() if value is not None}
        env.update(
            LAMBDA_TASK_ROOT=code_dir,
            LAMBDA_RUNTIME_DIR=str(spec.site_packages.parent),
            LAMBDA_RUNTIME_SITE=str(spec.site_packages),
            LOCALSTACK_SUBPROCESS_RUNTIME=spec.runtime,
        )
        env.setdefault("PATH", f"{spec.interpreter.parent}:/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        env.setdefault("PYTHONIOENCODING", "utf-8")  # ignored by -I; kept for child processes
        config_file = spec.site_packages.parent.parent / "aws-config"
        if config_file.is_file():
            # path-style S3 even if the endpoint host is a name (virtual hosts do not resolve)
            env.setdefault("AWS_CONFIG_FILE", str(config_file))
        env.setdefault("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        # `make dev` writes this file to run first-party code from the working tree (hot_reload.py);
        # LocalStack's own environment names it (scripts/stack.py), else it sits in the runtime root
        env[hot_reload.SOURCES_FILE_ENV] = os.environ.get(hot_reload.SOURCES_FILE_ENV) or str(
            spec.site_packages.parent.parent / hot_reload.SOURCES_FILE_NAME
        )
        return env

    def _spawn(self, restart: bool = False) -> None:
        """Start the process and wait until the bootstrap reported ready (or failed)."""
        self.executor_endpoint.start()
        command = [str(self._spec.interpreter), "-I", "-S", "-u", bootstrap.__file__]
        LOG.debug("Starting execution environment %s: %s", self.id, command)
        process = subprocess.Popen(
            command,
            env=self._env,
            cwd=self._env["LAMBDA_TASK_ROOT"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        reader = threading.Thread(
            target=self._read_output, args=(process,), name=f"lambda-out-{self.id}", daemon=True
        )
        with self._lock:
            self.process = process
            self._reader = reader
        reader.start()
        if not restart:
            # first start: LocalStack's startup timer (LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT) guards us
            self.executor_endpoint.wait_for_startup()
            return
        try:
            self.executor_endpoint.startup_future.result(timeout=STARTUP_TIMEOUT_S)
        except FutureTimeout as e:
            self._kill()
            raise LambdaRuntimeException(
                f"Runtime restart of {self.id} timed out after {STARTUP_TIMEOUT_S}s"
            ) from e

    def _read_output(self, process: subprocess.Popen[bytes]) -> None:
        """Pipe reader: feeds the collector, then reports the process's death to whoever waits."""
        assert process.stdout is not None
        # lines end at "\n" only: a "\r" keeps a multi-line record (traceback) in one log event
        output = io.TextIOWrapper(process.stdout, encoding="utf-8", errors="replace", newline="\n")
        for line in output:
            self.collector.feed(line)
        returncode = process.wait()
        LOG.debug("Execution environment %s exited with %s", self.id, returncode)
        self._on_exit(process, returncode)

    def _on_exit(self, process: subprocess.Popen[bytes], returncode: int) -> None:
        endpoint = self.executor_endpoint
        startup = endpoint.startup_future
        if startup is not None and not startup.done():
            message = f"Runtime exited with error: exit status {returncode}"
            payload = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message})
            startup.set_exception(StatusErrorException(message, payload=payload.encode()))
        invocation = endpoint.invocation_future
        if invocation is not None and not invocation.done() and not self._stopped:
            request_id = getattr(invocation, "request_id", "")
            memory = self.function_version.config.memory_size
            self.collector.append(
                exit_lines(request_id, self._invocation_started, returncode, memory)
            )
            self.collector.mark_done()
            error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: "
                f"exit status {returncode}",
            }
            invocation.set_result(
                InvocationResult(request_id, json.dumps(error).encode(), True, None)
            )

    def _kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (the function's own children included)."""
        with self._lock:
            process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_GRACE_S)

    def stop(self) -> None:
        self._stopped = True
        self._kill(signal.SIGTERM)
        try:
            self.executor_endpoint.shutdown()
        except Exception as e:  # already unregistered, e.g. stop after a failed start
            LOG.debug("Error while shutting down executor endpoint %s: %s", self.id, e)

    # -- addresses ------------------------------------------------------------------------
    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return os.environ.get(ENDPOINT_HOST_ENV) or "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        return (
            f"http://{self.get_endpoint_from_executor()}:{config.GATEWAY_LISTEN[0].port}"
            f"{self.executor_endpoint.get_endpoint_prefix()}"
        )

    # -- invocations ----------------------------------------------------------------------
    def _ensure_running(self) -> None:
        """After a timeout kill (or a crash) the next invocation gets a fresh process, as on AWS."""
        with self._lock:
            alive = self.process is not None and self.process.poll() is None
        if not alive:
            LOG.debug("Execution environment %s restarts its runtime process", self.id)
            self._spawn(restart=True)

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        self._ensure_running()
        request_id = payload["invoke-id"]
        timeout_s = float(self.function_version.config.timeout)
        endpoint = self.executor_endpoint
        future: Future[InvocationResult] = Future()
        future.request_id = request_id  # type: ignore[attr-defined]
        endpoint.invocation_future = future
        endpoint.logs = None
        self.collector.begin()
        self._invocation_started = time.perf_counter()
        url = f"http://{endpoint.container_address}:{endpoint.container_port}/invoke"
        response = endpoint._perform_invoke(
            invocation_url=url, proxies={"http": "", "https": ""}, payload=payload
        )
        if not response.ok:
            raise InvokeSendError(f"Error sending invocation to {url}: {response.status_code}")
        try:
            result = future.result(timeout=timeout_s)
        except FutureTimeout:
            future.cancel()  # the process's exit is expected now, not an ExitError
            result = self._time_out(request_id, timeout_s)
        logs = self.collector.take(MARKER_WAIT_S)
        return InvocationResult(request_id, result.payload, result.is_error, logs)

    def _time_out(self, request_id: str, timeout_s: float) -> InvocationResult:
        """Kill the environment at the function timeout and answer like AWS does."""
        peak_mb = bootstrap.peak_memory_mb(self.process.pid) if self.process else 0
        self._kill(signal.SIGKILL)
        if self._reader is not None:
            self._reader.join(timeout=STOP_GRACE_S)  # keep the function's last lines first
        self.collector.mark_done()
        memory = self.function_version.config.memory_size
        self.collector.append(timeout_lines(request_id, timeout_s, memory, peak_mb))
        error = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
            f"{timeout_s:.2f} seconds",
        }
        return InvocationResult(request_id, json.dumps(error).encode(), True, None)

    def get_logs(self) -> str:
        return self.collector.tail()

    # -- per version ----------------------------------------------------------------------
    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        """Fail function creation early and clearly if this machine cannot run the runtime."""
        if function_version.config.package_type != PackageType.Zip:
            raise LambdaRuntimeException(
                "container-image functions are not supported by the subprocess executor"
            )
        resolve_runtime(function_version.config.runtime, runtime_root())
        if function_version.config.layers:
            LOG.warning(
                "Function %s has layers: the subprocess executor ignores them",
                function_version.qualified_arn,
            )
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        """Nothing is built per version; LocalStack removes the unpacked code itself."""

    @classmethod
    def validate_environment(cls) -> bool:
        try:
            root = runtime_root()
        except Exception as e:
            LOG.warning("Lambda subprocess executor: %s", e)
            return False
        if not Path(root).is_dir():
            LOG.warning("Lambda subprocess executor: runtime root %s does not exist", root)
            return False
        return True
