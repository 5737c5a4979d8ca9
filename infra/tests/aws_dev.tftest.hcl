# Proves the AWS configuration (envs/dev.tfvars: catalog on) without credentials: the AWS
# provider is mocked, so every resource - including Glue, the crawler and Athena, which
# LocalStack community cannot create - is planned and "applied" against fake responses, and the
# assertions check what we send to AWS. Run: scripts/tf.sh test (passes -var-file=envs/dev.tfvars).

mock_provider "aws" {
  source = "./tests/mocks"
}

# Buckets get their real names as id/ARN, so path and ARN assertions mean something.
override_resource {
  target = aws_s3_bucket.this["raw"]
  values = {
    id  = "clickstream-pipeline-dev-raw-123456789012"
    arn = "arn:aws:s3:::clickstream-pipeline-dev-raw-123456789012"
  }
}

override_resource {
  target = aws_s3_bucket.this["transformed"]
  values = {
    id  = "clickstream-pipeline-dev-transformed-123456789012"
    arn = "arn:aws:s3:::clickstream-pipeline-dev-transformed-123456789012"
  }
}

override_resource {
  target = aws_s3_bucket.this["athena_results"]
  values = {
    id  = "clickstream-pipeline-dev-athena-results-123456789012"
    arn = "arn:aws:s3:::clickstream-pipeline-dev-athena-results-123456789012"
  }
}

override_resource {
  target = aws_s3_bucket.this["artifacts"]
  values = {
    id  = "clickstream-pipeline-dev-artifacts-123456789012"
    arn = "arn:aws:s3:::clickstream-pipeline-dev-artifacts-123456789012"
  }
}

# Each function's own policy document gets a JSON of its own (the mock's default is one for all),
# so the assertions can tell which one a role policy is built on.
override_data {
  target = data.aws_iam_policy_document.transformer
  values = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"TransformerOwn\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::t/*\"}]}"
  }
}

override_data {
  target = data.aws_iam_policy_document.compactor
  values = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"CompactorOwn\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::c/*\"}]}"
  }
}

# Roles get their real ARNs, so "the function runs its own role" means something.
override_resource {
  target = aws_iam_role.lambda["transformer"]
  values = {
    arn = "arn:aws:iam::123456789012:role/clickstream-pipeline-dev-transformer"
  }
}

override_resource {
  target = aws_iam_role.lambda["compactor"]
  values = {
    arn = "arn:aws:iam::123456789012:role/clickstream-pipeline-dev-compactor"
  }
}

variables {
  # Only hashed under a mock provider; the real zip comes from scripts/build_lambda.py.
  lambda_zip_path    = "tests/fixtures/transformer.zip"
  compactor_zip_path = "tests/fixtures/compactor.zip"
}

