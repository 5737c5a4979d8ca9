"""A LocalStack service for an AWS API that LocalStack community does not serve, backed by moto.

LocalStack 4.14 community answers 501 for Glue and Athena, although the moto it ships (moto-ext)
has backends for both. A LocalStack service is a ``Skeleton`` (the botocore service model) over a
dispatch table: here every operation of the model goes to moto through LocalStack's public
``call_moto``, except the operations a provider implements itself with ``@handler``; such a
method may raise ``NotImplementedError`` to fall through to moto for a request it does not own.
"""

from __future__ import annotations

from localstack.aws.api import RequestContext, ServiceRequest, ServiceResponse
from localstack.aws.forwarder import ForwardingFallbackDispatcher
from localstack.aws.spec import load_service
from localstack.services.moto import call_moto
from localstack.services.plugins import Service, ServiceProvider


def forward_to_moto(context: RequestContext, request: ServiceRequest) -> ServiceResponse:
    """Answer the request with moto's backend for its service (the request is already parsed)."""
    return call_moto(context)


def moto_backed_service(provider: ServiceProvider) -> Service:
    """A service named ``provider.service``: the provider's ``@handler`` methods, moto for the rest."""
    model = load_service(provider.service)
    table = ForwardingFallbackDispatcher(provider, forward_to_moto)
    for operation in model.operation_names:
        table.setdefault(operation, forward_to_moto)
    return Service.for_provider(provider, dispatch_table_factory=lambda _provider: table)
