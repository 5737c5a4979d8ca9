"""What GetCrawler/GetCrawlerMetrics report about crawl runs (clickstream_emulator.glue.crawler)."""

from __future__ import annotations

from clickstream_emulator.glue.crawler import LOG_GROUP, CrawlRegistry

KEY = ("000000000000", "us-east-1", "c")


def test_a_crawler_is_ready_then_running_then_ready_with_its_last_crawl() -> None:
    registry = CrawlRegistry()
    assert registry.decorate(KEY, {"State": "READY"}) == {"State": "READY", "CrawlElapsedTime": 0}

    run = registry.begin(KEY)
    assert run is not None and registry.begin(KEY) is None  # CrawlerRunningException
    assert registry.decorate(KEY, {})["State"] == "RUNNING"
    run.state = "STOPPING"
    assert registry.decorate(KEY, {})["State"] == "STOPPING"
    assert registry.metrics(KEY)["StillEstimating"] is True

    run.state, run.error, run.tables_created = "FAILED", "HIVE_PARTITION_SCHEMA_MISMATCH: x", 1
    crawler = registry.decorate(KEY, {"LastCrawl": {"Status": "moto's"}})
    assert crawler["State"] == "READY"
    assert crawler["LastCrawl"]["Status"] == "FAILED"
    assert crawler["LastCrawl"]["ErrorMessage"].startswith("HIVE_PARTITION_SCHEMA_MISMATCH")
    assert crawler["LastCrawl"]["LogGroup"] == LOG_GROUP
    assert crawler["LastCrawl"]["LogStream"] == "c"
    assert crawler["LastCrawl"]["MessagePrefix"] == run.crawl_id
    metrics = registry.metrics(KEY)
    assert metrics["TablesCreated"] == 1 and metrics["StillEstimating"] is False
    assert metrics["LastRuntimeSeconds"] >= 0

    second = registry.begin(KEY)
    assert second is not None and second is not run
    second.state = "SUCCEEDED"
    assert "ErrorMessage" not in registry.decorate(KEY, {})["LastCrawl"]
    registry.forget(KEY)
    assert "LastCrawl" not in registry.decorate(KEY, {})