run "dev_environment" {
  command = apply

  assert {
    condition     = var.environment == "dev" && var.enable_catalog
    error_message = "this test must run with -var-file=envs/dev.tfvars (catalog on)"
  }

  # --- S3 -------------------------------------------------------------------------------------
  assert {
    condition     = length(aws_s3_bucket.this) == 4 && alltrue([for b in aws_s3_bucket.this : !b.force_destroy])
    error_message = "expected 4 buckets, none force-destroyable on AWS"
  }

  assert {
    condition = alltrue([
      for c in aws_s3_bucket_server_side_encryption_configuration.this :
      one(one(c.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    ])
    error_message = "every bucket must default to SSE-S3 when no KMS key is given"
  }

  assert {
    condition = alltrue([
      for p in aws_s3_bucket_public_access_block.this :
      p.block_public_acls && p.block_public_policy && p.ignore_public_acls && p.restrict_public_buckets
    ])
    error_message = "every bucket must block all public access"
  }

  assert {
    condition = alltrue([
      for d in data.aws_iam_policy_document.bucket_tls_only : anytrue([
        for s in d.statement : s.effect == "Deny" && anytrue([
          for c in s.condition : c.test == "Bool" && c.variable == "aws:SecureTransport" && c.values == tolist(["false"])
        ])
      ])
    ]) && length(aws_s3_bucket_policy.this) == 4
    error_message = "every bucket policy must deny requests without TLS (aws:SecureTransport=false)"
  }

  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.this["raw"].rule : r.expiration[0].days if r.id == "expire-objects"]) == var.raw_expiration_days
    error_message = "raw objects must expire after raw_expiration_days"
  }

  assert {
    condition = (
      aws_sqs_queue.transformer_failures.policy == data.aws_iam_policy_document.failure_queue_tls_only.json &&
      anytrue([for s in data.aws_iam_policy_document.failure_queue_tls_only.statement : s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && c.values == tolist(["false"])])])
    )
    error_message = "the failure queue must carry its TLS-only policy"
  }

  assert {
    condition     = var.s3_lifecycle_rules && length(aws_s3_bucket_lifecycle_configuration.this) == length(aws_s3_bucket.this)
    error_message = "on AWS every bucket has its lifecycle rules"
  }

  assert {
    condition     = aws_s3_bucket_versioning.this["raw"].versioning_configuration[0].status == "Enabled" && aws_s3_bucket_versioning.this["athena_results"].versioning_configuration[0].status == "Suspended"
    error_message = "raw data is versioned, disposable Athena results are not"
  }

  # --- Firehose --------------------------------------------------------------------------------
  assert {
    condition = (
      aws_kinesis_firehose_delivery_stream.events.extended_s3_configuration[0].prefix == "raw/" &&
      aws_kinesis_firehose_delivery_stream.events.extended_s3_configuration[0].compression_format == "GZIP" &&
      aws_kinesis_firehose_delivery_stream.events.extended_s3_configuration[0].bucket_arn == aws_s3_bucket.this["raw"].arn &&
      aws_kinesis_firehose_delivery_stream.events.extended_s3_configuration[0].cloudwatch_logging_options[0].enabled
    )
    error_message = "Firehose must write GZIP into raw/ of the raw bucket, with delivery logging"
  }

  # --- Lambda ----------------------------------------------------------------------------------
  assert {
    condition = (
      aws_lambda_function.this["transformer"].runtime == "python3.13" &&
      aws_lambda_function.this["transformer"].handler == "transformer.handler.lambda_handler" &&
      aws_lambda_function.this["transformer"].memory_size == 3008 &&
      aws_lambda_function.this["transformer"].timeout == 300
    )
    error_message = "transformer must be python3.13, transformer.handler.lambda_handler, 3008 MB / 300 s on AWS"
  }

  assert {
    condition     = aws_lambda_function.this["transformer"].environment[0].variables["TRANSFORMED_BUCKET"] == aws_s3_bucket.this["transformed"].id
    error_message = "TRANSFORMED_BUCKET must name the transformed bucket"
  }

  assert {
    condition     = aws_lambda_function.this["transformer"].source_code_hash == filebase64sha256("tests/fixtures/transformer.zip") && aws_s3_object.lambda_zip["transformer"].source_hash == filemd5("tests/fixtures/transformer.zip")
    error_message = "code hashes must follow the zip content, so a rebuilt zip redeploys"
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.transformer.destination_config[0].on_failure[0].destination == aws_sqs_queue.transformer_failures.arn &&
      aws_lambda_function_event_invoke_config.transformer.maximum_retry_attempts == 2 &&
      aws_sqs_queue.transformer_failures.sqs_managed_sse_enabled
    )
    error_message = "failed async invocations must go to the encrypted failure queue after 2 retries"
  }

  assert {
    condition = (
      aws_s3_bucket_notification.raw.lambda_function[0].filter_prefix == "raw/" &&
      aws_s3_bucket_notification.raw.lambda_function[0].events == toset(["s3:ObjectCreated:*"]) &&
      aws_lambda_permission.allow_raw_bucket.source_arn == aws_s3_bucket.this["raw"].arn &&
      aws_lambda_permission.allow_raw_bucket.source_account == "123456789012"
    )
    error_message = "raw/ ObjectCreated must invoke the transformer, permitted only for the raw bucket of this account"
  }

  # --- IAM -------------------------------------------------------------------------------------
  assert {
    condition = alltrue(flatten([
      for d in concat([data.aws_iam_policy_document.firehose, data.aws_iam_policy_document.transformer, data.aws_iam_policy_document.compactor], values(data.aws_iam_policy_document.lambda)) : [
        for s in d.statement : [for a in s.actions : a != "*" && !endswith(a, ":*")]
      ]
    ]))
    error_message = "role policies must not use wildcard actions"
  }

  assert {
    condition = alltrue(flatten([
      for d in concat([data.aws_iam_policy_document.firehose, data.aws_iam_policy_document.transformer, data.aws_iam_policy_document.compactor], values(data.aws_iam_policy_document.lambda)) : [
        for s in d.statement : [for r in s.resources : r != "*"]
      ]
    ]))
    error_message = "role policies must scope resources (lambda_tracing_mode is PassThrough in dev)"
  }

  assert {
    condition     = length(distinct(concat([aws_iam_role.firehose.name], [for r in aws_iam_role.lambda : r.name]))) == 3
    error_message = "one role per service"
  }

  # Each function runs its own role, whose policy is its own statements plus the shared ones
  # (its own log group only; no X-Ray statement with PassThrough tracing, no key without a CMK).
  assert {
    condition = alltrue([
      for k, f in aws_lambda_function.this : (
        f.role == aws_iam_role.lambda[k].arn &&
        aws_iam_role.lambda[k].name == f.function_name &&
        aws_iam_role_policy.lambda[k].role == aws_iam_role.lambda[k].id &&
        data.aws_iam_policy_document.lambda[k].source_policy_documents == tolist([local.function_policies[k].document.json]) &&
        [for st in data.aws_iam_policy_document.lambda[k].statement : st.sid] == ["WriteOwnLogs"] &&
        data.aws_iam_policy_document.lambda[k].statement[0].resources == toset(["${aws_cloudwatch_log_group.lambda[k].arn}:*"])
      )
    ]) && length(aws_lambda_function.this) == 2 && aws_iam_role_policy.lambda["compactor"].name == "compact-events"
    error_message = "each function must run its own role: its own policy document plus writing to its own log group"
  }

  # --- Glue + Athena ---------------------------------------------------------------------------
  assert {
    condition     = aws_glue_catalog_database.this[0].name == "clickstream_pipeline_dev_db" && output.glue_database == "clickstream_pipeline_dev_db"
    error_message = "Glue database must be clickstream_pipeline_<env>_db"
  }

  # --- The events table: defined once, from the contract, partitions projected --------------
  assert {
    condition = (
      var.catalog_mode == "projection" && length(aws_glue_catalog_table.events) == 1 &&
      length(aws_glue_crawler.events) == 0 && length(aws_iam_role.glue_crawler) == 0 &&
      length(aws_glue_security_configuration.crawler) == 0 && output.crawler_name == null
    )
    error_message = "projection mode (the default): Terraform owns the table, no crawler, no crawler role"
  }

  assert {
    condition = (
      aws_glue_catalog_table.events[0].name == "events" && output.table_name == "events" &&
      aws_glue_catalog_table.events[0].database_name == "clickstream_pipeline_dev_db" &&
      aws_glue_catalog_table.events[0].table_type == "EXTERNAL_TABLE" &&
      aws_glue_catalog_table.events[0].storage_descriptor[0].location == "s3://${aws_s3_bucket.this["transformed"].id}/events/" &&
      aws_glue_catalog_table.events[0].storage_descriptor[0].ser_de_info[0].serialization_library == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    error_message = "table `events` must be an external Parquet table over s3://<transformed>/events/"
  }

  assert {
    condition = (
      [for c in aws_glue_catalog_table.events[0].storage_descriptor[0].columns : "${c.name}:${c.type}"] ==
      [for c in jsondecode(file("catalog/events_table.json")).columns : "${c.name}:${c.type}"] &&
      contains([for c in aws_glue_catalog_table.events[0].storage_descriptor[0].columns : "${c.name}:${c.type}"], "event_timestamp:timestamp") &&
      contains([for c in aws_glue_catalog_table.events[0].storage_descriptor[0].columns : "${c.name}:${c.type}"], "price:double") &&
      contains([for c in aws_glue_catalog_table.events[0].storage_descriptor[0].columns : "${c.name}:${c.type}"], "quantity:int")
    )
    error_message = "the table's columns must be the contract's (catalog/events_table.json), in order, with Glue types"
  }

  assert {
    condition     = [for k in aws_glue_catalog_table.events[0].partition_keys : "${k.name}:${k.type}"] == ["year:string", "month:string", "day:string"]
    error_message = "partition keys must be year/month/day strings"
  }

  assert {
    condition = (
      aws_glue_catalog_table.events[0].parameters["projection.enabled"] == "true" &&
      aws_glue_catalog_table.events[0].parameters["projection.year.range"] == "2020,2035" &&
      aws_glue_catalog_table.events[0].parameters["projection.month.range"] == "01,12" &&
      aws_glue_catalog_table.events[0].parameters["projection.day.digits"] == "2" &&
      aws_glue_catalog_table.events[0].parameters["storage.location.template"] == "s3://${aws_s3_bucket.this["transformed"].id}/events/year=$${year}/month=$${month}/day=$${day}/"
    )
    error_message = "partition projection must cover year/month/day with the Hive folder template"
  }

  assert {
    condition = (
      aws_athena_workgroup.this[0].configuration[0].enforce_workgroup_configuration &&
      aws_athena_workgroup.this[0].configuration[0].bytes_scanned_cutoff_per_query == var.athena_bytes_scanned_cutoff &&
      aws_athena_workgroup.this[0].configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_S3" &&
      startswith(aws_athena_workgroup.this[0].configuration[0].result_configuration[0].output_location, "s3://${aws_s3_bucket.this["athena_results"].id}/")
    )
    error_message = "the workgroup must enforce encrypted results in the results bucket and a scan cutoff"
  }

  assert {
    condition     = length(aws_athena_named_query.this) == length(fileset("../queries", "*.sql"))
    error_message = "one named query per queries/*.sql"
  }

  assert {
    condition = alltrue([
      for q in aws_athena_named_query.this :
      strcontains(q.query, "clickstream_pipeline_dev_db.events") && !strcontains(q.query, "$${database}")
    ])
    error_message = "named queries must have $${database} replaced by the Glue database"
  }

  # --- Outputs (the contract read by clickstream_common.outputs) -------------------------------
  assert {
    condition = alltrue([
      for v in [
        output.firehose_name, output.raw_bucket, output.transformed_bucket,
        output.athena_results_bucket, output.lambda_name, output.lambda_log_group,
        output.glue_database, output.athena_workgroup, output.aws_region, output.catalog_mode,
        output.environment, output.raw_prefix, output.events_prefix, output.quarantine_prefix,
        output.table_name, output.failure_destination,
      ] : v != null && v != ""
    ])
    error_message = "every contract output must be set when the catalog is on"
  }
}

