"""The Athena provider: operations that moto does not answer as AWS does are implemented here."""

from __future__ import annotations

from localstack.services.plugins import ServiceLifecycleHook


class AthenaProvider(ServiceLifecycleHook):
    """Every Athena operation not decorated with ``@handler`` here is answered by moto."""

    service = "athena"
