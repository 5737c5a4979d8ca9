#!/usr/bin/env bash
# `make up` runs this first: every tool the local stack needs, checked before anything starts, so
# a missing one is named in one line (with how to get it) instead of surfacing as a later,
# misleading failure (e.g. tflocal's error followed by "terraform init failed").
#   terraform >= 1.7          applies infra/ (through tflocal); infra/versions.tf requires it
#   Python <.python-version>  the project's one Python: the venv, LocalStack 4.14, the Lambda runtime
#   python<X.Y> per extra Lambda runtime in LAMBDA_PYTHON_RUNTIMES (default: the project's)
#   host mode: an x86_64 Linux machine (the Lambda's zip holds x86_64 Linux wheels and host mode
#              runs it in a local Python process; docker mode runs it in a linux/amd64 container)
# Exit 1 listing everything missing; quiet when all is there.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project_python="$(tr -d '[:space:]' <"$here/../.python-version")"

missing=()

if ! command -v terraform >/dev/null 2>&1; then
  missing+=("terraform not found on PATH: install Terraform >= 1.7 (https://developer.hashicorp.com/terraform/install)")
else
  tf_version="$(terraform version 2>/dev/null | head -1)"
  if [[ "$tf_version" =~ v([0-9]+)\.([0-9]+) ]] &&
    ((BASH_REMATCH[1] < 1 || (BASH_REMATCH[1] == 1 && BASH_REMATCH[2] < 7))); then
    missing+=("terraform on PATH is older than 1.7 ($tf_version): install Terraform >= 1.7")
  fi
fi

versions=("$project_python")
IFS=',' read -ra runtimes <<<"${LAMBDA_PYTHON_RUNTIMES:-python$project_python}"
for runtime in "${runtimes[@]}"; do
  version="${runtime#python}"
  version="${version// /}"
  [[ " ${versions[*]} " == *" $version "* ]] || versions+=("$version")
done
for version in "${versions[@]}"; do
  if ! "$here/python.sh" "$version" >/dev/null 2>&1; then
    missing+=("Python $version not found (the project's venv, LocalStack and the Lambda runtime python$version run on it): put python$version on PATH or 'pyenv install $version'")
  fi
done

if [[ "${STACK_MODE:-host}" == host ]]; then
  os_name="$(uname -s)"
  machine="$(uname -m)"
  if [[ "$os_name" != Linux || "$machine" != x86_64 ]]; then
    missing+=("host mode runs the Lambda's zip (x86_64 Linux wheels: pyarrow, DuckDB) in a local Python process, which cannot load them on $os_name $machine: start Docker (docker mode runs it in a linux/amd64 container) or use an x86_64 Linux machine")
  fi
fi

if [[ ${#missing[@]} -gt 0 ]]; then
  for line in "${missing[@]}"; do
    echo "make up: missing prerequisite: $line" >&2
  done
  exit 1
fi
