# The LocalStack configuration (envs/local.tfvars), planned against a mocked provider: the
# catalog is on (Glue and Athena are served by our LocalStack extensions, emulator/).
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
    condition     = var.environment == "local" && var.enable_catalog
    error_message = "this test must run with -var-file=envs/local.tfvars (catalog on)"
  }

  assert {
    condition = (
      length(aws_glue_catalog_database.this) == 1 &&
      length(aws_athena_workgroup.this) == 1 && length(aws_athena_named_query.this) == 5
    )
    error_message = "the local stack applies the Glue database, the workgroup and the five named queries"
  }

  assert {
    condition = (
      aws_athena_workgroup.this[0].configuration[0].enforce_workgroup_configuration &&
      aws_athena_workgroup.this[0].configuration[0].bytes_scanned_cutoff_per_query == var.athena_bytes_scanned_cutoff
    )
    error_message = "the local workgroup enforces the same configuration and scan cutoff as on AWS"
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
      aws_kinesis_firehose_delivery_stream.events.extended_s3_configuration[0].compression_format == "UNCOMPRESSED" &&
      !aws_kinesis_firehose_delivery_stream.events.server_side_encryption[0].enabled
    )
    error_message = "LocalStack ignores compression and lacks Firehose SSE: local config must say so"
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
