# Terraform and provider versions.
# The AWS provider constraint accepts 5.100.0, the version in the offline mirror (/opt/tf-plugins)
# that scripts/tf.sh points Terraform at; anywhere else the registry serves the newest 5.x.
terraform {
  required_version = ">= 1.7.0" # mock_provider in infra/tests and `removed` blocks (sqs.tf)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }

  # Partial configuration: scripts/tf.sh passes `-backend-config=path=...` per environment so
  # local (LocalStack) and AWS states never share a file. Swap for an S3 backend in a team setup.
  backend "local" {}
}
