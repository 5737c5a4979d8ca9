# The failure queue: async invocations of the transformer that still fail after Lambda's retries
# land here with the original S3 event, so no raw object is silently lost; replay from here.

resource "aws_sqs_queue" "transformer_failures" {
  name                      = "${local.function_name}-failures"
  message_retention_seconds = var.failure_queue_retention_seconds

  sqs_managed_sse_enabled           = local.use_kms ? null : true
  kms_master_key_id                 = local.use_kms ? var.kms_key_arn : null
  kms_data_key_reuse_period_seconds = local.use_kms ? 300 : null
}

data "aws_iam_policy_document" "failure_queue_tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.transformer_failures.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "transformer_failures" {
  queue_url = aws_sqs_queue.transformer_failures.id
  policy    = data.aws_iam_policy_document.failure_queue_tls_only.json
}
