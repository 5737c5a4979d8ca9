#!/usr/bin/env bash
# The one place that finds a Python interpreter for this project.
#   scripts/python.sh [VERSION]   prints the absolute path of a working CPython VERSION
# VERSION defaults to .python-version (the project's one Python: the .venv, LocalStack's
# .venv-localstack, checkov's venv and the Lambda runtime python<VERSION> all use it).
# Looks on PATH (pythonVERSION), then in ~/.pyenv/versions/VERSION.*; exit 1 with one line on
# stderr when none is found. The path printed is the real binary (sys.executable), not a shim.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${1:-$(tr -d '[:space:]' <"$root/.python-version")}"

candidates=()
if command -v "python$version" >/dev/null 2>&1; then
  candidates+=("$(command -v "python$version")")
fi
for candidate in "$HOME"/.pyenv/versions/"$version".*/bin/"python$version"; do
  [[ -x "$candidate" ]] && candidates+=("$candidate")
done
for candidate in ${candidates[@]+"${candidates[@]}"}; do
  # A pyenv shim exists even when the version it points to is not installed: ask the interpreter.
  found="$("$candidate" -I -c 'import sys; print(sys.executable, "%d.%d" % sys.version_info[:2])' 2>/dev/null)" || continue
  if [[ "${found##* }" == "$version" ]]; then
    echo "${found% *}"
    exit 0
  fi
done
echo "error: Python $version not found: put python$version on PATH or \`pyenv install $version\`" >&2
exit 1
