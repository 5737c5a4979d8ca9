"""Run by tests/e2e/test_athena_clients.py in .venv-clients: awswrangler, unchanged, on the local
stack (AWS_ENDPOINT_URL). Reads the same SQL three ways and prints JSON for the test to check:
its defaults (a CTAS into a temp table, the Parquet files its manifest lists), ctas_approach=False
(the result CSV) and unload_approach=True (UNLOAD's Parquet)."""

from __future__ import annotations

import json
import sys

import awswrangler as wr
import pandas as pd


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def main() -> None:
    sql, database, unload_path = sys.argv[1], sys.argv[2], sys.argv[3]
    default = wr.athena.read_sql_query(sql, database=database)
    plain = wr.athena.read_sql_query(sql, database=database, ctas_approach=False)
    unloaded = wr.athena.read_sql_query(
        sql, database=database, ctas_approach=False, unload_approach=True, s3_output=unload_path
    )
    # Athena writes CTAS timestamps as INT96, which pyarrow reads at ns, while pandas parses the
    # CSV's timestamps at us: the one dtype difference of the two paths, on AWS as here.
    difference = ""
    try:
        pd.testing.assert_frame_equal(default, plain, check_dtype=False)
    except AssertionError as err:
        difference = str(err)
    dtype_differences = {
        c: [str(default[c].dtype), str(plain[c].dtype)]
        for c in default.columns
        if str(default[c].dtype) != str(plain[c].dtype)
    }
    print(
        json.dumps(
            {
                "default_equals_plain": not difference,
                "difference": difference,
                "dtype_differences": dtype_differences,
                "default": records(default),
                "plain": records(plain),
                "unload": records(unloaded),
                "dtypes": {c: str(t) for c, t in default.dtypes.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
