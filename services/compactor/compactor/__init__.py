"""The compactor: a closed day of small Parquet files -> a few large ones, each event once."""
