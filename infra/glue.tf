# Glue Data Catalog: the database and the `events` table over s3://<transformed>/events/.
#
# catalog_mode = "projection" (default): Terraform declares the table itself, its columns generated
# from the event contract (catalog/events_table.json), with Athena partition projection on
# year/month/day: a new day is queryable as soon as its Parquet lands, no crawler runs, no crawler
# DPU-hours are billed. catalog_mode = "crawler": the seed's hourly crawler creates and maintains
# the table (named after the events/ folder) and registers partitions; Terraform then does not
# own the table. quarantine/ and manifests/ lie outside events/ and are never catalogued.
# Locally the Glue API is served by our LocalStack extension (emulator/, clickstream_emulator.glue).

resource "aws_glue_catalog_database" "this" {
  count = var.enable_catalog ? 1 : 0

  name        = local.glue_database_name
  description = "Clickstream events (${var.environment}); table `${local.table_name}` (${var.catalog_mode} mode)."
}

resource "aws_glue_security_configuration" "crawler" {
  #checkov:skip=CKV_AWS_99:S3 output is SSE-S3; CloudWatch and bookmark encryption need a CMK and are enabled when kms_key_arn is set.
  count = local.use_crawler ? 1 : 0

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
  count = local.use_crawler ? 1 : 0

  name                   = "${local.name_prefix}-events"
  description            = "Catalogs s3://${aws_s3_bucket.this["transformed"].id}/${local.events_prefix} as table ${local.table_name}"
  database_name          = aws_glue_catalog_database.this[0].name
  role                   = aws_iam_role.glue_crawler[0].arn
  schedule               = var.crawler_schedule
  security_configuration = aws_glue_security_configuration.crawler[0].name

  s3_target {
    path = "s3://${aws_s3_bucket.this["transformed"].id}/${local.events_prefix}"
  }

  # catalog/crawler.json: new columns are added to the table; vanished ones are only logged, never
  # dropped, so a partial day of data cannot shrink the schema. Partitions take the table's schema
  # (one schema for all days), and compatible files are combined into the single `events` table.
  schema_change_policy {
    update_behavior = local.crawler_settings.schema_change_policy.update_behavior
    delete_behavior = local.crawler_settings.schema_change_policy.delete_behavior
  }

  recrawl_policy {
    recrawl_behavior = local.crawler_settings.recrawl_behavior
  }

  configuration = jsonencode(local.crawler_settings.configuration)

  depends_on = [aws_iam_role_policy.glue_crawler]
}

# The table Athena queries, defined once: columns from the contract, partitions projected.
resource "aws_glue_catalog_table" "events" {
  count = local.use_projection ? 1 : 0

  name          = local.events_table.name
  database_name = aws_glue_catalog_database.this[0].name
  description   = "Clickstream events: Parquet written by the transformer; columns generated from services/common/clickstream_common/schema.py."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    EXTERNAL       = "TRUE"
    classification = "parquet"
    # Athena partition projection: partitions are computed from these ranges at query time
    # instead of being registered (year=YYYY/month=MM/day=DD, zero-padded strings).
    "projection.enabled"        = "true"
    "projection.year.type"      = "integer"
    "projection.year.range"     = var.projection_year_range
    "projection.year.digits"    = tostring(local.events_table.partition_digits.year)
    "projection.month.type"     = "integer"
    "projection.month.range"    = local.events_table.partition_ranges.month
    "projection.month.digits"   = tostring(local.events_table.partition_digits.month)
    "projection.day.type"       = "integer"
    "projection.day.range"      = local.events_table.partition_ranges.day
    "projection.day.digits"     = tostring(local.events_table.partition_digits.day)
    "storage.location.template" = "s3://${aws_s3_bucket.this["transformed"].id}/${local.events_prefix}${local.events_table.location_template}"
  }

  dynamic "partition_keys" {
    for_each = local.events_table.partition_keys

    content {
      name    = partition_keys.value.name
      type    = partition_keys.value.type
      comment = partition_keys.value.comment
    }
  }

  storage_descriptor {
    location      = "s3://${aws_s3_bucket.this["transformed"].id}/${local.events_prefix}"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters            = { "serialization.format" = "1" }
    }

    dynamic "columns" {
      for_each = local.events_table.columns

      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}
