# Athena: a workgroup that enforces encrypted results and a per-query scan limit, plus every
# queries/*.sql published as a named query. AWS only (LocalStack community: 501), so gated by
# enable_catalog; locally the same SQL runs on DuckDB (services/athena_local).

resource "aws_athena_workgroup" "this" {
  count = var.enable_catalog ? 1 : 0

  name          = local.name_prefix
  description   = "Clickstream analytics (${var.environment})"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    result_configuration {
      output_location = "s3://${aws_s3_bucket.this["athena_results"].id}/results/"

      encryption_configuration {
        encryption_option = local.use_kms ? "SSE_KMS" : "SSE_S3"
        kms_key_arn       = local.use_kms ? var.kms_key_arn : null
      }
    }
  }
}

# The SQL files reference `$${database}.events`; the local DuckDB runner substitutes the same
# variable, so one file serves both worlds.
resource "aws_athena_named_query" "this" {
  for_each = local.query_files

  name        = trimsuffix(each.value, ".sql")
  description = "queries/${each.value}"
  workgroup   = aws_athena_workgroup.this[0].id
  database    = aws_glue_catalog_database.this[0].name
  query       = templatefile("${local.queries_dir}/${each.value}", { database = aws_glue_catalog_database.this[0].name })
}
