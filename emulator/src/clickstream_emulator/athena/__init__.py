"""Local Amazon Athena: control plane on moto's Athena backend, served by LocalStack."""
