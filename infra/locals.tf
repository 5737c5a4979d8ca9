# Names and shared values, derived once so every file agrees on them.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name_prefix = "${var.project}-${var.environment}"
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition

  tags = merge(var.extra_tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  # The storage layout contract: the transformer, the crawler and the query runner all depend on
  # these exact prefixes. tests/infra/test_layout.py keeps them equal to the constants of
  # services/common/clickstream_common/schema.py.
  raw_prefix        = "raw/"
  events_prefix     = "events/"
  quarantine_prefix = "quarantine/"
  manifests_prefix  = "manifests/" # one JSON per processed raw object: what it produced
  # Each compacted day's state (manifest, provenance, duplicates); outside events/ like manifests/.
  compaction_prefix = "compaction/"
  output_prefixes   = [local.events_prefix, local.quarantine_prefix, local.manifests_prefix]
  table_name        = local.events_table.name # schema.TABLE_NAME, via catalog/events_table.json
  # Firehose failures land beside raw data but outside raw/, so they never trigger the Lambda.
  firehose_error_prefix = "firehose-errors/"

  # The events table: columns generated from the event contract (python -m clickstream_common.catalog),
  # so Terraform, the transformer and the queries share one schema.
  events_table = jsondecode(file("${path.module}/catalog/events_table.json"))
  # Crawler settings, shared with the e2e test that runs a crawler with the same configuration.
  crawler_settings = jsondecode(file("${path.module}/catalog/crawler.json"))
  # projection: Terraform owns the table and Athena projects the partitions; crawler: the crawler
  # creates and maintains the table (Terraform must not own it too).
  use_projection = var.enable_catalog && var.catalog_mode == "projection"
  use_crawler    = var.enable_catalog && var.catalog_mode == "crawler"

  # Glue database names allow no hyphens: clickstream_pipeline_<env>_db.
  glue_database_name = replace("${var.project}_${var.environment}_db", "-", "_")

  # Bucket names are global on AWS: the account id makes them unique without random suffixes
  # (which would break the second `apply` being a no-op and the names being predictable).
  bucket_names = {
    raw            = "${local.name_prefix}-raw-${local.account_id}"
    transformed    = "${local.name_prefix}-transformed-${local.account_id}"
    athena_results = "${local.name_prefix}-athena-results-${local.account_id}"
    artifacts      = "${local.name_prefix}-artifacts-${local.account_id}"
  }

  # Per-bucket lifecycle policy. Versioning protects data that is expensive or impossible to
  # recreate (raw input, transformed output, deployed code); Athena results are disposable.
  buckets = {
    raw = {
      versioned       = true
      expiration_days = var.raw_expiration_days
    }
    transformed = {
      versioned       = true
      expiration_days = null
    }
    athena_results = {
      versioned       = false
      expiration_days = var.athena_results_expiration_days
    }
    artifacts = {
      versioned       = true
      expiration_days = null
    }
  }

  use_kms = var.kms_key_arn != ""

  # The two functions (lambda.tf); each name also names its role, log group and zip.
  transformer_name   = "${local.name_prefix}-transformer"
  compactor_name     = "${local.name_prefix}-compactor"
  failure_queue_name = "${local.transformer_name}-failures"
  # Known before the queue exists, so the Lambda's role (and with it the function) does not wait
  # for the queue's creation, which the AWS provider holds ~25 s for attribute propagation.
  failure_queue_arn = "arn:${local.partition}:sqs:${var.aws_region}:${local.account_id}:${local.failure_queue_name}"
  # "HH:MM" UTC -> the rule's cron: every day at that time.
  compaction_schedule     = format("cron(%d %d * * ? *)", tonumber(split(":", var.compaction_time_utc)[1]), tonumber(split(":", var.compaction_time_utc)[0]))
  firehose_name           = "${local.name_prefix}-events"
  firehose_log_group_name = "/aws/kinesisfirehose/${local.firehose_name}"
  firehose_log_stream     = "S3Delivery"
  crawler_log_group_arn   = "arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:/aws-glue/crawlers"

  queries_dir = startswith(var.queries_dir, "/") ? var.queries_dir : "${path.module}/${var.queries_dir}"
  # Named queries are published only where Athena exists.
  query_files = var.enable_catalog ? fileset(local.queries_dir, "*.sql") : toset([])
}
