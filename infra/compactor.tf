# The compactor Lambda: folds a closed day's small Parquet files into a few large ones, each event
# once (services/compactor). Scheduled by an EventBridge rule: LocalStack 4.14 community fires
# rules with a schedule_expression, not EventBridge Scheduler schedules (measured; README).

resource "aws_s3_object" "compactor_zip" {
  bucket      = aws_s3_bucket.this["artifacts"].id
  key         = "lambda/${local.compactor_name}.zip"
  source      = local.compactor_zip_path
  source_hash = local.compactor_zip_md5

  server_side_encryption = local.use_kms ? "aws:kms" : "AES256"
  kms_key_id             = local.use_kms ? var.kms_key_arn : null

  lifecycle {
    precondition {
      condition     = local.compactor_zip_md5 != null
      error_message = "Compactor zip not found at ${local.compactor_zip_path}: build it first (make build / scripts/build_lambda.py --function compactor)."
    }
  }

  depends_on = [
    aws_s3_bucket_server_side_encryption_configuration.this,
    aws_s3_bucket_versioning.this,
  ]
}

resource "aws_cloudwatch_log_group" "compactor" {
  #checkov:skip=CKV_AWS_158:Logs carry day names and counts, not event data; CMK optional via kms_key_arn.
  #checkov:skip=CKV_AWS_338:Operational logs, retention is a variable (log_retention_days), not 1 year.
  name              = local.compactor_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = local.use_kms ? var.kms_key_arn : null
}

resource "aws_lambda_function" "compactor" {
  #checkov:skip=CKV_AWS_117:Talks only to S3/CloudWatch public endpoints; a VPC adds NAT cost and no isolation here.
  #checkov:skip=CKV_AWS_116:Scheduled, idempotent and self-repairing: a failed run is redone by the next one (a DLQ would hold only a schedule tick).
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built reproducibly in CI instead.
  #checkov:skip=CKV_AWS_115:One run per day partition holds a lease in the day's manifest; reserved concurrency adds nothing.
  #checkov:skip=CKV_AWS_50:X-Ray is opt-in (lambda_tracing_mode=Active): its write API cannot be scoped to a resource.
  #checkov:skip=CKV_AWS_173:Environment holds only bucket names/prefixes and sizes, no secrets; CMK used when kms_key_arn is set.
  function_name = local.compactor_name
  description   = "Clickstream compactor: a day's small Parquet files -> few large files, each event once"
  role          = aws_iam_role.compactor.arn

  runtime       = "python3.13"
  handler       = "compactor.handler.lambda_handler"
  architectures = ["x86_64"]

  s3_bucket         = aws_s3_object.compactor_zip.bucket
  s3_key            = aws_s3_object.compactor_zip.key
  s3_object_version = aws_s3_object.compactor_zip.version_id
  source_code_hash  = local.compactor_zip_sha256

  memory_size = var.compactor_memory_mb
  timeout     = var.compactor_timeout_seconds
  kms_key_arn = local.use_kms ? var.kms_key_arn : null

  # DuckDB spills the day's sort and dedup here: the day's size is bounded by this, not memory.
  ephemeral_storage {
    size = var.compactor_ephemeral_storage_mb
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  environment {
    variables = {
      TRANSFORMED_BUCKET    = aws_s3_bucket.this["transformed"].id
      EVENTS_PREFIX         = local.events_prefix
      COMPACTION_PREFIX     = local.compaction_prefix
      TARGET_FILE_MB        = tostring(var.compaction_target_file_mb)
      SWEEP_DAYS            = tostring(var.compaction_sweep_days)
      MIN_UNCOMPACTED_FILES = tostring(var.compaction_min_uncompacted_files)
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.compactor.name
  }

  depends_on = [
    aws_iam_role_policy.compactor,
    aws_cloudwatch_log_group.compactor,
  ]
}

# Scheduled runs are not retried by Lambda (the next run repairs and redoes what one left).
resource "aws_lambda_function_event_invoke_config" "compactor" {
  function_name                = aws_lambda_function.compactor.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 3600
}

# Day D compacts at D+1 at compaction_time_utc; the same run sweeps the last compaction_sweep_days.
resource "aws_cloudwatch_event_rule" "compaction" {
  name                = "${local.compactor_name}-daily"
  description         = "Compact yesterday's events and sweep the last ${var.compaction_sweep_days} days for late data"
  schedule_expression = local.compaction_schedule
}

resource "aws_cloudwatch_event_target" "compaction" {
  rule      = aws_cloudwatch_event_rule.compaction.name
  target_id = "compactor"
  arn       = aws_lambda_function.compactor.arn
  # The rule's own event (its "time" is the scheduled time) is what the handler reads.
}

resource "aws_lambda_permission" "compaction_schedule" {
  statement_id   = "AllowEventBridgeCompactionSchedule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.compactor.function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.compaction.arn
  source_account = local.account_id
}
