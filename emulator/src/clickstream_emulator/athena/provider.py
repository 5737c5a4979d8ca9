"""The Athena provider: query execution by DuckDB; workgroups, named queries and catalogs on moto.

moto's Athena backend stores executions but never runs them (it answers canned results). The
handlers here own the execution API (Start/Get/Stop/List/BatchGet QueryExecution,
GetQueryResults): the statement runs in :mod:`clickstream_emulator.athena.engine` over the Glue
tables, read through LocalStack's internal clients, and the result is written to the S3 output
location the workgroup or the request names. The control plane stays on moto, with the
operations the Terraform AWS provider needs that moto lacks (UpdateWorkGroup, DeleteNamedQuery).
"""

from __future__ import annotations

import base64
from typing import Any

from localstack.aws.api import CommonServiceException, RequestContext, handler
from localstack.services.plugins import ServiceLifecycleHook

#: GetQueryResults' MaxResults upper bound (and default), as on Athena.
MAX_RESULTS = 1000


def invalid_request(message: str) -> CommonServiceException:
    return CommonServiceException("InvalidRequestException", message)


class AthenaProvider(ServiceLifecycleHook):
    """Every Athena operation not decorated with ``@handler`` here is answered by moto."""

    service = "athena"

    def __init__(self) -> None:
        from clickstream_emulator.athena.executions import Executions

        self.executions = Executions()

    # ------------------------------------------------------------------ moto's control plane
    @staticmethod
    def _backend(context: RequestContext) -> Any:
        from moto.athena.models import athena_backends

        return athena_backends[context.account_id][context.region]

    def _workgroup(self, context: RequestContext, name: str) -> Any:
        workgroup = self._backend(context).work_groups.get(name)
        if workgroup is None:
            raise invalid_request(f"WorkGroup {name} is not found.")
        return workgroup

    @handler("GetWorkGroup", expand=False)
    def get_work_group(self, context: RequestContext, request: dict[str, Any]) -> dict:
        """An unknown workgroup is InvalidRequestException (moto answers ``null``)."""
        self._workgroup(context, request["WorkGroup"])
        raise NotImplementedError  # known: moto describes it

    @handler("UpdateWorkGroup", expand=False)
    def update_work_group(self, context: RequestContext, request: dict[str, Any]) -> dict:
        """Terraform updates a workgroup in place (moto has no UpdateWorkGroup)."""
        workgroup = self._workgroup(context, request["WorkGroup"])
        if "Description" in request:
            workgroup.description = request["Description"]
        if "State" in request:
            workgroup.state = request["State"]
        updates = request.get("ConfigurationUpdates") or {}
        config = workgroup.configuration
        for key in (
            "EnforceWorkGroupConfiguration",
            "PublishCloudWatchMetricsEnabled",
            "BytesScannedCutoffPerQuery",
            "RequesterPaysEnabled",
            "EngineVersion",
            "EnableMinimumEncryptionConfiguration",
        ):
            if key in updates:
                config[key] = updates[key]
        if updates.get("RemoveBytesScannedCutoffPerQuery"):
            config.pop("BytesScannedCutoffPerQuery", None)
        result_updates = updates.get("ResultConfigurationUpdates") or {}
        result = config.setdefault("ResultConfiguration", {})
        for key in ("OutputLocation", "EncryptionConfiguration", "ExpectedBucketOwner"):
            if key in result_updates:
                result[key] = result_updates[key]
            if result_updates.get(f"Remove{key}"):
                result.pop(key, None)
        return {}

    @handler("DeleteNamedQuery", expand=False)
    def delete_named_query(self, context: RequestContext, request: dict[str, Any]) -> dict:
        self._backend(context).named_queries.pop(request["NamedQueryId"], None)
        return {}

    @staticmethod
    def _named_query_shape(query: Any) -> dict[str, Any]:
        workgroup = query.workgroup
        return {
            "Name": query.name,
            "Description": query.description,
            "Database": query.database,
            "QueryString": query.query_string,
            "NamedQueryId": query.id,
            "WorkGroup": getattr(workgroup, "name", workgroup),
        }

    @handler("GetNamedQuery", expand=False)
    def get_named_query(self, context: RequestContext, request: dict[str, Any]) -> dict:
        """moto answers an unknown id with a 500, which Terraform retries for ever after a restart;
        Athena answers InvalidRequestException, which Terraform reads as "gone, recreate"."""
        query = self._backend(context).named_queries.get(request["NamedQueryId"])
        if query is None:
            raise invalid_request(f"NamedQuery {request['NamedQueryId']} does not exist")
        return {"NamedQuery": self._named_query_shape(query)}

    @handler("BatchGetNamedQuery", expand=False)
    def batch_get_named_query(self, context: RequestContext, request: dict[str, Any]) -> dict:
        named = self._backend(context).named_queries
        found, missing = [], []
        for query_id in request.get("NamedQueryIds") or []:
            query = named.get(query_id)
            if query is None:
                missing.append(
                    {
                        "NamedQueryId": query_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": f"NamedQuery {query_id} was not found",
                    }
                )
                continue
            found.append(self._named_query_shape(query))
        return {"NamedQueries": found, "UnprocessedNamedQueryIds": missing}

    # ------------------------------------------------------------------ metadata (from Glue)
    @staticmethod
    def _metadata(context: RequestContext, operation: str, request: dict[str, Any]) -> dict:
        from clickstream_emulator.athena import metadata_api
        from clickstream_emulator.athena.localstack_catalog import LocalStackCatalog

        handler = getattr(metadata_api, operation)
        try:
            return handler(LocalStackCatalog(context.account_id, context.region), request)
        except metadata_api.MetadataError as err:
            raise CommonServiceException(err.code, err.message) from err

    @handler("ListDataCatalogs", expand=False)
    def list_data_catalogs(self, context: RequestContext, request: dict[str, Any]) -> dict:
        """``AwsDataCatalog`` first, as on Athena, then the catalogs created with the API."""
        from localstack.services.moto import call_moto

        from clickstream_emulator.athena import metadata_api

        created = call_moto(context).get("DataCatalogsSummary") or []
        others = [c for c in created if not metadata_api.is_glue_catalog(c.get("CatalogName"))]
        return {"DataCatalogsSummary": [metadata_api.catalog_summary(), *others]}

    @handler("GetDataCatalog", expand=False)
    def get_data_catalog(self, context: RequestContext, request: dict[str, Any]) -> dict:
        from clickstream_emulator.athena import metadata_api

        if not metadata_api.is_glue_catalog(request["Name"]):
            raise NotImplementedError  # a catalog created with CreateDataCatalog: moto's
        return {"DataCatalog": metadata_api.data_catalog(context.account_id)}

    @handler("ListDatabases", expand=False)
    def list_databases(self, context: RequestContext, request: dict[str, Any]) -> dict:
        return self._metadata(context, "list_databases", request)

    @handler("GetDatabase", expand=False)
    def get_database(self, context: RequestContext, request: dict[str, Any]) -> dict:
        return self._metadata(context, "get_database", request)

    @handler("ListTableMetadata", expand=False)
    def list_table_metadata(self, context: RequestContext, request: dict[str, Any]) -> dict:
        return self._metadata(context, "list_table_metadata", request)

    @handler("GetTableMetadata", expand=False)
    def get_table_metadata(self, context: RequestContext, request: dict[str, Any]) -> dict:
        return self._metadata(context, "get_table_metadata", request)

    # ------------------------------------------------------------------ execution
    @handler("StartQueryExecution", expand=False)
    def start_query_execution(self, context: RequestContext, request: dict[str, Any]) -> dict:
        from clickstream_emulator.athena.executions import QueryExecution, new_id
        from clickstream_emulator.athena.localstack_catalog import LocalStackCatalog

        workgroup_name = request.get("WorkGroup") or "primary"
        workgroup = self._workgroup(context, workgroup_name)
        config = workgroup.configuration or {}
        group_result = config.get("ResultConfiguration") or {}
        asked = request.get("ResultConfiguration") or {}
        enforce = bool(config.get("EnforceWorkGroupConfiguration"))
        result = group_result if enforce else {**group_result, **asked}
        output = result.get("OutputLocation")
        if not output:
            raise invalid_request(
                "No output location provided. An output location is required either through "
                "the Workgroup result configuration setting or as an API input."
            )
        context_db = (request.get("QueryExecutionContext") or {}).get("Database") or "default"
        cutoff = config.get("BytesScannedCutoffPerQuery")
        execution = QueryExecution(
            id=new_id(),
            query=request["QueryString"],
            workgroup=workgroup_name,
            database=context_db,
            output_location=output if output.endswith("/") else output + "/",
            encryption=result.get("EncryptionConfiguration"),
            cutoff_bytes=int(cutoff) if cutoff else None,
            account_id=context.account_id,
            region=context.region,
            enforced=enforce,
        )
        catalog = LocalStackCatalog(context.account_id, context.region)
        self.executions.start(execution, catalog, catalog.write_results)
        return {"QueryExecutionId": execution.id}

    def _execution(self, context: RequestContext, query_id: str) -> Any:
        execution = self.executions.get(context.account_id, context.region, query_id)
        if execution is None:
            raise invalid_request(f"QueryExecution {query_id} was not found")
        return execution

    @handler("GetQueryExecution", expand=False)
    def get_query_execution(self, context: RequestContext, request: dict[str, Any]) -> dict:
        execution = self._execution(context, request["QueryExecutionId"])
        return {"QueryExecution": execution.describe()}

    @handler("BatchGetQueryExecution", expand=False)
    def batch_get_query_execution(self, context: RequestContext, request: dict[str, Any]) -> dict:
        found, missing = [], []
        for query_id in request.get("QueryExecutionIds") or []:
            execution = self.executions.get(context.account_id, context.region, query_id)
            if execution is None:
                missing.append(
                    {
                        "QueryExecutionId": query_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": f"QueryExecution {query_id} was not found",
                    }
                )
            else:
                found.append(execution.describe())
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    @handler("ListQueryExecutions", expand=False)
    def list_query_executions(self, context: RequestContext, request: dict[str, Any]) -> dict:
        workgroup = request.get("WorkGroup") or "primary"
        self._workgroup(context, workgroup)
        ids = [e.id for e in self.executions.list(context.account_id, context.region, workgroup)]
        start = _offset(request.get("NextToken"))
        size = int(request.get("MaxResults") or 50)
        page = ids[start : start + size]
        answer: dict[str, Any] = {"QueryExecutionIds": page}
        if start + size < len(ids):
            answer["NextToken"] = _token(start + size)
        return answer

    @handler("StopQueryExecution", expand=False)
    def stop_query_execution(self, context: RequestContext, request: dict[str, Any]) -> dict:
        self.executions.stop(self._execution(context, request["QueryExecutionId"]))
        return {}

    @handler("GetQueryResults", expand=False)
    def get_query_results(self, context: RequestContext, request: dict[str, Any]) -> dict:
        from clickstream_emulator.athena.executions import FINAL_STATES, SUCCEEDED
        from clickstream_emulator.athena.results import result_rows

        execution = self._execution(context, request["QueryExecutionId"])
        if execution.state not in FINAL_STATES:
            raise invalid_request(f"Query has not yet finished. Current state: {execution.state}")
        if execution.state != SUCCEEDED or execution.outcome is None:
            raise invalid_request(
                f"Query did not finish successfully. Final query state: {execution.state}"
                + (f"\n{execution.reason}" if execution.reason else "")
            )
        size = int(request.get("MaxResults") or MAX_RESULTS)
        if not 1 <= size <= MAX_RESULTS:
            raise invalid_request(
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
                f"constraint: Member must have value less than or equal to {MAX_RESULTS}"
            )
        rows = result_rows(execution.outcome)
        start = _offset(request.get("NextToken"))
        answer: dict[str, Any] = {
            "UpdateCount": execution.outcome.update_count,
            "ResultSet": {
                "Rows": rows[start : start + size],
                "ResultSetMetadata": {"ColumnInfo": execution.outcome.columns},
            },
        }
        if start + size < len(rows):
            answer["NextToken"] = _token(start + size)
        return answer


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except (ValueError, UnicodeDecodeError):
        pass
    raise invalid_request("The NextToken is invalid.")
