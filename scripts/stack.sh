#!/usr/bin/env bash
# Docker-less local AWS stack: LocalStack as a host process (see scripts/stack.py for the details).
#   scripts/stack.sh install|start|stop|restart|status|logs [-f]|mode|env
# Finds a Python >= 3.13 (python3.13/python3.14 on PATH, else ~/.pyenv/versions/3.13*|3.14*) and
# runs scripts/stack.py with it; `install` creates the LocalStack venv with that Python.
# Why 3.13: localstack-core 4.14.0 imports warnings.deprecated (new in 3.13) although its metadata
# says >=3.10; on 3.12 S3, Lambda, SQS... fail to load. The Docker image runs 3.13 too.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

find_python() {
  local candidate
  for candidate in python3.13 python3.14; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  for candidate in "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.14*/bin/python3; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if ! py="$(find_python)"; then
  echo "error: Python >= 3.13 not found (LocalStack 4.14 needs it): put python3.13 on PATH or pyenv install 3.13" >&2
  exit 1
fi
# -I: the user's PYTHONPATH / user site-packages must not change what the stack script does
exec "$py" -I "$here/stack.py" "$@"