# catalog_mode = "crawler": the seed's hourly crawler owns the table; Terraform must not define it.
run "dev_crawler_mode" {
  command = apply

  variables {
    catalog_mode = "crawler"
  }

  assert {
    condition = (
      length(aws_glue_catalog_table.events) == 0 && length(aws_glue_crawler.events) == 1 &&
      output.crawler_name == "clickstream-pipeline-dev-events" && output.table_name == "events"
    )
    error_message = "crawler mode: a crawler, and no Terraform-owned table that the crawler would fight over"
  }

  assert {
    condition = (
      aws_glue_crawler.events[0].s3_target[0].path == "s3://${aws_s3_bucket.this["transformed"].id}/events/" &&
      aws_glue_crawler.events[0].schedule == "cron(0 * * * ? *)" &&
      aws_glue_crawler.events[0].schema_change_policy[0].delete_behavior == "LOG" &&
      aws_glue_crawler.events[0].schema_change_policy[0].update_behavior == "UPDATE_IN_DATABASE" &&
      jsondecode(aws_glue_crawler.events[0].configuration).CrawlerOutput.Partitions.AddOrUpdateBehavior == "InheritFromTable" &&
      jsondecode(aws_glue_crawler.events[0].configuration).Grouping.TableGroupingPolicy == "CombineCompatibleSchemas" &&
      aws_glue_crawler.events[0].security_configuration == aws_glue_security_configuration.crawler[0].name
    )
    error_message = "the crawler must crawl s3://<transformed>/events/ hourly with catalog/crawler.json's settings (table `events`)"
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.glue_crawler[0].statement : [
        for a in s.actions : a != "*" && !endswith(a, ":*")
      ]
    ])) && alltrue(flatten([for s in data.aws_iam_policy_document.glue_crawler[0].statement : [for r in s.resources : r != "*"]]))
    error_message = "the crawler role must not use wildcard actions or resources"
  }

  assert {
    condition     = length(distinct(concat([aws_iam_role.firehose.name, aws_iam_role.glue_crawler[0].name], [for r in aws_iam_role.lambda : r.name]))) == 4
    error_message = "one role per service"
  }
}

