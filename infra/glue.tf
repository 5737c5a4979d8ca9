# Glue Data Catalog: database + hourly crawler over the transformed events. AWS only
# (LocalStack community returns 501), hence count = enable_catalog.
#
# The crawler's single target is s3://<transformed>/events/, so the table it creates is named
# after that folder: `events` (schema.TABLE_NAME), with partitions year/month/day from the
# Hive-style folders. quarantine/ lies outside the target and is never catalogued.

resource "aws_glue_catalog_database" "this" {
  count = var.enable_catalog ? 1 : 0

  name        = local.glue_database_name
  description = "Clickstream events (${var.environment}); table `${local.table_name}` is created by the crawler."
}

resource "aws_glue_security_configuration" "crawler" {
  #checkov:skip=CKV_AWS_99:S3 output is SSE-S3; CloudWatch and bookmark encryption need a CMK and are enabled when kms_key_arn is set.
  count = var.enable_catalog ? 1 : 0

  name = "${local.name_prefix}-crawler"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = local.use_kms ? "SSE-KMS" : "DISABLED"
      kms_key_arn                = local.use_kms ? var.kms_key_arn : null
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = local.use_kms ? "CSE-KMS" : "DISABLED"
      kms_key_arn                   = local.use_kms ? var.kms_key_arn : null
    }

    s3_encryption {
      s3_encryption_mode = local.use_kms ? "SSE-KMS" : "SSE-S3"
      kms_key_arn        = local.use_kms ? var.kms_key_arn : null
    }
  }
}

resource "aws_glue_crawler" "events" {
  count = var.enable_catalog ? 1 : 0

  name                   = "${local.name_prefix}-events"
  description            = "Catalogs s3://${aws_s3_bucket.this["transformed"].id}/${local.events_prefix} as table ${local.table_name}"
  database_name          = aws_glue_catalog_database.this[0].name
  role                   = aws_iam_role.glue_crawler[0].arn
  schedule               = var.crawler_schedule
  security_configuration = aws_glue_security_configuration.crawler[0].name

  s3_target {
    path = "s3://${aws_s3_bucket.this["transformed"].id}/${local.events_prefix}"
  }

  # New columns are added to the table; vanished ones are only logged, never dropped, so a
  # partial day of data cannot shrink the schema.
  schema_change_policy {
    update_behavior = "UPDATE_IN_DATABASE"
    delete_behavior = "LOG"
  }

  recrawl_policy {
    recrawl_behavior = "CRAWL_EVERYTHING"
  }

  # Partitions take the table's schema (one schema for all days), and compatible files are
  # combined into the single `events` table instead of one table per folder.
  configuration = jsonencode({
    Version = 1.0
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
      Tables     = { AddOrUpdateBehavior = "MergeNewColumns" }
    }
    Grouping = {
      TableGroupingPolicy = "CombineCompatibleSchemas"
    }
  })

  depends_on = [aws_iam_role_policy.glue_crawler]
}
