# Inputs. Per-environment values live in envs/<env>.tfvars; defaults suit a real AWS dev account.

variable "project" {
  description = "Project name; prefixes every resource name."
  type        = string
  default     = "clickstream-pipeline"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))
    error_message = "project must be 3-32 chars of lowercase letters, digits and hyphens (S3 naming)."
  }
}

variable "environment" {
  description = "Environment name (\"local\" on LocalStack, \"dev\"/\"prod\" on AWS); part of every name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lowercase letters/digits, starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into (LocalStack accepts any; us-east-1 by convention)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like an AWS region, e.g. us-east-1."
  }
}

variable "extra_tags" {
  description = "Tags added to the default tags of every resource (e.g. owner, cost centre)."
  type        = map(string)
  default     = {}
}

# --- Storage -----------------------------------------------------------------------------------

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete non-empty buckets. true locally; false protects AWS data."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for S3, SQS, logs and Athena results. Empty = AWS-managed SSE (SSE-S3/SQS-managed)."
  type        = string
  default     = ""

  validation {
    condition     = var.kms_key_arn == "" || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be empty or a KMS key ARN."
  }
}

variable "raw_expiration_days" {
  description = "Days a raw Firehose object is kept. Raw data is replayable input, not the system of record."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_expiration_days >= 1
    error_message = "raw_expiration_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten (noncurrent) object version is kept in versioned buckets."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "athena_results_expiration_days" {
  description = "Days Athena query results are kept; they are caches, re-runnable at any time."
  type        = number
  default     = 7

  validation {
    condition     = var.athena_results_expiration_days >= 1
    error_message = "athena_results_expiration_days must be at least 1."
  }
}

variable "s3_lifecycle_rules" {
  description = "Deploy the buckets' lifecycle rules (expiry, noncurrent versions, aborted uploads). Off only for LocalStack: it does not run lifecycle rules, and the AWS provider waits a fixed ~55 s after writing each configuration (10 s, then 10 identical reads 5 s apart, to ride out S3's eventual consistency)."
  type        = bool
  default     = true
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which incomplete multipart uploads are aborted (they cost storage, invisibly)."
  type        = number
  default     = 2

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1
    error_message = "abort_incomplete_multipart_days must be at least 1."
  }
}

# --- Firehose ----------------------------------------------------------------------------------

variable "firehose_buffering_size_mb" {
  description = "Firehose buffer size in MiB before an S3 object is written (1-128). 128 gives the largest objects the Lambda must handle."
  type        = number
  default     = 64

  validation {
    condition     = var.firehose_buffering_size_mb >= 1 && var.firehose_buffering_size_mb <= 128
    error_message = "firehose_buffering_size_mb must be between 1 and 128."
  }
}

variable "firehose_buffering_interval_seconds" {
  description = "Firehose buffer interval in seconds before an S3 object is written (0-900)."
  type        = number
  default     = 60

  validation {
    condition     = var.firehose_buffering_interval_seconds >= 0 && var.firehose_buffering_interval_seconds <= 900
    error_message = "firehose_buffering_interval_seconds must be between 0 and 900."
  }
}

variable "firehose_compression" {
  description = "Compression of raw objects: GZIP (less storage/transfer) on AWS and locally. The transformer reads both."
  type        = string
  default     = "GZIP"

  validation {
    condition     = contains(["UNCOMPRESSED", "GZIP"], var.firehose_compression)
    error_message = "firehose_compression must be UNCOMPRESSED or GZIP (the transformer reads these two)."
  }
}

variable "firehose_server_side_encryption" {
  description = "Encrypt records at rest inside Firehose (AWS-owned key, or kms_key_arn when set)."
  type        = bool
  default     = true
}

# --- Lambda ------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Deployment zip built by scripts/build_lambda.py. Relative paths are relative to infra/."
  type        = string
  default     = "../build/lambda/transformer.zip"
}

variable "lambda_memory_mb" {
  description = "Transformer memory in MB. A 128 MiB Firehose object expands several-fold in Arrow; memory also buys CPU."
  type        = number
  default     = 3008

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Transformer timeout in seconds; sized for parsing and writing a 128 MiB object."
  type        = number
  default     = 300

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900
    error_message = "lambda_timeout_seconds must be between 1 and 900."
  }
}