run "invalid_catalog_mode_is_rejected" {
  command = plan

  variables {
    catalog_mode = "both"
  }

  expect_failures = [var.catalog_mode]
}

run "invalid_compression_is_rejected" {
  command = plan

  variables {
    firehose_compression = "Snappy"
  }

  expect_failures = [var.firehose_compression]
}

# The compactor: scheduled daily by an EventBridge rule, least-privilege IAM (deletes only under
# events/, never raw/, quarantine/ or manifests/), its settings from validated variables.
run "compaction" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_event_rule.compaction.schedule_expression == "cron(30 1 * * ? *)" &&
      aws_cloudwatch_event_target.compaction.arn == aws_lambda_function.this["compactor"].arn &&
      aws_lambda_permission.compaction_schedule.principal == "events.amazonaws.com" &&
      aws_lambda_permission.compaction_schedule.source_arn == aws_cloudwatch_event_rule.compaction.arn &&
      output.compaction_schedule == "cron(30 1 * * ? *)"
    )
    error_message = "day D compacts at D+1 01:30 UTC by default: a daily EventBridge rule targeting the compactor, allowed to invoke it"
  }

  assert {
    condition = (
      aws_lambda_function.this["compactor"].handler == "compactor.handler.lambda_handler" &&
      aws_lambda_function.this["compactor"].runtime == "python3.13" &&
      aws_lambda_function.this["compactor"].role == "arn:aws:iam::123456789012:role/clickstream-pipeline-dev-compactor" &&
      aws_lambda_function.this["compactor"].environment[0].variables.TARGET_FILE_MB == "256" &&
      aws_lambda_function.this["compactor"].environment[0].variables.SWEEP_DAYS == "7" &&
      aws_lambda_function.this["compactor"].environment[0].variables.MIN_UNCOMPACTED_FILES == "1" &&
      aws_lambda_function.this["compactor"].environment[0].variables.COMPACTION_PREFIX == "compaction/" &&
      aws_lambda_function.this["compactor"].ephemeral_storage[0].size == 10240 &&
      aws_lambda_function_event_invoke_config.compactor.maximum_retry_attempts == 0
    )
    error_message = "the compactor runs its own role, 256 MiB files, a 7-day sweep with K = 1, and spills to 10 GB of /tmp"
  }

  assert {
    condition = length(concat(data.aws_iam_policy_document.compactor.statement, data.aws_iam_policy_document.lambda["compactor"].statement)) >= 4 && alltrue(flatten([
      for s in concat(data.aws_iam_policy_document.compactor.statement, data.aws_iam_policy_document.lambda["compactor"].statement) : [
        for a in s.actions : !strcontains(a, "Delete") || alltrue([
          for r in s.resources : startswith(r, "arn:aws:s3:::clickstream-pipeline-dev-transformed-123456789012/events/")
        ])
      ]
    ]))
    error_message = "the compactor deletes only under events/ of the transformed bucket"
  }

  assert {
    condition = alltrue(flatten([
      for s in concat(data.aws_iam_policy_document.compactor.statement, data.aws_iam_policy_document.lambda["compactor"].statement) : concat(
        [for a in s.actions : !strcontains(a, "*")],
        [for r in s.resources : !strcontains(r, "-raw-") && !strcontains(r, "/quarantine/") && !strcontains(r, "/manifests/")]
      )
    ]))
    error_message = "no wildcard actions; the compactor never touches raw/, quarantine/ or manifests/"
  }

  assert {
    condition = alltrue([
      for s in concat(data.aws_iam_policy_document.transformer.statement, data.aws_iam_policy_document.lambda["transformer"].statement) :
      !anytrue([for r in s.resources : strcontains(r, "/compaction/")]) || s.actions == toset(["s3:GetObject"])
    ])
    error_message = "the transformer only reads the compaction state"
  }
}

run "compaction_time_is_configurable" {
  command = plan

  variables {
    compaction_time_utc = "07:05"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.compaction.schedule_expression == "cron(5 7 * * ? *)"
    error_message = "compaction_time_utc HH:MM becomes the rule's daily cron"
  }
}

run "compaction_time_is_validated" {
  command = plan

  variables {
    compaction_time_utc = "25:00"
  }

  expect_failures = [var.compaction_time_utc]
}
