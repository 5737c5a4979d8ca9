"""plux entry point: LocalStack loads this as the ``firehose:clickstream`` service provider
(selected with ``PROVIDER_OVERRIDE_FIREHOSE=clickstream``)."""

from __future__ import annotations

from localstack.services.plugins import Service, aws_provider


@aws_provider(api="firehose", name="clickstream")
def firehose() -> Service:
    # imported lazily, like LocalStack's own providers: loading the plugin index stays cheap
    from clickstream_emulator.firehose.provider import ClickstreamFirehoseProvider

    return Service.for_provider(ClickstreamFirehoseProvider())
