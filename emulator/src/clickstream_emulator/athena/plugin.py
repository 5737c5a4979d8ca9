"""plux entry point: LocalStack loads this as the ``athena:default`` service provider."""

from __future__ import annotations

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="athena")
def athena() -> Service:
    # imported lazily, like LocalStack's own providers: loading the plugin index stays cheap
    from clickstream_emulator.athena.provider import AthenaProvider
    from clickstream_emulator.moto_service import moto_backed_service

    return moto_backed_service(AthenaProvider())
