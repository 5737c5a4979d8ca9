"""Python Lambda runtime-interface bootstrap for one execution environment running as a subprocess.

On AWS (and in LocalStack's Docker mode) a Go binary sits between the platform and the runtime; we
cannot download it, so this module plays its part for Python functions. It speaks LocalStack's
executor protocol (see localstack/services/lambda_/invocation/executor_endpoint.py):

* at start-up it imports the handler (the "init" phase, as the AWS Python runtime does) and POSTs
  ``{runtime_endpoint}/status/{id}/ready`` with the port of its invoke server, or
  ``.../status/{id}/error`` with an AWS-shaped error payload (e.g. Runtime.ImportModuleError);
* it serves ``POST /invoke`` (LocalStack sends ``invoke-id``, ``invoked-function-arn``,
  ``payload``, ``trace-id``) and runs the handler on the main thread with a Lambda context object;
* it POSTs ``.../invocations/{request_id}/response`` or ``.../error``.

Everything the function prints (stdout, stderr, the logging module, C extensions writing to fd 1/2)
goes to the process's stdout pipe, which the executor reads; START/END/REPORT lines are written
here and each invocation ends with ``DONE_MARKER`` so the executor knows the pipe is drained.
Timeouts are enforced by the executor (it kills this process), not here: a handler stuck in C code
cannot be interrupted from inside.

Runs with ``python -I -S``: standard library only, nothing from the host leaks in. This module is
also imported by the executor (for DONE_MARKER), so it does nothing at import time.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import queue
import sys
import threading
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DONE_MARKER = "\x1e__localstack_invocation_done__"
"""Written alone on a line after each invocation's output (never reaches CloudWatch)."""

_BOOTSTRAP_FILE = os.path.abspath(__file__)


class LambdaContext:
    """The context object the AWS Python runtime passes to handlers (same attribute names/types)."""

    def __init__(self, request_id: str, invoked_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # a string on AWS too (it comes from the environment there as well)
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _RequestIdFilter(logging.Filter):
    """Adds ``aws_request_id`` to every record, as the AWS runtime's log format needs it."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _RequestIdFilter.request_id
        return True


class _OneEventFormatter(logging.Formatter):
    """Keep a multi-line record (e.g. a traceback) in one CloudWatch event, as the AWS runtime does."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\r")


def _configure_logging() -> None:
    """Install the root handler the AWS Python runtime installs (so basicConfig is a no-op there too)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        _OneEventFormatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())


def _post(url: str, body: bytes, content_type: str = "application/json") -> None:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", content_type)
    # never through a proxy: the endpoint is LocalStack on this machine
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        response.read()


def _error_payload(
    exc: BaseException, error_type: str | None = None, msg: str | None = None
) -> dict:
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(frame.filename) != _BOOTSTRAP_FILE
    ]
    return {
        "errorMessage": msg if msg is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(frames),
    }


def _log_error(payload: dict, request_id: str = "") -> None:
    """Log an error the way the AWS Python runtime does: one record, traceback included."""
    lines = [f"[ERROR] {payload['errorType']}: {payload['errorMessage']}"]
    if payload["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(entry.rstrip("\n") for entry in payload["stackTrace"])
    text = "\n".join(lines)
    _write(text.replace("\n", "\r") if request_id else text)


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def load_handler(spec: str) -> Any:
    """Import ``module.function`` like the AWS runtime; raise _RuntimeError with its error type."""
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise _RuntimeError(
            "Runtime.MalformedHandlerName", f"Bad handler '{spec}': {exc}", exc
        ) from exc
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _RuntimeError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}", exc
        ) from exc
    except SyntaxError as exc:
        raise _RuntimeError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", exc
        ) from exc
    except Exception as exc:
        raise _RuntimeError(type(exc).__name__, str(exc), exc, trace=True) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        missing = AttributeError(function_name)
        raise _RuntimeError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
            missing,
        )
    return handler


class _RuntimeError(Exception):
    """A failure the runtime reports with its own error type (Runtime.*), as AWS does."""

    def __init__(
        self, error_type: str, message: str, cause: BaseException, trace: bool = False
    ) -> None:
        super().__init__(message)
        self.payload = _error_payload(cause, error_type, message)
        if not trace:  # AWS shows no stack for import/handler-name errors
            self.payload["stackTrace"] = []


def _make_invoke_server(invocations: queue.Queue) -> ThreadingHTTPServer:
    class InvokeHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/invoke":
                self.send_response(404)
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length") or 0)
            invocations.put(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # keep function logs clean
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), InvokeHandler)
    threading.Thread(target=server.serve_forever, name="invoke-server", daemon=True).start()
    return server


def _exit_with_parent() -> None:
    """Exit if LocalStack dies without stopping us (we run in our own session, so nobody else would)."""
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


def peak_memory_mb(pid: int) -> int:
    """Peak RSS of this process image (VmHWM). Not getrusage: its ru_maxrss carries over the
    parent's peak across fork+exec, which would report LocalStack's memory as the function's."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        pass
    return 0


