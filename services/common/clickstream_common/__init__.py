"""Shared contract of the clickstream pipeline: event schema and storage layout."""
