# One plain AWS provider. No endpoints here on purpose: for LocalStack, `tflocal` (run by
# scripts/tf.sh) writes a temporary localstack_providers_override.tf with the local endpoints, so
# the same configuration deploys unchanged to real AWS.
provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}
