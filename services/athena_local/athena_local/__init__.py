"""athena_local package."""