MEMORY_WARNING = "MEMORY_LIMIT_EXCEEDED"
"""Token of the log line written when an invocation's peak memory exceeds the function's Memory Size
(`make status` counts these lines)."""


def reset_peak_memory() -> None:
    """Start a new peak (VmHWM) for this invocation, so REPORT shows this invocation's own peak.

    Writing 5 to clear_refs resets the peak RSS to the current RSS (Linux >= 4.0); where that is
    not allowed the peak stays the process's lifetime peak, which can only over-report.
    """
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def memory_warning(request_id: str, peak_mb: int, memory_mb: int) -> str | None:
    """The warning line when ``peak_mb`` exceeds ``memory_mb``: AWS would kill such an invocation
    (Runtime.OutOfMemory) while nothing enforces the limit locally, so it must not pass silently."""
    if peak_mb <= memory_mb:
        return None
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    return (
        f"[WARNING]\t{stamp}Z\t{request_id}\t{MEMORY_WARNING}: Max Memory Used {peak_mb} MB exceeds "
        f"Memory Size {memory_mb} MB; on AWS this invocation would end with Runtime.OutOfMemory "
        "(memory is not enforced locally)"
    )


def _report(request_id: str, started: float, init_ms: float | None, status: str = "") -> None:
    duration_ms = (time.perf_counter() - started) * 1000
    max_rss_mb = peak_memory_mb(os.getpid())
    memory = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
    warning = memory_warning(request_id, max_rss_mb, int(memory))
    if warning:
        _write(warning)
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {memory} MB\t"
        f"Max Memory Used: {max_rss_mb} MB"
    )
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    if status:
        report += f"\tStatus: {status}"
    _write(f"END RequestId: {request_id}")
    _write(report)


def _invoke(handler: Any, invocation: dict, endpoint: str, init_ms: float | None) -> None:
    request_id = invocation["invoke-id"]
    timeout_s = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    deadline_ms = int(time.time() * 1000 + timeout_s * 1000)
    os.environ["_X_AMZN_TRACE_ID"] = invocation.get("trace-id") or ""
    _RequestIdFilter.request_id = request_id
    version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    _write(f"START RequestId: {request_id} Version: {version}")
    reset_peak_memory()
    started = time.perf_counter()
    context = LambdaContext(request_id, invocation.get("invoked-function-arn", ""), deadline_ms)
    status = ""
    try:
        raw = invocation.get("payload")
        event = json.loads(raw) if raw else {}
        result = handler(event, context)
        try:
            body = json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            raise _RuntimeError(
                "Runtime.MarshalError", f"Unable to marshal response: {exc}", exc
            ) from exc
        outcome = "response"
    except _RuntimeError as exc:
        body, outcome, status = json.dumps(exc.payload).encode(), "error", "error"
        _log_error(exc.payload, request_id)
    except Exception as exc:
        payload = _error_payload(exc)
        payload["requestId"] = request_id
        body, outcome, status = json.dumps(payload).encode(), "error", "error"
        _log_error(payload, request_id)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    _report(request_id, started, init_ms, status)
    _write(DONE_MARKER)
    _RequestIdFilter.request_id = ""
    _post(f"{endpoint}/invocations/{request_id}/{outcome}", body)


