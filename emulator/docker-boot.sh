#!/bin/bash
# Docker mode: installs our LocalStack extensions (this folder, mounted at /opt/clickstream-emulator)
# into the image's own environment before LocalStack starts (LocalStack runs /etc/localstack/init/boot.d
# scripts first). Host mode does the same in `scripts/stack.sh install`.
set -euo pipefail
/opt/code/localstack/.venv/bin/python -m pip install -q --no-deps --no-build-isolation /opt/clickstream-emulator
# The Glue crawler reads Parquet footers with pyarrow; the image does not ship it. Same pin as
# requirements/localstack-lock.txt (host mode), dev.txt and lambda.txt (tests/stack/test_glue_pins.py).
/opt/code/localstack/.venv/bin/python -m pip install -q --only-binary=:all: pyarrow==26.0.1
