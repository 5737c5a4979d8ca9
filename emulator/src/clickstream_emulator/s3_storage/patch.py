"""Each LocalStack instance keeps its S3 object bytes in its own directory.

LocalStack 4.14's S3 provider stores object data in ``/tmp/localstack-s3-storage/<bucket>``, a
path fixed in ``localstack.services.s3.provider.DEFAULT_S3_TMP_DIR`` whatever TMPDIR says. Two
host-mode stacks on one machine (a second checkout on another ``LOCALSTACK_PORT``,
``bench.bench_devloop``'s baseline clone) deploy the same bucket names, so one stack's bucket
cleanup deleted the other's objects. ``scripts/stack.py`` gives every instance its own TMPDIR
(``.local/localstack/tmp``); this hook points the S3 store there before the services load.

Private LocalStack code is patched: the version is pinned (localstack-core 4.14.0) and
tests/stack/test_s3_storage_patch.py fails if the constant moves or stops being used.
"""

from __future__ import annotations

import os
import tempfile

from localstack.runtime import hooks

#: Where LocalStack 4.14 keeps S3 object data unless told otherwise.
LOCALSTACK_DEFAULT = "/tmp/localstack-s3-storage"


def storage_dir(tmp: str | None = None) -> str:
    """This instance's S3 data directory: under its own temporary directory."""
    return os.path.join(tmp or tempfile.gettempdir(), "localstack-s3-storage")


def install(tmp: str | None = None) -> str:
    """Point the S3 provider's object store at :func:`storage_dir`; returns the directory."""
    from localstack.services.s3 import provider

    provider.DEFAULT_S3_TMP_DIR = storage_dir(tmp)
    return provider.DEFAULT_S3_TMP_DIR


# Before eager_load_services (priority 0) creates the S3 provider, which reads the constant.
@hooks.on_infra_start(priority=100)
def _s3_storage_per_instance() -> None:
    install()
