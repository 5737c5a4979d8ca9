"""plux entry point: LocalStack loads this as the ``glue:default`` service provider."""

from __future__ import annotations

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="glue")
def glue() -> Service:
    # imported lazily, like LocalStack's own providers: loading the plugin index stays cheap
    from clickstream_emulator.glue.provider import GlueProvider
    from clickstream_emulator.moto_service import moto_backed_service

    return moto_backed_service(GlueProvider())
