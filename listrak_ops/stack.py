"""The resources one command works on: from a deployed stack's CloudFormation resources, or the local stack's.

Either way a command sees the same thing: the table, the import bucket, the queues by logical id, each function's
environment, and a way to invoke a function asynchronously as its event source would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config

from listrak_ops.api import SignedApi

# Every AWS call the tool makes has a timeout; a stuck call fails the command instead of hanging it.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})

# invoke_async(function name or ARN, event) -> (accepted, what happened). An accepted event that fails again is
# parked again by the function's own failure destination, as any other.
AsyncInvoker = Callable[[str, dict[str, Any]], tuple[bool, str]]


class StackNotFound(Exception):
    pass


@dataclass
class StackResources:
    where: str  # how the command names the stack to the operator
    table: str
    import_bucket: str
    queues: dict[str, str]  # logical id -> queue URL
    function_env: Callable[[str], dict[str, str]]
    invoke_async: AsyncInvoker
    client: Callable[[str], Any]
    # The queues whose RedrivePolicy names a dead-letter queue (by URL): SQS's own answer, unless given.
    sources_of: Callable[[str], list[str]] | None = None
    log_groups: list[str] = field(default_factory=list)  # each function's CloudWatch log group
    log_dir: Path | None = None  # the local stack's function logs (one file per function)
    api: SignedApi | None = None  # the stack's API, signed with the operator's credentials

    def dead_letter_sources(self, url: str) -> list[str]:
        if self.sources_of is not None:
            return self.sources_of(url)
        return self.client("sqs").list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", [])

    def dead_letter_queues(self) -> dict[str, str]:
        return {lid: url for lid, url in sorted(self.queues.items()) if "DeadLetter" in lid}


def aws_stack(stack_name: str, session: Any) -> StackResources:
    """A deployed stack: its physical resources from CloudFormation, its functions through the Lambda API."""

    def client(service: str) -> Any:
        return session.client(service, config=CLIENT_CONFIG)

    cfn = client("cloudformation")
    physical: dict[str, tuple[str, str]] = {}
    try:
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for resource in page["StackResourceSummaries"]:
                physical[resource["LogicalResourceId"]] = (resource["ResourceType"], resource["PhysicalResourceId"])
    except cfn.exceptions.ClientError as exc:
        raise StackNotFound(f"stack {stack_name}: {exc.response['Error'].get('Message', exc)}") from exc

    def of_type(kind: str) -> dict[str, str]:
        return {lid: pid for lid, (t, pid) in physical.items() if t == kind}

    functions = of_type("AWS::Lambda::Function")
    lambda_client = client("lambda")

    def function_env(logical_id: str) -> dict[str, str]:
        config = lambda_client.get_function_configuration(FunctionName=functions[logical_id])
        return dict((config.get("Environment") or {}).get("Variables") or {})

    def invoke_async(function: str, event: dict[str, Any]) -> tuple[bool, str]:
        answer = lambda_client.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(event))
        accepted = answer.get("StatusCode") == 202
        return accepted, "queued for the function" if accepted else f"Lambda answered {answer.get('StatusCode')}"

    return StackResources(
        where=f"stack {stack_name}",
        table=of_type("AWS::DynamoDB::Table").get("Table", ""),
        import_bucket=of_type("AWS::S3::Bucket").get("ImportBucket", ""),
        queues=of_type("AWS::SQS::Queue"),
        function_env=function_env,
        invoke_async=invoke_async,
        client=client,
        log_groups=sorted(of_type("AWS::Logs::LogGroup").values()),
        api=SignedApi(_output(cfn, stack_name, "ApiUrl"), session.get_credentials(), session.region_name),
    )


def _output(cfn: Any, stack_name: str, key: str) -> str:
    stacks = cfn.describe_stacks(StackName=stack_name).get("Stacks") or [{}]
    return next((o["OutputValue"] for o in stacks[0].get("Outputs") or [] if o.get("OutputKey") == key), "")


def local_stack() -> StackResources:
    """The local stack a `make api` keeps running (found through the state file it writes), or AWS_ENDPOINT_URL's;
    its functions run in this process. Never whatever happens to listen on a default port."""
    import os

    from local_stack.stack import LocalStack, running_stack

    state = running_stack()
    if state is not None:
        stack = LocalStack(attach_to=state).start()
    elif os.environ.get("AWS_ENDPOINT_URL"):
        stack = LocalStack().attach()
    else:
        raise StackNotFound("no local stack is running: start one with `make api` (or set AWS_ENDPOINT_URL)")
    queues = {lid: url for lid, url in stack.refs.items() if url.startswith("http") and "/" in url}

    def invoke_async(function: str, event: dict[str, Any]) -> tuple[bool, str]:
        # A function ARN (arn:aws:lambda:region:account:function:Name[:qualifier]) or a logical id.
        logical_id = function.split(":")[6] if function.startswith("arn:") else function
        if logical_id not in stack.functions:
            return False, f"the local stack has no function {logical_id}"
        outcome = stack.invoke_async(logical_id, event)
        if outcome.error is None:
            return True, f"ran {logical_id}"
        failed = f"{logical_id} failed again ({type(outcome.error).__name__}: {outcome.error})"
        return outcome.parked_in is not None, failed + ("; parked again" if outcome.parked_in else "")

    # moto's queues carry no RedrivePolicy (the local stack moves given-up messages itself): the template says.
    sources: dict[str, list[str]] = {}
    for logical_id, resource in stack.template.resources.items():
        target = ((resource.get("Properties") or {}).get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        if isinstance(target, dict) and "Fn::GetAtt" in target and logical_id in stack.refs:
            dlq = target["Fn::GetAtt"]
            dlq_id = dlq.split(".")[0] if isinstance(dlq, str) else dlq[0]
            sources.setdefault(stack.refs[dlq_id], []).append(stack.refs[logical_id])

    return StackResources(
        where=f"the local stack at {stack.aws_endpoint}",
        table=stack.refs["Table"],
        import_bucket=stack.refs["ImportBucket"],
        queues=queues,
        function_env=stack.environment_for,
        invoke_async=invoke_async,
        client=lambda service: stack.client(service),
        sources_of=lambda url: sources.get(url, []),
        log_dir=stack.log_dir,
        api=_local_api(stack.support.access_key_id, stack.refs["AWS::Region"]),
    )


def _local_api(access_key_id: str, region: str) -> SignedApi:
    """`make api`'s server, signed with the support key it printed (LOCAL_SUPPORT_SECRET)."""
    import os

    from botocore.credentials import Credentials

    secret = os.environ.get("LOCAL_SUPPORT_SECRET")
    url = os.environ.get("LOCAL_API_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '3000')}"
    return SignedApi(url, Credentials(access_key_id, secret) if secret else None, region)