variable "lambda_ephemeral_storage_mb" {
  description = "Transformer /tmp size in MB."
  type        = number
  default     = 1024

  validation {
    condition     = var.lambda_ephemeral_storage_mb >= 512 && var.lambda_ephemeral_storage_mb <= 10240
    error_message = "lambda_ephemeral_storage_mb must be between 512 and 10240."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency for the transformer; null = unreserved. New AWS accounts cannot reserve any (unreserved pool minimum is 10)."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_reserved_concurrency == null || try(var.lambda_reserved_concurrency >= 0, false)
    error_message = "lambda_reserved_concurrency must be null or >= 0."
  }
}

variable "lambda_max_retry_attempts" {
  description = "Async retries after a failed invocation (0-2) before the event goes to the failure queue."
  type        = number
  default     = 2

  validation {
    condition     = var.lambda_max_retry_attempts >= 0 && var.lambda_max_retry_attempts <= 2
    error_message = "lambda_max_retry_attempts must be between 0 and 2."
  }
}

variable "lambda_max_event_age_seconds" {
  description = "Oldest async event (seconds) Lambda still retries before sending it to the failure queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.lambda_max_event_age_seconds >= 60 && var.lambda_max_event_age_seconds <= 21600
    error_message = "lambda_max_event_age_seconds must be between 60 and 21600."
  }
}

variable "lambda_log_level" {
  description = "LOG_LEVEL of the transformer."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.lambda_log_level)
    error_message = "lambda_log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing mode of the transformer. Active also grants xray:PutTrace* (which has no resource-level scoping)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["Active", "PassThrough"], var.lambda_tracing_mode)
    error_message = "lambda_tracing_mode must be Active or PassThrough."
  }
}

variable "aws_sdk_pandas_layer_arn" {
  description = "Optional AWS SDK for pandas layer ARN (AWS only; LocalStack community has no AWS-published layers). Empty = none; the zip carries pyarrow itself."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_sdk_pandas_layer_arn == "" || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.aws_sdk_pandas_layer_arn))
    error_message = "aws_sdk_pandas_layer_arn must be empty or a versioned Lambda layer ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda and Firehose log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, ...)."
  }
}

# --- Compaction (services/compactor) ----------------------------------------------------------

variable "compactor_zip_path" {
  description = "Compactor deployment zip built by scripts/build_lambda.py --function compactor. Relative paths are relative to infra/."
  type        = string
  default     = "../build/lambda/compactor.zip"
}

variable "compaction_time_utc" {
  description = "Time of day (HH:MM, UTC) at which day D is compacted on day D+1; the same run sweeps the last compaction_sweep_days days for late data."
  type        = string
  default     = "01:30"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.compaction_time_utc))
    error_message = "compaction_time_utc must be HH:MM (24-hour, UTC)."
  }
}

variable "compaction_sweep_days" {
  description = "How many past days each scheduled run looks at (N): any of them holding at least compaction_min_uncompacted_files uncompacted files is compacted again (late data)."
  type        = number
  default     = 7

  validation {
    condition     = var.compaction_sweep_days >= 1 && var.compaction_sweep_days <= 90 && floor(var.compaction_sweep_days) == var.compaction_sweep_days
    error_message = "compaction_sweep_days must be a whole number between 1 and 90."
  }
}

variable "compaction_min_uncompacted_files" {
  description = "K: a compacted day is compacted again by the sweep once it holds this many uncompacted (late) files. 1 folds every late event in by the next run; a larger K rewrites days less often."
  type        = number
  default     = 1

  validation {
    condition     = var.compaction_min_uncompacted_files >= 1 && floor(var.compaction_min_uncompacted_files) == var.compaction_min_uncompacted_files
    error_message = "compaction_min_uncompacted_files must be a whole number >= 1."
  }
}

variable "compaction_target_file_mb" {
  description = "Target size of a compacted Parquet file in MiB (Athena OPTIMIZE writes 512 MB, the Glue compaction blueprint 128 MB): a day of B bytes becomes at most ceil(B / target) files."
  type        = number
  default     = 256

  validation {
    condition     = var.compaction_target_file_mb >= 1 && var.compaction_target_file_mb <= 2048
    error_message = "compaction_target_file_mb must be between 1 and 2048."
  }
}

