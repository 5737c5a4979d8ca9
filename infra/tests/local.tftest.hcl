# The LocalStack configuration (envs/local.tfvars), planned against a mocked provider: the
# catalog is off (Glue/Athena are Pro-only in LocalStack) while the contract outputs stay valid.
# Run: scripts/tf.sh test (passes -var-file=envs/local.tfvars). The real proof is
# `scripts/tf.sh apply-local` against LocalStack (make up).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  lambda_zip_path = "tests/fixtures/transformer.zip"
}

run "local_environment" {
  command = apply

  assert {
    condition     = var.environment == "local" && !var.enable_catalog
    error_message = "this test must run with -var-file=envs/local.tfvars (catalog off)"
  }

  assert {
    condition = (
      length(aws_glue_catalog_database.this) == 0 && length(aws_glue_crawler.events) == 0 &&
      length(aws_athena_workgroup.this) == 0 && length(aws_athena_named_query.this) == 0 &&
      length(aws_iam_role.glue_crawler) == 0
    )
    error_message = "no Glue/Athena resources on LocalStack community"
  }

  assert {
    condition     = output.crawler_name == null && output.athena_workgroup == null
    error_message = "crawler_name and athena_workgroup must be null when the catalog is off"
  }

  assert {
    condition     = output.glue_database == "clickstream_pipeline_local_db" && output.table_name == "events"
    error_message = "the local query runner still needs the database/table names"
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
      aws_lambda_function.transformer.runtime == "python3.12" &&
      aws_lambda_function.transformer.handler == "transformer.handler.lambda_handler" &&
      length(aws_lambda_function.transformer.layers) == 0
    )
    error_message = "same function definition locally, without AWS-published layers"
  }
}
