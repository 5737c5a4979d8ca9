"""One S3 object store per LocalStack instance (see patch.py)."""
