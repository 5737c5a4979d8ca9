# One role per service, each allowed exactly what it does, on exactly the resources it touches.
# No wildcard actions; resources are bucket prefixes, one log group/stream, one queue.

locals {
  raw_arn         = aws_s3_bucket.this["raw"].arn
  transformed_arn = aws_s3_bucket.this["transformed"].arn
  kms_key_arns    = local.use_kms ? [var.kms_key_arn] : []
}

# --- Firehose ----------------------------------------------------------------------------------

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }

    # Confused-deputy guard: only Firehose acting for this account may assume the role.
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${local.name_prefix}-firehose"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid       = "RawBucketLocation"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.raw_arn]
  }

  statement {
    sid = "WriteRawAndErrorObjects"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetObject",
      "s3:PutObject",
    ]
    resources = [
      "${local.raw_arn}/${local.raw_prefix}*",
      "${local.raw_arn}/${local.firehose_error_prefix}*",
    ]
  }

  statement {
    sid       = "DeliveryLogs"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:log-stream:${aws_cloudwatch_log_stream.firehose_s3_delivery.name}"]
  }

  dynamic "statement" {
    for_each = local.use_kms ? [1] : []

    content {
      sid       = "EncryptWithKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = local.kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "deliver-to-raw-bucket"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

# --- Lambda functions (lambda.tf) ------------------------------------------------------------------
# One role per function, named like it. The role policy is the function's own statements (the
# documents after this one) plus what every function needs, written once here: its own log group,
# X-Ray when tracing is on, the key when a CMK is set.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

locals {
  function_policies = {
    transformer = { name = "transform-raw-objects", document = data.aws_iam_policy_document.transformer }
    compactor   = { name = "compact-events", document = data.aws_iam_policy_document.compactor }
  }
}

resource "aws_iam_role" "lambda" {
  for_each = local.functions

  name               = each.value.name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "lambda" {
  for_each = local.functions

  source_policy_documents = [local.function_policies[each.key].document.json]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda[each.key].arn}:*"]
  }

  dynamic "statement" {
    for_each = var.lambda_tracing_mode == "Active" ? [1] : []

    content {
      sid       = "XRayTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"] # X-Ray supports no resource-level permissions for these actions.
    }
  }

  dynamic "statement" {
    for_each = local.use_kms ? [1] : []

    content {
      sid       = "UseKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = local.kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  for_each = local.functions

  name   = local.function_policies[each.key].name
  role   = aws_iam_role.lambda[each.key].id
  policy = data.aws_iam_policy_document.lambda[each.key].json
}

# The transformer: reads raw/, writes its outputs, reads the compaction state, reports failures.
data "aws_iam_policy_document" "transformer" {
  statement {
    sid       = "ReadRawObjects"
    actions   = ["s3:GetObject"]
    resources = ["${local.raw_arn}/${local.raw_prefix}*"]
  }

  # ListBucket turns a missing key into 404 (not 403), so a deleted object is reported as such.
  statement {
    sid       = "ListRawPrefix"
    actions   = ["s3:ListBucket"]
    resources = [local.raw_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.raw_prefix}*"]
    }
  }

  # Idempotent writes: output keys derive from the input key and the per-object manifest says
  # which outputs a previous attempt wrote, so a retry overwrites or deletes them, never adds.
  statement {
    sid = "WriteOutputs"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
    ]
    resources = [for p in local.output_prefixes : "${local.transformed_arn}/${p}*"]
  }

  statement {
    sid       = "ListOutputPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.transformed_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for p in local.output_prefixes : "${p}*"]
    }
  }

  # A source published again reads its days' compaction state (transformer.compacted).
  statement {
    sid       = "ReadCompactionState"
    actions   = ["s3:GetObject"]
    resources = ["${local.transformed_arn}/${local.compaction_prefix}*"]
  }

  statement {
    sid       = "ListCompactionState"
    actions   = ["s3:ListBucket"]
    resources = [local.transformed_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.compaction_prefix}*"]
    }
  }

  statement {
    sid       = "SendFailedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [local.failure_queue_arn]
  }
}

# The compactor: reads and rewrites events/ and its own state under compaction/; deletes only
# under events/ (the inputs it folded, by version). Never touches raw/, quarantine/ or manifests/.
data "aws_iam_policy_document" "compactor" {
  statement {
    sid = "ReadWriteEventsAndState"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:PutObject",
      "s3:AbortMultipartUpload",
    ]
    resources = [
      "${local.transformed_arn}/${local.events_prefix}*",
      "${local.transformed_arn}/${local.compaction_prefix}*",
    ]
  }

  statement {
    sid       = "DeleteFoldedEvents"
    actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["${local.transformed_arn}/${local.events_prefix}*"]
  }

  statement {
    sid       = "ListEventsAndState"
    actions   = ["s3:ListBucket"]
    resources = [local.transformed_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.events_prefix}*", "${local.compaction_prefix}*"]
    }
  }
}

# --- Glue crawler (only in catalog_mode = "crawler") ----------------------------------------------------

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "glue_crawler" {
  count = local.use_crawler ? 1 : 0

  name               = "${local.name_prefix}-crawler"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

data "aws_iam_policy_document" "glue_crawler" {
  count = local.use_crawler ? 1 : 0

  statement {
    sid       = "ReadEvents"
    actions   = ["s3:GetObject"]
    resources = ["${local.transformed_arn}/${local.events_prefix}*"]
  }

  statement {
    sid       = "ListEvents"
    actions   = ["s3:ListBucket"]
    resources = [local.transformed_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.events_prefix}*"]
    }
  }

  statement {
    sid = "MaintainEventsTable"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:BatchGetPartition",
      "glue:UpdatePartition",
      "glue:BatchUpdatePartition",
    ]
    resources = [
      "arn:${local.partition}:glue:${var.aws_region}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${var.aws_region}:${local.account_id}:database/${local.glue_database_name}",
      "arn:${local.partition}:glue:${var.aws_region}:${local.account_id}:table/${local.glue_database_name}/*",
    ]
  }

  statement {
    sid     = "CrawlerLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      local.crawler_log_group_arn,
      "${local.crawler_log_group_arn}:*",
    ]
  }

  dynamic "statement" {
    for_each = local.use_kms ? [1] : []

    content {
      sid       = "DecryptEvents"
      actions   = ["kms:Decrypt"]
      resources = local.kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "glue_crawler" {
  count = local.use_crawler ? 1 : 0

  name   = "crawl-events"
  role   = aws_iam_role.glue_crawler[0].id
  policy = data.aws_iam_policy_document.glue_crawler[0].json
}