variable "compactor_memory_mb" {
  description = "Compactor memory in MB. DuckDB uses 40% of it as its buffer pool and spills the rest of a day to ephemeral storage."
  type        = number
  default     = 3008

  validation {
    condition     = var.compactor_memory_mb >= 512 && var.compactor_memory_mb <= 10240
    error_message = "compactor_memory_mb must be between 512 and 10240."
  }
}

variable "compactor_timeout_seconds" {
  description = "Compactor timeout in seconds; also the lease a run holds on a day."
  type        = number
  default     = 900

  validation {
    condition     = var.compactor_timeout_seconds >= 60 && var.compactor_timeout_seconds <= 900
    error_message = "compactor_timeout_seconds must be between 60 and 900."
  }
}

variable "compactor_ephemeral_storage_mb" {
  description = "Compactor /tmp in MB: the day's inputs, DuckDB's spill and the outputs must fit in it (the largest day compactable)."
  type        = number
  default     = 10240

  validation {
    condition     = var.compactor_ephemeral_storage_mb >= 512 && var.compactor_ephemeral_storage_mb <= 10240
    error_message = "compactor_ephemeral_storage_mb must be between 512 and 10240."
  }
}

variable "failure_queue_retention_seconds" {
  description = "How long failed-object messages stay in the failure queue (max 14 days) for inspection and replay."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failure_queue_retention_seconds >= 60 && var.failure_queue_retention_seconds <= 1209600
    error_message = "failure_queue_retention_seconds must be between 60 and 1209600."
  }
}

# --- Catalog (Glue + Athena) ------------------------------------------------------------------

variable "enable_catalog" {
  description = "Create the Glue database, the events table (or its crawler) and the Athena workgroup. On in both worlds: locally Glue and Athena are served by our LocalStack extensions (emulator/)."
  type        = bool
  default     = true
}

variable "catalog_mode" {
  description = "How the events table is catalogued: \"projection\" = Terraform defines it from the event contract with Athena partition projection (no crawler; new days are queryable at once); \"crawler\" = the hourly Glue crawler creates it and registers partitions."
  type        = string
  default     = "projection"

  validation {
    condition     = contains(["projection", "crawler"], var.catalog_mode)
    error_message = "catalog_mode must be \"projection\" or \"crawler\"."
  }
}

variable "projection_year_range" {
  description = "Years Athena projects in catalog_mode = \"projection\" (\"first,last\", inclusive). Days outside it stay in S3 but are invisible to Athena; every year in it costs a few S3 listings per query that does not filter on year."
  type        = string
  default     = "2020,2035"

  validation {
    condition     = can(regex("^(\\d{4}),(\\d{4})$", var.projection_year_range)) && try(tonumber(split(",", var.projection_year_range)[0]) <= tonumber(split(",", var.projection_year_range)[1]), false)
    error_message = "projection_year_range must be \"YYYY,YYYY\" with the first year <= the last."
  }
}

variable "crawler_schedule" {
  description = "Glue crawler schedule (cron, UTC) in catalog_mode = \"crawler\". Hourly, as in the original design."
  type        = string
  default     = "cron(0 * * * ? *)"

  validation {
    condition     = can(regex("^cron\\(.+\\)$", var.crawler_schedule))
    error_message = "crawler_schedule must be a cron(...) expression."
  }
}

variable "athena_bytes_scanned_cutoff" {
  description = "Per-query scan limit in bytes for the Athena workgroup (min 10 MB); a runaway query is cancelled, not billed."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.athena_bytes_scanned_cutoff >= 10485760
    error_message = "athena_bytes_scanned_cutoff must be at least 10485760 (10 MB)."
  }
}

variable "queries_dir" {
  description = "Directory of *.sql files published as Athena named queries (`$${database}` is substituted). Relative to infra/."
  type        = string
  default     = "../queries"
}

variable "endpoint_url" {
  description = "API endpoint of a local deployment (the LocalStack gateway): scripts/tf.sh sets it for every local apply, so the outputs say which stack holds the resources they name. null on AWS (the SDKs' regional endpoints)."
  type        = string
  default     = null

  validation {
    condition     = var.endpoint_url == null || can(regex("^https?://[^/]+$", var.endpoint_url))
    error_message = "endpoint_url must be null (AWS) or a scheme and host, e.g. http://localhost:4566."
  }
}
