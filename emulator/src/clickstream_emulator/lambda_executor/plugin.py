"""plux plugin that makes the executor selectable with LAMBDA_RUNTIME_EXECUTOR=subprocess."""

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class SubprocessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Registered under the entry point group ``localstack.lambda.runtime_executor``."""

    name = "subprocess"

    def load(self, *args, **kwargs):
        # imported lazily, like LocalStack's own docker plugin: loading the plugin index stays cheap
        from clickstream_emulator.lambda_executor.executor import SubprocessRuntimeExecutor

        return SubprocessRuntimeExecutor