def main() -> None:
    """Init phase, then serve invocations one at a time until killed."""
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    os.chdir(task_root)
    # AWS order: function code first, then the runtime's own packages (boto3) after the stdlib
    sys.path.insert(0, task_root)
    runtime_site = os.environ.get("LAMBDA_RUNTIME_SITE")
    if runtime_site:
        sys.path.append(runtime_site)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    threading.Thread(target=_exit_with_parent, name="parent-watch", daemon=True).start()

    endpoint = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]
    runtime_id = os.environ["LOCALSTACK_RUNTIME_ID"]
    runtime = os.environ.get("LOCALSTACK_SUBPROCESS_RUNTIME", "python")
    _write(f"INIT_START Runtime Version: {runtime}.subprocess")
    _configure_logging()
    init_started = time.perf_counter()
    spec = os.environ.get("_HANDLER", "")
    reloader = _hot_reloader()
    if reloader is not None:
        _reload(reloader)
    try:
        handler = load_handler(spec)
    except _RuntimeError as exc:
        _log_error(exc.payload)
        _post(f"{endpoint}/status/{runtime_id}/error", json.dumps(exc.payload).encode())
        sys.exit(1)
    init_ms: float | None = (time.perf_counter() - init_started) * 1000

    invocations: queue.Queue = queue.Queue()
    server = _make_invoke_server(invocations)
    ready = {"port": server.server_address[1]}
    _post(f"{endpoint}/status/{runtime_id}/ready", json.dumps(ready).encode())
    while True:
        invocation = invocations.get()
        if reloader is not None and (_reload(reloader) or getattr(handler, "broken", False)):
            handler = _load_or_fail(spec)
        _invoke(handler, invocation, endpoint, init_ms)
        init_ms = None


# -- hot reload (make dev): see hot_reload.py ---------------------------------------------------
def _hot_reloader() -> Any:
    """The Reloader when the executor named a sources file, else None (always None on AWS).

    hot_reload.py is loaded by path: with ``-I`` this file's directory is not on sys.path, and
    putting it there would expose the executor's modules to the function."""
    sources_file = os.environ.get("LAMBDA_SUBPROCESS_HOT_RELOAD_FILE")
    if not sources_file:
        return None
    path = os.path.join(os.path.dirname(_BOOTSTRAP_FILE), "hot_reload.py")
    spec = importlib.util.spec_from_file_location("_lambda_hot_reload", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  # dataclasses needs it there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.Reloader(sources_file)


def _reload(reloader: Any) -> bool:
    """Swap in the working tree's code if it changed since it was loaded; True if it did."""
    try:
        pending = reloader.pending()
    except ValueError as exc:  # a broken sources file: say so, keep the code we have
        _write(f"[WARNING] hot reload: {exc}")
        return False
    if pending is None:
        return False
    paths, state = pending
    dropped = reloader.apply(paths, state)
    where = ", ".join(paths) if paths else "the deployed code"
    _write(f"HOT_RELOAD loading {', '.join(dropped) or 'first-party code'} from {where}")
    return True


def _load_or_fail(spec: str) -> Any:
    """Import the handler again; if that fails, a handler that reports the failure (e.g.
    Runtime.UserCodeSyntaxError) on this invocation and is retried on the next one."""
    try:
        return load_handler(spec)
    except _RuntimeError as exc:
        error = exc  # `exc` is unbound when the except block ends; the closure keeps `error`

        def broken(event: Any, context: Any) -> Any:
            raise error

        broken.broken = True  # type: ignore[attr-defined]
        return broken


if __name__ == "__main__":
    main()
