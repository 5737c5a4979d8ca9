# The pipeline's Lambda functions, one entry each in local.functions: the transformer (raw JSON
# object in, Parquet under events/ and quarantine JSONL out; S3-triggered, notifications.tf) and
# the compactor (a closed day's small Parquet files folded into a few large ones; scheduled,
# compactor.tf). What they share is written once below: the zip in the artifacts bucket, the log
# group, the runtime, encryption, tracing and logging; iam.tf gives each function its own role.
# Code goes through S3: with pyarrow the transformer's zip (~34 MB) is near the 50 MB
# direct-upload limit, and the versioned artifacts bucket keeps every deployed build.

locals {
  functions = {
    transformer = {
      name                 = local.transformer_name
      description          = "Clickstream transformer: raw Firehose JSON -> Parquet events + quarantine"
      handler              = "transformer.handler.lambda_handler"
      zip_path             = var.lambda_zip_path
      memory_mb            = var.lambda_memory_mb
      timeout_seconds      = var.lambda_timeout_seconds
      ephemeral_storage_mb = var.lambda_ephemeral_storage_mb
      reserved_concurrency = var.lambda_reserved_concurrency
      layers               = compact([var.aws_sdk_pandas_layer_arn])
      environment = {
        TRANSFORMED_BUCKET = aws_s3_bucket.this["transformed"].id
        EVENTS_PREFIX      = local.events_prefix
        QUARANTINE_PREFIX  = local.quarantine_prefix
        MANIFESTS_PREFIX   = local.manifests_prefix
        COMPACTION_PREFIX  = local.compaction_prefix
        LOG_LEVEL          = var.lambda_log_level
      }
    }

    compactor = {
      name            = local.compactor_name
      description     = "Clickstream compactor: a day's small Parquet files -> few large files, each event once"
      handler         = "compactor.handler.lambda_handler"
      zip_path        = var.compactor_zip_path
      memory_mb       = var.compactor_memory_mb
      timeout_seconds = var.compactor_timeout_seconds
      # DuckDB spills the day's sort and dedup here: the day's size is bounded by this, not memory.
      ephemeral_storage_mb = var.compactor_ephemeral_storage_mb
      reserved_concurrency = null # a run holds a lease on its day (the day's manifest)
      layers               = []
      environment = {
        TRANSFORMED_BUCKET    = aws_s3_bucket.this["transformed"].id
        EVENTS_PREFIX         = local.events_prefix
        COMPACTION_PREFIX     = local.compaction_prefix
        TARGET_FILE_MB        = tostring(var.compaction_target_file_mb)
        SWEEP_DAYS            = tostring(var.compaction_sweep_days)
        MIN_UNCOMPACTED_FILES = tostring(var.compaction_min_uncompacted_files)
      }
    }
  }

  # Each zip's absolute path (a relative one is relative to infra/) and its content hashes.
  # try(): `destroy` must work after `make clean` removed the zips; the upload's precondition
  # reports a missing zip on create/update instead.
  function_zip_paths = {
    for key, f in local.functions : key => abspath(startswith(f.zip_path, "/") ? f.zip_path : "${path.module}/${f.zip_path}")
  }
  function_zips = {
    for key, zip in local.function_zip_paths : key => {
      path   = zip
      md5    = try(filemd5(zip), null)
      sha256 = try(filebase64sha256(zip), null)
    }
  }
}

resource "aws_s3_object" "lambda_zip" {
  for_each = local.functions

  bucket = aws_s3_bucket.this["artifacts"].id
  key    = "lambda/${each.value.name}.zip"
  source = local.function_zips[each.key].path
  # Content hash, not mtime: the zip build is reproducible, so an unchanged build is a no-op.
  source_hash = local.function_zips[each.key].md5

  # Encryption follows the bucket default; say so explicitly so plans stay stable.
  server_side_encryption = local.use_kms ? "aws:kms" : "AES256"
  kms_key_id             = local.use_kms ? var.kms_key_arn : null

  lifecycle {
    precondition {
      condition     = local.function_zips[each.key].md5 != null
      error_message = "The ${each.key} zip is not at ${local.function_zips[each.key].path}: build it first (make build / scripts/build_lambda.py --function ${each.key})."
    }
  }

  depends_on = [
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_versioning.this,
  ]
}

resource "aws_cloudwatch_log_group" "lambda" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_158:Logs carry object keys, day names and counts, not event data; CMK optional via kms_key_arn.
  #checkov:skip=CKV_AWS_338:Operational logs, retention is a variable (log_retention_days), not 1 year.

  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.use_kms ? var.kms_key_arn : null
}

resource "aws_lambda_function" "this" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_117:Both talk only to S3/SQS/CloudWatch public endpoints; a VPC adds NAT cost and no isolation here.
  #checkov:skip=CKV_AWS_116:The transformer's async failures go to an on-failure destination (its event invoke config below), the successor of DLQs; the compactor is scheduled and idempotent, its next run redoes a failed one (a DLQ would hold only a schedule tick).
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zips are built reproducibly in CI instead.
  #checkov:skip=CKV_AWS_115:The transformer's reserved concurrency is optional (lambda_reserved_concurrency; new accounts cannot reserve any); a compactor run holds a lease on its day (the day's manifest), reserving adds nothing.
  #checkov:skip=CKV_AWS_50:X-Ray is opt-in (lambda_tracing_mode=Active): its write API cannot be scoped to a resource.
  #checkov:skip=CKV_AWS_173:Environment holds only bucket names, prefixes and sizes, no secrets; CMK used when kms_key_arn is set.

  function_name = each.value.name
  description   = each.value.description
  role          = aws_iam_role.lambda[each.key].arn

  runtime       = "python3.13"
  handler       = each.value.handler
  architectures = ["x86_64"] # the zips' wheels are manylinux x86_64 (scripts/build_lambda.py)

  s3_bucket         = aws_s3_object.lambda_zip[each.key].bucket
  s3_key            = aws_s3_object.lambda_zip[each.key].key
  s3_object_version = aws_s3_object.lambda_zip[each.key].version_id
  source_code_hash  = local.function_zips[each.key].sha256

  memory_size                    = each.value.memory_mb
  timeout                        = each.value.timeout_seconds
  reserved_concurrent_executions = each.value.reserved_concurrency == null ? -1 : each.value.reserved_concurrency
  layers                         = each.value.layers
  kms_key_arn                    = local.use_kms ? var.kms_key_arn : null

  ephemeral_storage {
    size = each.value.ephemeral_storage_mb
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  environment {
    variables = each.value.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda[each.key].name
  }

  depends_on = [
    aws_iam_role_policy.lambda,
    aws_cloudwatch_log_group.lambda,
  ]
}

# The transformer's async (S3-triggered) invocations: bounded retries, then the event goes to the
# failure queue. The compactor's own settings are in compactor.tf.
resource "aws_lambda_function_event_invoke_config" "transformer" {
  function_name                = aws_lambda_function.this["transformer"].function_name
  maximum_retry_attempts       = var.lambda_max_retry_attempts
  maximum_event_age_in_seconds = var.lambda_max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.transformer_failures.arn
    }
  }
}
