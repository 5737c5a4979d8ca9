"""The Glue provider: operations that moto does not answer as AWS does are implemented here.

moto stores the catalog (databases, tables, partitions, crawlers, security configurations, tags)
and answers what Terraform's aws provider needs for them as AWS does (create/read/update/delete
round-trip, a second apply is a no-op; ``tests/e2e/test_glue_catalog.py``). Crawlers are where it
falls short: moto's StartCrawler only flips a state and catalogs nothing. Here StartCrawler runs a
real crawl (``crawler.py``) and the crawler read operations report its State and LastCrawl.
"""

from __future__ import annotations

import threading
from typing import Any

from localstack.aws.api import CommonServiceException, RequestContext, handler
from localstack.aws.connect import connect_to
from localstack.services.moto import call_moto
from localstack.services.plugins import ServiceLifecycleHook

from clickstream_emulator.glue.crawler import REGISTRY, crawl


def _error(code: str, message: str) -> CommonServiceException:
    return CommonServiceException(code=code, message=message, status_code=400, sender_fault=True)


def _backend(context: RequestContext) -> Any:
    from moto.glue.models import glue_backends

    return glue_backends[context.account_id][context.region]


def _key(context: RequestContext, name: str) -> tuple[str, str, str]:
    return (context.account_id, context.region, name)


class GlueProvider(ServiceLifecycleHook):
    """Every Glue operation not decorated with ``@handler`` here is answered by moto."""

    service = "glue"

    # ------------------------------------------------------------------ crawls
    @handler("StartCrawler", expand=False)
    def start_crawler(self, context: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["Name"]
        backend = _backend(context)
        if name not in backend.crawlers:
            raise _error(
                "EntityNotFoundException", f"Crawler entry with name {name} does not exist"
            )
        run = REGISTRY.begin(_key(context, name))
        if run is None:
            raise _error("CrawlerRunningException", f"Crawler with name {name} has already started")
        clients = connect_to(aws_access_key_id=context.account_id, region_name=context.region)
        threading.Thread(
            target=crawl,
            args=(backend, clients.s3, clients.logs, clients.glue, name, run),
            name=f"glue-crawl-{name}",
            daemon=True,
        ).start()
        return {}

    @handler("StopCrawler", expand=False)
    def stop_crawler(self, context: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["Name"]
        if name not in _backend(context).crawlers:
            raise _error(
                "EntityNotFoundException", f"Crawler entry with name {name} does not exist"
            )
        run = REGISTRY.current(_key(context, name))
        if run is None:
            raise _error("CrawlerNotRunningException", f"Crawler with name {name} isn't running")
        if run.state == "STOPPING":
            raise _error("CrawlerStoppingException", f"Crawler with name {name} is stopping")
        run.stop.set()
        run.state = "STOPPING"
        return {}

    @handler("DeleteCrawler", expand=False)
    def delete_crawler(self, context: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        name = request["Name"]
        if REGISTRY.current(_key(context, name)) is not None:
            raise _error("CrawlerRunningException", f"Crawler with name {name} is running")
        response = call_moto(context)
        REGISTRY.forget(_key(context, name))
        return response

    # ------------------------------------------------------------------ what a crawl reports
    @handler("GetCrawler", expand=False)
    def get_crawler(self, context: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        response = call_moto(context)
        REGISTRY.decorate(_key(context, request["Name"]), response["Crawler"])
        return response

    @handler("GetCrawlers", expand=False)
    def get_crawlers(self, context: RequestContext, request: dict[str, Any]) -> dict[str, Any]:
        return _decorated_crawlers(context)

    @handler("BatchGetCrawlers", expand=False)
    def batch_get_crawlers(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        return _decorated_crawlers(context)

    @handler("GetCrawlerMetrics", expand=False)
    def get_crawler_metrics(
        self, context: RequestContext, request: dict[str, Any]
    ) -> dict[str, Any]:
        names = request.get("CrawlerNameList") or sorted(_backend(context).crawlers)
        return {"CrawlerMetricsList": [REGISTRY.metrics(_key(context, n)) for n in names]}


def _decorated_crawlers(context: RequestContext) -> dict[str, Any]:
    """moto's answer listing crawlers, each with the run state our registry keeps."""
    response: dict[str, Any] = call_moto(context)
    for crawler in response.get("Crawlers") or []:
        REGISTRY.decorate(_key(context, crawler["Name"]), crawler)
    return response
