"""emulator/s3_storage: every LocalStack instance keeps its S3 object bytes under its own TMPDIR.

Runs in LocalStack's own venv: the S3 provider created after the hook stores objects in the
instance's directory, not in LocalStack's fixed /tmp path. Fails if the private constant the
patch sets moves or stops deciding where the provider stores data (localstack-core 4.14.0).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests import localstack_code

# LocalStack's own code runs here (tests/localstack_code.py: .venv-localstack, or the docker-mode
# image), installed by `make up`, so this runs with the e2e suite.
pytestmark = pytest.mark.e2e

PROBE = r"""
import json, sys
from localstack.services.s3 import provider
from clickstream_emulator.s3_storage.patch import LOCALSTACK_DEFAULT, install

before = provider.DEFAULT_S3_TMP_DIR
chosen = install(sys.argv[1])
store = provider.S3Provider()._storage_backend
print(json.dumps({"before": before, "default": LOCALSTACK_DEFAULT, "chosen": chosen,
                  "root": str(store.root_directory)}))
"""


def test_the_s3_store_lives_under_the_instance_tmpdir(tmp_path: Path) -> None:
    if not localstack_code.installed():
        pytest.fail(localstack_code.missing(), pytrace=False)
    where = localstack_code.SCRATCH if localstack_code.DOCKER else str(tmp_path)
    proc = subprocess.run(
        localstack_code.python("-c", PROBE, where),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["before"] == found["default"], "LocalStack's default moved: re-check the patch"
    assert found["chosen"] == f"{where}/localstack-s3-storage"
    assert found["root"] == found["chosen"], "the provider no longer stores where the constant says"
