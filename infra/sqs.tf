# The failure queue: async invocations of the transformer that still fail after Lambda's retries
# land here with the original S3 event, so no raw object is silently lost; replay from here.

resource "aws_sqs_queue" "transformer_failures" {
  name                      = local.failure_queue_name
  message_retention_seconds = var.failure_queue_retention_seconds
  # The policy is set with the queue, not as an aws_sqs_queue_policy: the provider waits ~25 s
  # for each to propagate, and one after the other they were the longest path of an apply.
  policy = data.aws_iam_policy_document.failure_queue_tls_only.json

  sqs_managed_sse_enabled           = local.use_kms ? null : true
  kms_master_key_id                 = local.use_kms ? var.kms_key_arn : null
  kms_data_key_reuse_period_seconds = local.use_kms ? 300 : null
}

data "aws_iam_policy_document" "failure_queue_tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [local.failure_queue_arn]

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

# Earlier versions managed the policy as a separate resource: forget it without deleting the
# policy, which the queue now carries itself.
removed {
  from = aws_sqs_queue_policy.transformer_failures

  lifecycle {
    destroy = false
  }
}
