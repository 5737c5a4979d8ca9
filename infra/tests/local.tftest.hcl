# The LocalStack configuration (envs/local.tfvars), planned against a mocked provider: the same
# catalog as on AWS (Glue and Athena are served by our LocalStack extensions in emulator/).
# Run: scripts/tf.sh test (passes -var-file=envs/local.tfvars). The real proof is
# `scripts/tf.sh apply-local` against LocalStack (make up).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path    = "tests/fixtures/transformer.zip"
  compactor_zip_path = "tests/fixtures/compactor.zip"
}

run "local_environment" {
  command = apply

  assert {
    condition     = var.environment == "local" && var.enable_catalog && var.catalog_mode == "projection"
    error_message = "this test must run with -var-file=envs/local.tfvars (catalog on, projection mode)"
  }

  assert {
    condition = (
      length(aws_glue_catalog_database.this) == 1 && length(aws_glue_catalog_table.events) == 1 &&
      length(aws_glue_crawler.events) == 0 && length(aws_athena_workgroup.this) == 1 &&
      length(aws_athena_named_query.this) == length(fileset("../queries", "*.sql"))
    )
    error_message = "locally too: the Glue database, the Terraform-defined events table, the Athena workgroup and named queries"
  }

  assert {
    condition     = output.crawler_name == null && output.athena_workgroup != null && output.catalog_mode == "projection"
    error_message = "no crawler in projection mode; the workgroup exists"
  }

  assert {
    condition = (
      aws_athena_workgroup.this[0].configuration[0].enforce_workgroup_configuration &&
      aws_athena_workgroup.this[0].configuration[0].bytes_scanned_cutoff_per_query == var.athena_bytes_scanned_cutoff
    )
    error_message = "the local workgroup enforces the same configuration and scan cutoff as on AWS"
  }

  assert {
    condition     = output.glue_database == "clickstream_pipeline_local_db" && output.table_name == "events" && aws_glue_catalog_table.events[0].name == output.table_name
    error_message = "the query runner reads the database/table names from the outputs"
  }

  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this) == 0
    error_message = "no lifecycle rules locally: LocalStack does not run them and the provider waits ~55 s on each"
  }

  assert {
    condition     = alltrue([for b in aws_s3_bucket.this : b.force_destroy])
    error_message = "local buckets must be force-destroyable so `make destroy` works"
  }

  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.events.extended_s3_configuration[0].compression_format == "GZIP" &&
      aws_kinesis_firehose_delivery_stream.events.extended_s3_configuration[0].buffering_size == 64 &&
      aws_kinesis_firehose_delivery_stream.events.server_side_encryption[0].enabled
    )
    error_message = "the local Firehose (emulator/) delivers like AWS: local config uses dev's size, GZIP and SSE"
  }

  assert {
    condition = (
      aws_lambda_function.this["transformer"].runtime == "python3.13" &&
      aws_lambda_function.this["transformer"].handler == "transformer.handler.lambda_handler" &&
      length(aws_lambda_function.this["transformer"].layers) == 0
    )
    error_message = "same function definition locally, without AWS-published layers"
  }
}

# Locally the same schedule is deployed: LocalStack's EventBridge fires rules with a schedule.
run "local_compaction_schedule" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_rule.compaction.schedule_expression == "cron(30 1 * * ? *)" && aws_lambda_function.this["compactor"].handler == "compactor.handler.lambda_handler"
    error_message = "the compactor and its daily rule are deployed locally as on AWS"
  }
}

# Both modes apply locally as on AWS: the crawler mode swaps the table for the crawler.
run "local_crawler_mode" {
  command = plan

  variables {
    catalog_mode = "crawler"
  }

  assert {
    condition     = length(aws_glue_catalog_table.events) == 0 && length(aws_glue_crawler.events) == 1 && length(aws_glue_security_configuration.crawler) == 1
    error_message = "crawler mode: the crawler (with its security configuration), no Terraform-owned table"
  }
}
