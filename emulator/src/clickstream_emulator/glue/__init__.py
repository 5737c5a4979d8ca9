"""Local AWS Glue: the Data Catalog on moto's Glue backend, served by LocalStack."""
