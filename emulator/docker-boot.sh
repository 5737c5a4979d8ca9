#!/bin/bash
# Docker mode: installs our LocalStack extensions (this folder, mounted at /opt/clickstream-emulator)
# into the image's own environment before LocalStack starts (LocalStack runs /etc/localstack/init/boot.d
# scripts first). Host mode does the same in `scripts/stack.sh install`.
set -euo pipefail
/opt/code/localstack/.venv/bin/python -m pip install -q --no-deps --no-build-isolation /opt/clickstream-emulator
# The local Athena runs SQL with services/athena_local, and the Glue crawler reads Parquet footers, (mounted at /opt/clickstream-local) on the
# duckdb/pyarrow/sqlglot versions pinned in requirements/dev.txt, as scripts/stack.py does in host mode.
pins=$(grep -iE '^(duckdb|pyarrow|sqlglot)==' /opt/clickstream-local/requirements/dev.txt)
# shellcheck disable=SC2086
/opt/code/localstack/.venv/bin/python -m pip install -q --only-binary=:all: $pins
# a copy, not -e: the mount is read-only and setuptools writes egg-info next to the sources
cp -r /opt/clickstream-local /tmp/clickstream-local
/opt/code/localstack/.venv/bin/python -m pip install -q --no-deps /tmp/clickstream-local
