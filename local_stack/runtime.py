"""Invoking functions as Lambda does: in-process, with the template's environment, a context, logs kept per function.

Synchronous invocations (API Gateway's) raise a function error; asynchronous ones (EventBridge's, a schedule's)
are retried and then sent to the function's on-failure destination.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from botocore.exceptions import ClientError

from local_stack.config import ACCOUNT, REGION, catalog_path
from local_stack.provision import Resources
from local_stack.recursion import Lineage, LoopTracker
from local_stack.template import FunctionSpec, patched_environ

# What Lambda does with a failed asynchronous invocation of a qualifier without an EventInvokeConfig.
DEFAULT_ASYNC_RETRIES = 2


class FakeLambdaContext:
    def __init__(self, spec: FunctionSpec):
        self.function_name = spec.logical_id
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{spec.logical_id}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.logical_id}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class AsyncOutcome:
    result: Any = None
    error: Exception | None = None
    attempts: int = 1
    parked_in: str | None = None  # the dead-letter queue URL when it ended there


class FunctionRunner:
    """The template's functions, each loaded once per "container" (until cold_start) and run one at a time."""

    def __init__(self, functions: dict[str, FunctionSpec], resources: Resources, log_dir: Path) -> None:
        self.functions = functions
        self.resources = resources
        self.log_dir = log_dir
        self.listrak_urls: dict[str, str] = {}
        self.env_overrides: dict[str, str] = {}  # applied to every function (tests tune timeouts with it)
        self.lock = resources.lock  # one function at a time, as the in-process environment is shared
        self.loops = LoopTracker()
        self._modules: dict[str, ModuleType] = {}

    def cold_start(self, logical_id: str | None = None) -> None:
        """Drop the loaded handler module(s): the next invocation starts like a new Lambda container."""
        for name in [logical_id] if logical_id else list(self._modules):
            self._modules.pop(name, None)
        clients = sys.modules.get("listrak_kit.aws.clients")
        if clients is not None:  # boto3 clients bound to another stack's endpoint
            clients.aws_client.cache_clear()

    def environment_for(self, logical_id: str) -> dict[str, str]:
        env = self.resources.resolve(self.functions[logical_id].environment)
        env = {k: str(v) for k, v in env.items()}
        env.update(self.listrak_urls)
        env["AWS_LAMBDA_FUNCTION_NAME"] = logical_id
        if os.environ.get("CATALOG_PATH"):
            env["CATALOG_PATH"] = str(catalog_path())
        env["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon here: the Tracer records and patches nothing
        env.update(self.env_overrides)
        return env

    def function_env(self, logical_id: str) -> contextlib.AbstractContextManager[None]:
        return patched_environ(self.environment_for(logical_id))

    def handler(self, logical_id: str) -> Any:
        spec = self.functions[logical_id]
        module = self._modules.get(logical_id)
        if module is None:
            module = self._modules[logical_id] = spec.import_module(f"lambda_{logical_id}")
        return getattr(module, spec.function_name)

    def invoke(self, logical_id: str, event: dict[str, Any], *, lineage: Lineage | None = None) -> Any:
        """A synchronous invocation (what API Gateway does); exceptions propagate like a function error.

        `lineage` is the event chain the invocation continues (see local_stack.recursion); none starts one.
        """
        if logical_id not in self.functions:
            raise KeyError(f"template.yaml has no function {logical_id}; it has {', '.join(self.functions)}")
        self.loops.install()
        chain = lineage or self.loops.next_hop({}, logical_id)
        with self.lock, self.function_env(logical_id), self._capture_logs(logical_id), self.loops.invocation(chain):
            handler = self.handler(logical_id)
            # As Lambda does: the function gets the event decoded from JSON (however deep), never the caller's objects.
            return handler(json.loads(json.dumps(event)), FakeLambdaContext(self.functions[logical_id]))

    def invoke_async(self, logical_id: str, event: dict[str, Any], *, qualifier: str | None = None) -> AsyncOutcome:
        """An asynchronous invocation (what EventBridge does): retried, then sent to the on-failure queue.

        The function's EventInvokeConfig applies to what SAM attached it to (the alias, when the function has
        one); an invocation of another qualifier (a rule that targets the bare function: $LATEST) gets
        Lambda's defaults, two retries and no destination. No qualifier: as the function's own events invoke it.
        """
        spec = self.functions[logical_id]
        qualifier = qualifier or spec.config_qualifier
        configured = qualifier == spec.config_qualifier
        retries = spec.max_async_retries if configured else DEFAULT_ASYNC_RETRIES
        outcome = AsyncOutcome()
        for attempt in range(1, retries + 2):
            outcome.attempts = attempt
            try:
                outcome.result = self.invoke(logical_id, event)
                outcome.error = None
                return outcome
            except Exception as exc:  # a function error, as Lambda sees it
                outcome.error = exc
        if configured and spec.on_failure_destination is not None:
            url = self.resources.queue_url(self.resources.resolve(spec.on_failure_destination))
            try:
                self.resources.client("sqs").send_message(
                    QueueUrl=url, MessageBody=json.dumps(_failure_record(spec, qualifier, event, outcome))
                )
                outcome.parked_in = url
            except ClientError:
                # Larger than SQS takes; in AWS, Lambda would not have accepted such an event in the first place.
                outcome.parked_in = None
        return outcome

    def log(self, logical_id: str, line: str) -> None:
        """A line in the function's log from Lambda itself (as the platform's own lines appear in CloudWatch)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{logical_id}.log").open("a", encoding="utf-8") as log:
            log.write(line + "\n")

    @contextlib.contextmanager
    def _capture_logs(self, logical_id: str) -> Iterator[None]:
        # Function logs go to a file per function (as CloudWatch would keep them), not into the console.
        self.log_dir.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        # Powertools' Logger keeps the stdout it saw at import: point every stream handler at the buffer too.
        handlers = [
            h
            for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
            if isinstance(logger, logging.Logger)
            for h in logger.handlers
            if type(h) is logging.StreamHandler
        ]
        previous = [h.setStream(buffer) for h in handlers]
        with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
            # Powertools warns when an invocation emitted no metric; in Lambda that goes to the log too.
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            try:
                yield
            finally:
                for handler, stream in zip(handlers, previous, strict=True):
                    handler.setStream(stream)
                with (self.log_dir / f"{logical_id}.log").open("a", encoding="utf-8") as log:
                    log.write(buffer.getvalue())


def _failure_record(spec: FunctionSpec, qualifier: str, event: dict[str, Any], outcome: AsyncOutcome) -> dict[str, Any]:
    """The record Lambda puts on an on-failure destination, so the local queue holds what AWS would."""
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{spec.logical_id}:{qualifier}",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": outcome.attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": str(outcome.error), "errorType": type(outcome.error).__name__},
    }
