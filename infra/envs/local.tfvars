# LocalStack (community, host mode or Docker): `scripts/tf.sh apply-local`.
environment = "local"
aws_region  = "us-east-1"

# `make destroy` must be able to remove buckets that hold data.
force_destroy = true

# LocalStack does not run lifecycle rules, and the AWS provider spends a fixed ~55 s waiting for
# each configuration to read back 10 times in a row: the longest step of a fresh `make up`.
# envs/dev.tfvars keeps them (asserted in tests/aws_dev.tftest.hcl).
s3_lifecycle_rules = false

# Glue and Athena are served by our LocalStack extensions (emulator/): the same catalog as on AWS
# (the events table with partition projection), the workgroup and named queries; Athena runs on DuckDB.
enable_catalog = true

# LocalStack writes one object per put batch immediately and ignores compression, so say what
# actually happens: small buffers, uncompressed JSON.
firehose_buffering_size_mb          = 1
firehose_buffering_interval_seconds = 0
firehose_compression                = "UNCOMPRESSED"
# LocalStack has no StartDeliveryStreamEncryption (501); the raw bucket is still SSE-encrypted.
firehose_server_side_encryption = false

# A laptop, not a 128 MiB object: keep the local process small and failures fast.
lambda_memory_mb          = 1024
lambda_timeout_seconds    = 60
lambda_max_retry_attempts = 2
lambda_log_level          = "INFO"
log_retention_days        = 7
