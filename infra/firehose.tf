# Kinesis Data Firehose: clients put JSON events, Firehose batches them into raw/YYYY/MM/DD/HH/
# objects (AWS appends the date path to a prefix without expressions; so does the local Firehose
# provider in emulator/, which also buffers and compresses as configured here).

resource "aws_cloudwatch_log_group" "firehose" {
  #checkov:skip=CKV_AWS_158:Delivery logs hold no event data; CMK encryption is optional via kms_key_arn.
  #checkov:skip=CKV_AWS_338:Operational logs, retention is a variable (log_retention_days), not 1 year.
  name              = local.firehose_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = local.use_kms ? var.kms_key_arn : null
}

resource "aws_cloudwatch_log_stream" "firehose_s3_delivery" {
  name           = local.firehose_log_stream
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_kinesis_firehose_delivery_stream" "events" {
  #checkov:skip=CKV_AWS_241:Encrypted with an AWS-owned key by default; a customer-managed key is used when kms_key_arn is set.
  name        = local.firehose_name
  destination = "extended_s3"

  server_side_encryption {
    enabled  = var.firehose_server_side_encryption
    key_type = var.firehose_server_side_encryption ? (local.use_kms ? "CUSTOMER_MANAGED_CMK" : "AWS_OWNED_CMK") : null
    key_arn  = var.firehose_server_side_encryption && local.use_kms ? var.kms_key_arn : null
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = aws_s3_bucket.this["raw"].arn
    prefix              = local.raw_prefix
    error_output_prefix = local.firehose_error_prefix
    buffering_size      = var.firehose_buffering_size_mb
    buffering_interval  = var.firehose_buffering_interval_seconds
    compression_format  = var.firehose_compression
    kms_key_arn         = local.use_kms ? var.kms_key_arn : null

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose_s3_delivery.name
    }
  }

  # Firehose validates its role on creation: the policy must be attached first.
  depends_on = [aws_iam_role_policy.firehose]
}
