# LocalStack (community, host mode or Docker): `make up` (scripts/tf.sh apply-local).
#
# The local stack runs the AWS configuration: every variable not set here has the value of
# envs/dev.tfvars. The differences below are the only ones, each listed with its reason in the
# docs/local-vs-aws.md table; tests/infra/test_tfvars_parity.py fails on any other.
environment = "local"
aws_region  = "us-east-1"

# `make destroy` must be able to remove buckets that hold data.
force_destroy = true

# LocalStack does not run lifecycle rules, and the AWS provider spends a fixed ~55 s waiting for
# each configuration to read back 10 times in a row: the longest step of a fresh `make up`.
s3_lifecycle_rules = false

# 1 s instead of 60 s: a put reaches S3 (and the e2e tests) in about a second, while the puts of
# one second still merge into one GZIP object. Size, GZIP and SSE are AWS's.
firehose_buffering_interval_seconds = 1
