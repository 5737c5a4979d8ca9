"""Result columns DuckDB types as Athena never would: unsigned and 128-bit integers.

Trino has no unsigned integers; it widens each to the next signed type that holds every value
(``UBIGINT`` to ``decimal(20,0)``). The column info, the Glue types CTAS and views register, and
the values must agree on that, from a real DuckDB result.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from clickstream_emulator.athena import glue_shapes, results

UNSIGNED_AND_WIDE = (
    "SELECT 255::UTINYINT AS u8, 65535::USMALLINT AS u16, 4294967295::UINTEGER AS u32, "
    "18446744073709551615::UBIGINT AS u64, "
    "170141183460469231731687303715884105727::HUGEINT AS i128, 7::BIGINT AS i64, "
    "[1::UTINYINT, 2] AS u8s, {'n': 1::UBIGINT} AS row_u64, MAP {1::USMALLINT: 2::UINTEGER} AS m"
)


def duckdb_result() -> pa.Table:
    con = duckdb.connect()
    try:
        return con.sql(UNSIGNED_AND_WIDE).to_arrow_table()
    finally:
        con.close()


def test_duckdb_still_answers_these_types_unsigned() -> None:
    """The premise: if DuckDB stops, this file tests nothing and should change with it."""
    schema = duckdb_result().schema
    assert [schema.field(n).type for n in ("u8", "u16", "u32", "u64")] == [
        pa.uint8(),
        pa.uint16(),
        pa.uint32(),
        pa.uint64(),
    ]
    assert schema.field("i128").type == pa.decimal128(38, 0)


def test_column_info_gives_athenas_signed_types() -> None:
    columns = results.column_info(duckdb_result().schema)
    assert [(c["Name"], c["Type"], c["Precision"], c["Scale"]) for c in columns] == [
        ("u8", "smallint", 5, 0),
        ("u16", "integer", 10, 0),
        ("u32", "bigint", 19, 0),
        ("u64", "decimal", 20, 0),
        ("i128", "decimal", 38, 0),
        ("i64", "bigint", 19, 0),
        ("u8s", "array", 0, 0),
        ("row_u64", "row", 0, 0),
        ("m", "map", 0, 0),
    ]


def test_the_table_is_cast_once_so_values_glue_types_and_column_info_agree() -> None:
    table = results.athena_types(duckdb_result())
    assert table.schema.field("u64").type == pa.decimal128(20, 0)
    assert table.schema.field("u8s").type.value_type == pa.int16()
    assert table.schema.field("m").type.item_type == pa.int64()
    (row,) = results.athena_rows(table)
    assert row[:8] == [
        "255",
        "65535",
        "4294967295",
        "18446744073709551615",
        "170141183460469231731687303715884105727",
        "7",
        "[1, 2]",
        "{n=1}",
    ]
    assert [glue_shapes.hive_type(f.type) for f in table.schema] == [
        "smallint",
        "int",
        "bigint",
        "decimal(20,0)",
        "decimal(38,0)",
        "bigint",
        "array<smallint>",
        "struct<n:decimal(20,0)>",
        "map<int,bigint>",
    ]
    signed = pa.table({"n": pa.array([1], pa.int64())})
    assert results.athena_types(signed) is signed  # nothing to cast, nothing copied


def test_the_glue_type_of_an_uncast_column_is_the_same() -> None:
    assert glue_shapes.hive_type(pa.uint64()) == "decimal(20,0)"
    assert glue_shapes.hive_type(pa.list_(pa.uint8())) == "array<smallint>"


def test_each_primitive_has_its_athena_and_its_glue_name() -> None:
    """One column of each primitive type DuckDB returns: ColumnInfo's name and precision, and the
    Hive name Glue stores (which differs for text, 32-bit integers and bytes)."""
    con = duckdb.connect()
    try:
        table = con.sql(
            "SELECT 'a' AS s, 1::BIGINT AS i64, 1::INTEGER AS i32, 1::SMALLINT AS i16, "
            "1::TINYINT AS i8, 1::DOUBLE AS f64, 1::FLOAT AS f32, true AS b, "
            "TIMESTAMP '2024-12-25 10:00:00' AS ts, DATE '2024-12-25' AS d, 'x'::BLOB AS bin, "
            "1.50::DECIMAL(12, 2) AS dec"
        ).to_arrow_table()
    finally:
        con.close()
    got = {
        f.name: (*results.athena_type(f.type)[:2], glue_shapes.hive_type(f.type))
        for f in table.schema
    }
    assert got == {
        "s": ("varchar", 2147483647, "string"),
        "i64": ("bigint", 19, "bigint"),
        "i32": ("integer", 10, "int"),
        "i16": ("smallint", 5, "smallint"),
        "i8": ("tinyint", 3, "tinyint"),
        "f64": ("double", 17, "double"),
        "f32": ("float", 17, "float"),
        "b": ("boolean", 0, "boolean"),
        "ts": ("timestamp", 3, "timestamp"),
        "d": ("date", 0, "date"),
        "bin": ("varbinary", 1073741824, "binary"),
        "dec": ("decimal", 12, "decimal(12,2)"),
    }
