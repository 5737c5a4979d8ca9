#!/usr/bin/env python3
"""Switch the local Lambda between the deployed zip and the working tree (`make dev` / `make up`).

  scripts/hot_reload.py on      the transformer runs services/transformer + services/common
                                from this checkout; an edit is live on the next object
  scripts/hot_reload.py off     back to the deployed zip (what `make up` does)
  scripts/hot_reload.py status

Writes or removes ``.local/lambda-runtime/hot-reload.json``, which the subprocess executor's
runtime reads before each invocation (emulator/src/clickstream_emulator/lambda_executor/
hot_reload.py): no LocalStack restart and no redeploy to switch. Host mode only; nothing of it
reaches AWS. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: scripts/stack.py's RUNTIME_ROOT (LAMBDA_SUBPROCESS_RUNTIME_ROOT) + hot_reload.SOURCES_FILE_NAME
SOURCES_FILE = ROOT / ".local" / "lambda-runtime" / "hot-reload.json"
#: What the zip's first-party packages are built from (scripts/build_lambda.py PACKAGES).
SOURCE_DIRS = (ROOT / "services" / "transformer", ROOT / "services" / "common")


def turn_on() -> str:
    if not SOURCES_FILE.parent.is_dir():
        raise SystemExit(
            f"hot_reload: {SOURCES_FILE.parent} does not exist: hot reload needs the host-mode "
            "stack (make up with STACK_MODE=host)"
        )
    tmp = SOURCES_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps({"paths": [str(d) for d in SOURCE_DIRS]}, indent=2) + "\n")
    tmp.replace(SOURCES_FILE)  # atomic: the runtime never reads half a file
    return "hot reload on: the Lambda runs " + ", ".join(
        str(d.relative_to(ROOT)) for d in SOURCE_DIRS
    )


def turn_off() -> str:
    SOURCES_FILE.unlink(missing_ok=True)
    return "hot reload off: the Lambda runs the deployed zip"


def status() -> str:
    return "hot reload on" if SOURCES_FILE.is_file() else "hot reload off"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hot_reload.py", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["on", "off", "status"])
    args = parser.parse_args(argv)
    action = {"on": turn_on, "off": turn_off, "status": status}[args.command]
    print(action())
    return 0


if __name__ == "__main__":
    sys.exit(main())
