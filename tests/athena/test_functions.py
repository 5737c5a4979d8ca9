"""Trino functions through the local Athena's engine (parse once, dispatch, translate, DuckDB).

The functions themselves are tested example by example in tests/queries/test_trino_functions.py;
this checks that every statement path of the engine parses with the function layer's parser
(a typed sqlglot call such as ``regexp_extract`` is expanded only then) and reports
``FUNCTION_NOT_FOUND`` as Athena does.
"""

from __future__ import annotations

import pytest

from clickstream_emulator.athena import engine
from clickstream_emulator.athena.results import USER

from .conftest import run
from .memory_catalog import MemoryCatalog


def test_a_query_runs_the_expansions(cat: MemoryCatalog) -> None:
    outcome = run(
        cat,
        "SELECT cardinality(map_agg(user_id, n)) AS users, "
        "count_if(regexp_extract(page_url, '^/(x)', 1) IS NULL) AS no_match "
        "FROM (SELECT user_id, page_url, count(*) AS n FROM events GROUP BY 1, 2)",
    )
    assert [(c["Name"], c["Type"]) for c in outcome.columns] == [
        ("users", "bigint"),
        ("no_match", "bigint"),
    ]
    assert outcome.rows == [["2", "2"]]


def test_a_view_over_an_expansion_is_expanded_when_read(cat: MemoryCatalog) -> None:
    run(cat, "CREATE VIEW hosts AS SELECT url_extract_path(page_url) AS path FROM events")
    assert run(cat, "SELECT count(*) FROM hosts WHERE path = '/'").rows == [["3"]]


def test_an_unknown_function_fails_with_athenas_function_not_found(cat: MemoryCatalog) -> None:
    with pytest.raises(engine.QueryFailed) as failure:
        run(cat, "SELECT user_id,\n       list_value(1) FROM events")
    assert (
        failure.value.reason == "FUNCTION_NOT_FOUND: line 2:8: Function 'list_value' not registered"
    )
    assert (failure.value.category, failure.value.state) == (USER, "FAILED")
    with pytest.raises(
        engine.QueryFailed, match=r"^FUNCTION_NOT_FOUND: line 1:8: Function 'st_area'"
    ):
        run(cat, "SELECT st_area(user_id) FROM events")


def test_ctas_translates_its_query_with_the_functions(cat: MemoryCatalog) -> None:
    run(
        cat,
        "CREATE TABLE t WITH (format = 'PARQUET') AS SELECT date_format(event_timestamp, '%Y') AS y FROM events",
    )
    assert run(cat, "SELECT DISTINCT y FROM t").rows == [["2024"]]
