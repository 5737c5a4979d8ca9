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

# The same Firehose settings as AWS (envs/dev.tfvars): our LocalStack Firehose provider
# (emulator/, clickstream_emulator.firehose) buffers, compresses and encrypts like AWS. Only the
# interval is shorter: 1 s instead of 60 s, so a put shows up in S3 (and in the e2e tests) in
# about a second, while the puts of one second are still merged into one GZIP object.
firehose_buffering_size_mb          = 64
firehose_buffering_interval_seconds = 1
firehose_compression                = "GZIP"
firehose_server_side_encryption     = true

# A laptop, not a 128 MiB object: keep the local process small and failures fast.
lambda_memory_mb          = 1024
lambda_timeout_seconds    = 60
lambda_max_retry_attempts = 2
lambda_log_level          = "INFO"
log_retention_days        = 7
