# Every object Firehose writes under raw/ invokes the transformer asynchronously.

resource "aws_lambda_permission" "allow_raw_bucket" {
  statement_id   = "AllowS3InvokeFromRawBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this["transformer"].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.this["raw"].arn
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "raw" {
  bucket = aws_s3_bucket.this["raw"].id

  lambda_function {
    id                  = "raw-objects-to-transformer"
    lambda_function_arn = aws_lambda_function.this["transformer"].arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = local.raw_prefix
  }

  # S3 test-invokes the function when the notification is saved: the permission must exist.
  depends_on = [aws_lambda_permission.allow_raw_bucket]
}
