#!/usr/bin/env bash
# `make up` runs this first: every tool the local stack needs, checked before anything starts, so
# a missing one is named in one line (with how to get it) instead of surfacing as a later,
# misleading failure (e.g. tflocal's error followed by "terraform init failed").
#   terraform >= 1.5          applies infra/ (through tflocal)
#   Python >= 3.13            runs LocalStack 4.14 (scripts/stack.sh) and the project venv
#   python<X.Y> per Lambda runtime (LAMBDA_PYTHON_RUNTIMES, default python3.12): runs the function
# Exit 1 listing everything missing; quiet when all is there.
set -uo pipefail

missing=()

if ! command -v terraform >/dev/null 2>&1; then
  missing+=("terraform not found on PATH: install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)")
else
  tf_version="$(terraform version 2>/dev/null | head -1)"
  if [[ "$tf_version" =~ v([0-9]+)\.([0-9]+) ]] &&
    ((BASH_REMATCH[1] < 1 || (BASH_REMATCH[1] == 1 && BASH_REMATCH[2] < 5))); then
    missing+=("terraform on PATH is older than 1.5 ($tf_version): install Terraform >= 1.5")
  fi
fi

has_python() { # has_python <X.Y>: on PATH or under pyenv, and it runs
  local c
  for c in "python$1" "$HOME"/.pyenv/versions/"$1".*/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys' >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

if ! has_python 3.13 && ! has_python 3.14; then
  missing+=("Python >= 3.13 not found (LocalStack 4.14 needs it): put python3.13 on PATH or 'pyenv install 3.13'")
fi

IFS=',' read -ra runtimes <<<"${LAMBDA_PYTHON_RUNTIMES:-python3.12}"
for runtime in "${runtimes[@]}"; do
  version="${runtime#python}"
  version="${version// /}"
  if ! has_python "$version"; then
    missing+=("Python $version not found (the Lambda runtime $runtime runs on it): put python$version on PATH or 'pyenv install $version'")
  fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
  for line in "${missing[@]}"; do
    echo "make up: missing prerequisite: $line" >&2
  done
  exit 1
fi
