# Outputs: the single configuration source for every tool (scripts/tf.sh writes them to
# .local/outputs.json; clickstream_common.outputs reads them). Names are a contract.

output "aws_region" {
  description = "Region of the deployment."
  value       = var.aws_region
}

output "environment" {
  description = "Environment name."
  value       = var.environment
}

output "firehose_name" {
  description = "Firehose delivery stream that accepts raw events."
  value       = aws_kinesis_firehose_delivery_stream.events.name
}

output "raw_bucket" {
  description = "Bucket Firehose writes raw JSON into (under raw_prefix)."
  value       = aws_s3_bucket.this["raw"].id
}

output "transformed_bucket" {
  description = "Bucket with Parquet events (events_prefix) and quarantined records (quarantine_prefix)."
  value       = aws_s3_bucket.this["transformed"].id
}

output "athena_results_bucket" {
  description = "Bucket for Athena query results."
  value       = aws_s3_bucket.this["athena_results"].id
}

output "artifacts_bucket" {
  description = "Bucket holding the Lambda deployment zip."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "lambda_name" {
  description = "Transformer function name."
  value       = aws_lambda_function.this["transformer"].function_name
}

output "lambda_arn" {
  description = "Transformer function ARN."
  value       = aws_lambda_function.this["transformer"].arn
}

output "lambda_log_group" {
  description = "CloudWatch log group of the transformer."
  value       = aws_cloudwatch_log_group.lambda["transformer"].name
}

output "compactor_name" {
  description = "Compactor function name (`make compact` invokes it)."
  value       = aws_lambda_function.this["compactor"].function_name
}

output "compactor_log_group" {
  description = "CloudWatch log group of the compactor."
  value       = aws_cloudwatch_log_group.lambda["compactor"].name
}

output "compaction_schedule" {
  description = "Schedule expression of the daily compaction rule (UTC)."
  value       = aws_cloudwatch_event_rule.compaction.schedule_expression
}

output "compaction_rule" {
  description = "EventBridge rule that runs the compactor."
  value       = aws_cloudwatch_event_rule.compaction.name
}

output "failure_destination" {
  description = "URL of the SQS queue receiving async invocations that failed after all retries."
  value       = aws_sqs_queue.transformer_failures.url
}

output "failure_destination_arn" {
  description = "ARN of the failure queue."
  value       = aws_sqs_queue.transformer_failures.arn
}

output "glue_database" {
  description = "Glue database name; also what `$${database}` means in queries/*.sql (locally too, where no Glue exists)."
  value       = local.glue_database_name
}

output "crawler_name" {
  description = "Glue crawler name (null unless catalog_mode is \"crawler\" with the catalog on)."
  value       = one(aws_glue_crawler.events[*].name)
}

output "athena_workgroup" {
  description = "Athena workgroup name (null when enable_catalog is false)."
  value       = one(aws_athena_workgroup.this[*].name)
}

output "athena_named_queries" {
  description = "Named query ids by query name (empty when enable_catalog is false)."
  value       = { for k, q in aws_athena_named_query.this : q.name => q.id }
}

output "raw_prefix" {
  description = "Key prefix of raw Firehose objects."
  value       = local.raw_prefix
}

output "events_prefix" {
  description = "Key prefix of the Parquet events (crawler target)."
  value       = local.events_prefix
}

output "quarantine_prefix" {
  description = "Key prefix of quarantined records."
  value       = local.quarantine_prefix
}

output "manifests_prefix" {
  description = "Key prefix of the per-object processing manifests (transformed bucket)."
  value       = local.manifests_prefix
}

output "compaction_prefix" {
  description = "Key prefix of each compacted day's state (manifest, provenance, duplicates) in the transformed bucket."
  value       = local.compaction_prefix
}

output "table_name" {
  description = "Glue table of the events in glue_database (Terraform's in projection mode; the crawler names its table after the events/ folder, the same name)."
  value       = local.table_name
}

output "catalog_mode" {
  description = "How the events table is catalogued: projection (Terraform-defined table) or crawler."
  value       = var.catalog_mode
}

output "endpoint_url" {
  description = "Endpoint of the stack holding this deployment (a local one: the LocalStack gateway); absent on AWS. The tools talk to it unless AWS_ENDPOINT_URL is set (clickstream_common.target)."
  value       = var.endpoint_url
}
