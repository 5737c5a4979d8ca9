# Buckets: raw (Firehose output), transformed (Parquet + quarantine), athena-results, artifacts
# (the Lambda zip: too large for a direct upload). All private, encrypted, TLS-only.

resource "aws_s3_bucket" "this" {
  for_each = local.buckets
  #checkov:skip=CKV_AWS_18:Access logging needs a separate log bucket per account; enable in the org-wide logging setup.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a DR decision per deployment, not needed for an analytics copy.
  #checkov:skip=CKV_AWS_145:SSE-S3 by default; set kms_key_arn for SSE-KMS (LocalStack and free tier need no CMK).
  #checkov:skip=CKV2_AWS_62:Only the raw bucket triggers processing (notifications.tf); the others need no events.
  #checkov:skip=CKV2_AWS_6:False positive: checkov does not link for_each sub-resources; every bucket has a full public access block (asserted in tests/aws_dev.tftest.hcl).
  #checkov:skip=CKV2_AWS_61:False positive: checkov does not link for_each sub-resources; every bucket has lifecycle rules (asserted in tests/aws_dev.tftest.hcl).
  #checkov:skip=CKV_AWS_21:Versioning is Enabled for raw/transformed/artifacts (asserted in tests); athena_results holds disposable query results.

  bucket        = local.bucket_names[each.key]
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.use_kms ? "aws:kms" : "AES256"
      kms_master_key_id = local.use_kms ? var.kms_key_arn : null
    }
    bucket_key_enabled = local.use_kms
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  versioning_configuration {
    status = local.buckets[each.key].versioned ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  # s3_lifecycle_rules = false only in envs/local.tfvars (see the variable for why)
  for_each = var.s3_lifecycle_rules ? aws_s3_bucket.this : {}

  bucket = each.value.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    # prefix "" (= every object) rather than an empty block: S3 implementations echo it back
    # as Prefix "", and the provider waits for an exact echo before it reports success.
    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  dynamic "rule" {
    for_each = local.buckets[each.key].expiration_days == null ? [] : [local.buckets[each.key].expiration_days]

    content {
      id     = "expire-objects"
      status = "Enabled"

      filter {
        prefix = ""
      }

      expiration {
        days = rule.value
      }
    }
  }

  dynamic "rule" {
    for_each = local.buckets[each.key].versioned ? [var.noncurrent_version_expiration_days] : []

    content {
      id     = "expire-noncurrent-versions"
      status = "Enabled"

      filter {
        prefix = ""
      }

      noncurrent_version_expiration {
        noncurrent_days = rule.value
      }
    }
  }

  # Rules apply to the versioning state, so configure it first (AWS recommendation).
  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket_tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

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

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket_tls_only[each.key].json

  # A policy put races the public access block on a new bucket; order them.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
