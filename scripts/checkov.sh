#!/usr/bin/env bash
# Static security analysis of infra/ with checkov (PyPI), in its own virtualenv (.venv-checkov):
# checkov pins dependency versions that conflict with the project's dev tools.
# The venv is (re)created from requirements/checkov.txt whenever that lock or .python-version changes.
# Every remaining finding must be fixed or skipped in code: `#checkov:skip=CKV_...:reason`.
#
# Usage: scripts/checkov.sh [extra checkov args]      exit status = checkov's (0 = no failed check)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-checkov"
LOCK="$ROOT/requirements/checkov.txt"
STAMP="$VENV/.lock.sha256"

py="$("$ROOT/scripts/python.sh")"
# The venv is rebuilt when the lock or the project's Python version changes.
want="$(sha256sum "$LOCK" | cut -d' ' -f1) $(cat "$ROOT/.python-version")"
if [[ ! -x "$VENV/bin/checkov" || "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
  echo "checkov.sh: installing checkov into .venv-checkov from requirements/checkov.txt" >&2
  rm -rf "$VENV"
  "$py" "$ROOT/scripts/venv_install.py" --create --no-pip "$VENV" >&2
  "$py" "$ROOT/scripts/venv_install.py" "$VENV" -r "$LOCK" >&2
  echo "$want" >"$STAMP"
fi

# --skip-download: no calls to the Prisma Cloud API (offline machines, CI without secrets).
# localstack_providers_override.tf exists only while tflocal runs; it holds no resources.
exec "$VENV/bin/checkov" \
  --directory "$ROOT/infra" \
  --framework terraform \
  --skip-download \
  --quiet \
  --compact \
  --skip-path localstack_providers_override.tf \
  "$@"
