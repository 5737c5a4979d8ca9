# The compactor's schedule: it folds a closed day's small Parquet files into a few large ones, each
# event once (services/compactor; the function itself, its zip and log group are in lambda.tf).
# Scheduled by an EventBridge rule: LocalStack 4.14 community fires rules with a
# schedule_expression, not EventBridge Scheduler schedules (measured; docs/compaction.md).

# Scheduled runs are not retried by Lambda (the next run repairs and redoes what one left).
resource "aws_lambda_function_event_invoke_config" "compactor" {
  function_name                = aws_lambda_function.this["compactor"].function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 3600
}

# Day D compacts at D+1 at compaction_time_utc; the same run sweeps the last compaction_sweep_days.
resource "aws_cloudwatch_event_rule" "compaction" {
  name                = "${local.compactor_name}-daily"
  description         = "Compact yesterday's events and sweep the last ${var.compaction_sweep_days} days for late data"
  schedule_expression = local.compaction_schedule
}

resource "aws_cloudwatch_event_target" "compaction" {
  rule      = aws_cloudwatch_event_rule.compaction.name
  target_id = "compactor"
  arn       = aws_lambda_function.this["compactor"].arn
  # The rule's own event (its "time" is the scheduled time) is what the handler reads.
}

resource "aws_lambda_permission" "compaction_schedule" {
  statement_id   = "AllowEventBridgeCompactionSchedule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["compactor"].function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.compaction.arn
  source_account = local.account_id
}
