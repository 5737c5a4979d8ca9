# AWS dev account: `scripts/tf.sh plan-aws` / `apply-aws` (credentials from the usual AWS chain).
environment = "dev"
aws_region  = "us-east-1"

force_destroy  = false
enable_catalog = true

firehose_buffering_size_mb          = 64
firehose_buffering_interval_seconds = 60
firehose_compression                = "GZIP"

# Sized for a 128 MiB Firehose object (see variables.tf).
lambda_memory_mb          = 3008
lambda_timeout_seconds    = 300
lambda_max_retry_attempts = 2
lambda_log_level          = "INFO"
log_retention_days        = 30

raw_expiration_days         = 30
athena_bytes_scanned_cutoff = 10737418240

# Optional: AWS SDK for pandas layer (then pyarrow could be dropped from the zip). The layer must
# be built for the function's runtime, python3.13: pick the current version for the region.
# aws_sdk_pandas_layer_arn = "arn:aws:lambda:us-east-1:336392948345:layer:AWSSDKPandas-Python313:<version>"
