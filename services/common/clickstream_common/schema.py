"""The event contract for the whole pipeline.

One module says what an event is, so the generator (which writes it), the transformer
(which validates and converts it) and the SQL (which reads it) cannot drift apart.
It is plain Python data so that the generator can import it without pyarrow; the Arrow
schema is built on demand by :func:`arrow_schema`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pyarrow as pa

LogicalType = Literal["string", "timestamp", "float64", "int32"]


@dataclass(frozen=True, slots=True)
class Field:
    """One column of the transformed table."""

    name: str
    type: LogicalType
    required: bool
    doc: str


#: Event types the pipeline accepts; anything else is quarantined as ``unknown_event_type``.
EVENT_TYPES: tuple[str, ...] = (
    "page_view",
    "search",
    "product_view",
    "add_to_cart",
    "remove_from_cart",
    "checkout",
    "purchase",
)

#: Columns kept in Parquet, in file order. Raw JSON uses the same names.
FIELDS: tuple[Field, ...] = (
    Field("event_id", "string", True, "Unique id from the SDK; the dedup key."),
    Field("event_type", "string", True, "One of EVENT_TYPES."),
    Field(
        "event_timestamp", "timestamp", True, "Event time, ISO-8601; stored as UTC microseconds."
    ),
    Field("user_id", "string", True, "Pseudonymous user id."),
    Field("session_id", "string", True, "Browser session id."),
    Field("page_url", "string", True, "Path of the page the event happened on."),
    Field("referrer", "string", False, "Referring URL, null for direct traffic."),
    Field("device_type", "string", False, "desktop | mobile | tablet (derived by the SDK)."),
    Field("browser", "string", False, "Browser family (derived from the user agent)."),
    Field("os", "string", False, "Operating system family (derived from the user agent)."),
    Field("country", "string", False, "ISO 3166-1 alpha-2 country code."),
    Field("city", "string", False, "City name."),
    Field("product_id", "string", False, "Product for product/cart/purchase events."),
    Field("price", "float64", False, "Unit price in USD."),
    Field("quantity", "int32", False, "Units for cart/purchase events."),
    Field("search_query", "string", False, "Search terms for search events."),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
#: The field that says when the event happened: partitions and the time-range rule use it.
EVENT_TIME_FIELD = "event_timestamp"
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)

#: Fields real SDKs send that the analytics do not need, and why they are dropped.
DROPPED_FIELDS: dict[str, str] = {
    "user_agent": "raw string; device_type/browser/os are already derived from it",
    "ip_address": "personal data (GDPR); country/city are already derived from it",
    "headers": "raw HTTP headers: bulky, may carry cookies or auth tokens",
    "sdk_version": "SDK diagnostics, not analytics",
    "debug": "SDK debug payload, not analytics",
}

#: Hive partition keys of the transformed table; values are zero-padded strings
#: ("2024", "12", "05") as Glue catalogs them and the seed's queries filter them.
PARTITION_KEYS: tuple[str, ...] = ("year", "month", "day")

#: Storage layout, shared by infra outputs, the transformer and the query runner
#: (tests/infra/test_layout.py keeps infra/locals.tf equal to these).
RAW_PREFIX = "raw/"
TABLE_NAME = "events"
EVENTS_PREFIX = f"{TABLE_NAME}/"
QUARANTINE_PREFIX = "quarantine/"
#: Per-source-object manifests of the keys the transformer wrote (lets a reprocess delete outputs
#: it no longer produces); outside ``events/`` so crawlers and queries never see them.
MANIFESTS_PREFIX = "manifests/"

#: Quarantine reasons (``missing_field:<name>`` and ``bad_type:<name>`` carry the field).
REASON_MALFORMED_JSON = "malformed_json"
REASON_NOT_AN_OBJECT = "not_an_object"
REASON_BAD_ENCODING = "bad_encoding"
REASON_UNKNOWN_EVENT_TYPE = "unknown_event_type"
REASON_TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"
REASON_DUPLICATE_EVENT_ID = "duplicate_event_id"
#: The rest of a GZIP object that cannot be decompressed (corrupt or truncated stream).
REASON_BAD_COMPRESSION = "bad_compression"


def missing_field(name: str) -> str:
    """Reason for a required field that is absent or null."""
    return f"missing_field:{name}"


def bad_type(name: str) -> str:
    """Reason for a field whose value cannot be coerced to its column type."""
    return f"bad_type:{name}"


def arrow_schema() -> pa.Schema:
    """The Parquet schema of the transformed table (partition columns excluded)."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "float64": pa.float64(),
        "int32": pa.int32(),
    }
    return pa.schema([pa.field(f.name, types[f.type], nullable=not f.required) for f in FIELDS])
