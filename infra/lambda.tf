# The transformer Lambda: raw JSON object in, Parquet (events/) and quarantine JSONL out.
# Code goes through S3: with pyarrow the zip (~34 MB) is near the 50 MB direct-upload limit, and
# the versioned artifacts bucket keeps every deployed build.

resource "aws_s3_object" "lambda_zip" {
  bucket = aws_s3_bucket.this["artifacts"].id
  key    = "lambda/${local.function_name}.zip"
  source = local.lambda_zip_path
  # Content hash, not mtime: the zip build is reproducible, so an unchanged build is a no-op.
  source_hash = local.lambda_zip_md5

  # Encryption follows the bucket default; say so explicitly so plans stay stable.
  server_side_encryption = local.use_kms ? "aws:kms" : "AES256"
  kms_key_id             = local.use_kms ? var.kms_key_arn : null

  lifecycle {
    precondition {
      condition     = local.lambda_zip_md5 != null
      error_message = "Lambda zip not found at ${local.lambda_zip_path}: build it first (make build / scripts/build_lambda.py)."
    }
  }

  depends_on = [
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_versioning.this,
  ]
}

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_158:Logs carry object keys and counts, not event data; CMK optional via kms_key_arn.
  #checkov:skip=CKV_AWS_338:Operational logs, retention is a variable (log_retention_days), not 1 year.
  name              = local.lambda_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = local.use_kms ? var.kms_key_arn : null
}

resource "aws_lambda_function" "transformer" {
  #checkov:skip=CKV_AWS_117:Talks only to S3/SQS/CloudWatch public endpoints; a VPC adds NAT cost and no isolation here.
  #checkov:skip=CKV_AWS_116:Async failures go to an on-failure destination (aws_lambda_function_event_invoke_config), the successor of DLQs.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built reproducibly in CI instead.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional (lambda_reserved_concurrency); new accounts cannot reserve any.
  #checkov:skip=CKV_AWS_50:X-Ray is opt-in (lambda_tracing_mode=Active): its write API cannot be scoped to a resource.
  #checkov:skip=CKV_AWS_173:Environment holds only bucket names/prefixes, no secrets; CMK used when kms_key_arn is set.
  function_name = local.function_name
  description   = "Clickstream transformer: raw Firehose JSON -> Parquet events + quarantine"
  role          = aws_iam_role.lambda.arn

  runtime       = "python3.13"
  handler       = "transformer.handler.lambda_handler"
  architectures = ["x86_64"] # the zip's pyarrow wheels are manylinux2014_x86_64

  s3_bucket         = aws_s3_object.lambda_zip.bucket
  s3_key            = aws_s3_object.lambda_zip.key
  s3_object_version = aws_s3_object.lambda_zip.version_id
  source_code_hash  = local.lambda_zip_sha256

  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrency == null ? -1 : var.lambda_reserved_concurrency
  layers                         = compact([var.aws_sdk_pandas_layer_arn])
  kms_key_arn                    = local.use_kms ? var.kms_key_arn : null

  ephemeral_storage {
    size = var.lambda_ephemeral_storage_mb
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  environment {
    variables = {
      TRANSFORMED_BUCKET = aws_s3_bucket.this["transformed"].id
      EVENTS_PREFIX      = local.events_prefix
      QUARANTINE_PREFIX  = local.quarantine_prefix
      MANIFESTS_PREFIX   = local.manifests_prefix
      COMPACTION_PREFIX  = local.compaction_prefix
      LOG_LEVEL          = var.lambda_log_level
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda.name
  }

  depends_on = [
    aws_iam_role_policy.lambda,
    aws_cloudwatch_log_group.lambda,
  ]
}

# Async (S3-triggered) invocations: bounded retries, then the event goes to the failure queue.
resource "aws_lambda_function_event_invoke_config" "transformer" {
  function_name                = aws_lambda_function.transformer.function_name
  maximum_retry_attempts       = var.lambda_max_retry_attempts
  maximum_event_age_in_seconds = var.lambda_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.transformer_failures.arn
    }
  }
}
