"""clickstream-local's LocalStack extensions, one package per extension.

Each subpackage is a plux plugin (entry points in ``emulator/pyproject.toml``) that LocalStack
loads from its own environment: ``lambda_executor`` runs Lambda functions as local processes.
Nothing here is imported by the pipeline code; the pipeline runs unchanged on AWS.
"""
