# Upgrades in place a deployment made when each function had its own resources (one block each in
# lambda.tf, compactor.tf and iam.tf): the same objects, now instances of the for_each resources
# over local.functions. `terraform plan` of such a deployment moves these and creates or destroys
# nothing. Keep them while any deployment may still predate the change.

moved {
  from = aws_s3_object.lambda_zip
  to   = aws_s3_object.lambda_zip["transformer"]
}

moved {
  from = aws_s3_object.compactor_zip
  to   = aws_s3_object.lambda_zip["compactor"]
}

moved {
  from = aws_cloudwatch_log_group.lambda
  to   = aws_cloudwatch_log_group.lambda["transformer"]
}

moved {
  from = aws_cloudwatch_log_group.compactor
  to   = aws_cloudwatch_log_group.lambda["compactor"]
}

moved {
  from = aws_lambda_function.transformer
  to   = aws_lambda_function.this["transformer"]
}

moved {
  from = aws_lambda_function.compactor
  to   = aws_lambda_function.this["compactor"]
}

moved {
  from = aws_iam_role.lambda
  to   = aws_iam_role.lambda["transformer"]
}

moved {
  from = aws_iam_role.compactor
  to   = aws_iam_role.lambda["compactor"]
}

moved {
  from = aws_iam_role_policy.lambda
  to   = aws_iam_role_policy.lambda["transformer"]
}

moved {
  from = aws_iam_role_policy.compactor
  to   = aws_iam_role_policy.lambda["compactor"]
}
