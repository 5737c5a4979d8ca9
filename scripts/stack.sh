#!/usr/bin/env bash
# Docker-less local AWS stack: LocalStack as a host process (see scripts/stack.py for the details).
#   scripts/stack.sh install|start|stop|restart|status|logs [-f]|mode|env|port
# Runs scripts/stack.py with the project's Python (scripts/python.sh: .python-version, 3.13);
# `install` creates the LocalStack venv with it.
# Why 3.13: localstack-core 4.14.0 imports warnings.deprecated (new in 3.13) although its metadata
# says >=3.10; on 3.12 S3, Lambda, SQS... fail to load. The Docker image runs 3.13 too.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

py="$("$here/python.sh")"
# -I: the user's PYTHONPATH / user site-packages must not change what the stack script does
exec "$py" -I "$here/stack.py" "$@"
