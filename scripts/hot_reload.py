#!/usr/bin/env python3
"""Switch the local Lambda between the deployed zip and the working tree (`make dev` / `make up`).

  scripts/hot_reload.py on      the transformer runs services/transformer + services/common
                                from this checkout; an edit is live on the next object
  scripts/hot_reload.py off     back to the deployed zip (what `make up` does)
  scripts/hot_reload.py status

Writes or removes ``.local/hot-reload/hot-reload.json``, which the subprocess executor's
runtime reads before each invocation (emulator/src/clickstream_emulator/lambda_executor/
hot_reload.py): no LocalStack restart and no redeploy to switch. Both stack modes: the paths in
the file are relative to its directory, and docker mode mounts that directory and services/ into
the LocalStack container at the same places relative to each other (docker-compose.yml). Nothing
of it reaches AWS. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: LAMBDA_SUBPROCESS_HOT_RELOAD_FILE of the host-mode LocalStack (scripts/stack.py), and the
#: file that docker-compose.yml mounts into the container.
SOURCES_FILE = ROOT / ".local" / "hot-reload" / "hot-reload.json"
#: What the zip's first-party packages are built from (scripts/build_lambda.py PACKAGES).
SOURCE_DIRS = (ROOT / "services" / "transformer", ROOT / "services" / "common")


def turn_on() -> str:
    SOURCES_FILE.parent.mkdir(parents=True, exist_ok=True)
    paths = [os.path.relpath(d, SOURCES_FILE.parent) for d in SOURCE_DIRS]
    tmp = SOURCES_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps({"paths": paths}, indent=2) + "\n")
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
