"""Routing events as API Gateway and EventBridge do: which function a request or an event reaches.

API routes come from the functions' Api events; EventBridge rules from their EventBridgeRule events and the
template's AWS::Events::Rule resources, matched with moto's own EventBridge pattern matching.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from moto.events.models import EventPattern

from local_stack.config import ACCOUNT, catalog_path
from local_stack.provision import Resources
from local_stack.runtime import AsyncOutcome
from local_stack.template import FunctionSpec

# (function, bus logical id or None for the default bus, pattern)
Rule = tuple[str, str | None, dict[str, Any]]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str
    logical_id: str
    api_key_required: bool
    iam_auth: bool = False  # Auth: {Authorizer: AWS_IAM}: the caller signs with IAM credentials (SigV4)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method.upper():
            return None
        want, got = self.path.strip("/").split("/"), path.strip("/").split("/")
        if len(want) != len(got):
            return None
        params = {}
        for pattern, part in zip(want, got, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                params[pattern[1:-1]] = unquote(part)  # API Gateway passes path parameters decoded
            elif pattern != part:
                return None
        return params


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's pattern matching (moto's implementation of it)."""
    return EventPattern(None, pattern).matches_event(event)


class EventRouter:
    """The template's API routes and EventBridge rules, delivering to functions through `invoke_async`."""

    def __init__(
        self,
        functions: dict[str, FunctionSpec],
        resources: Resources,
        invoke_async: Callable[[str, dict[str, Any]], AsyncOutcome],
    ) -> None:
        self.functions = functions
        self.resources = resources
        self.invoke_async = invoke_async

    @property
    def template(self) -> Any:
        return self.resources.template

    def api_routes(self) -> list[ApiRoute]:
        routes = []
        apis = self.template.of_type("AWS::Serverless::Api")
        for logical_id, spec in self.functions.items():
            for event in spec.events.values():
                if event.get("Type") != "Api":
                    continue
                props = event.get("Properties", {})
                api_id = props.get("RestApiId", {}).get("Ref") if isinstance(props.get("RestApiId"), dict) else None
                auth = apis.get(api_id, {}).get("Properties", {}).get("Auth", {})
                required = props.get("Auth", {}).get("ApiKeyRequired", auth.get("ApiKeyRequired", False))
                iam = props.get("Auth", {}).get("Authorizer", auth.get("DefaultAuthorizer")) == "AWS_IAM"
                routes.append(ApiRoute(props["Method"].upper(), props["Path"], logical_id, bool(required), iam))
        return routes

    def route(self, event: dict[str, Any]) -> str:
        """Which function the template sends this sample event to."""
        if "httpMethod" in event:
            for route in self.api_routes():
                if route.match(event["httpMethod"], event.get("resource") or event.get("path", "")) is not None:
                    return route.logical_id
            raise LookupError(f"no function serves {event['httpMethod']} {event.get('path')}")
        if "detail-type" in event:
            for logical_id, _bus, pattern in self.event_rules():
                if matches(pattern, event):
                    return logical_id
            raise LookupError(self._no_rule(event["detail-type"]))
        raise LookupError("neither an API Gateway event nor an EventBridge event")

    def _no_rule(self, detail_type: str) -> str:
        """Says which rule to add a catalog trigger to; for another detail-type, that nothing listens for it."""
        from listrak_kit.catalog.model import load_catalog
        from local_stack.check import missing_from_rule, triggered_by

        path = catalog_path()
        messages = triggered_by(load_catalog(path)).get(str(detail_type))
        if not messages:
            return f"no rule matches detail-type {detail_type!r}, and no catalog message has a trigger on it"
        return missing_from_rule(detail_type, self.template, messages=messages, catalog=str(path))

    def event_rules(self) -> list[Rule]:
        """(function, bus logical id or None for the default bus, pattern) for every rule that targets a function:
        the functions' EventBridgeRule events, and AWS::Events::Rule resources (when their condition holds)."""
        rules = []
        for logical_id, spec in self.functions.items():
            for ev in spec.events.values():
                if ev.get("Type") == "EventBridgeRule":
                    rules.append((logical_id, _ref(ev["Properties"].get("EventBusName")), ev["Properties"]))
        for rule_id, resource in self.template.of_type("AWS::Events::Rule").items():
            if not self.template.present(rule_id):
                continue
            props = resource["Properties"]
            for target in props.get("Targets", []):
                arn = target.get("Arn")
                if isinstance(arn, dict) and "Fn::GetAtt" in arn and arn["Fn::GetAtt"][0] in self.functions:
                    rules.append(
                        (arn["Fn::GetAtt"][0], _ref(props.get("EventBusName")), {"Pattern": props["EventPattern"]})
                    )
        return [(logical_id, bus, self.resources.resolve(props.get("Pattern", {}))) for logical_id, bus, props in rules]

    def publish(self, event: dict[str, Any], bus_logical_id: str | None = None) -> list[tuple[str, AsyncOutcome]]:
        """Delivers an event as EventBridge would: to every function whose rule on that bus matches."""
        return [
            (logical_id, self.invoke_async(logical_id, event))
            for logical_id, bus, pattern in self.event_rules()
            if bus == bus_logical_id and matches(pattern, event)
        ]

    def deliver_events(self) -> list[tuple[str, AsyncOutcome]]:
        """What EventBridge does after functions put events on a bus: each goes to every rule that matches it."""
        delivered = []
        sqs = self.resources.client("sqs")
        for bus_logical_id, url in self.resources.taps.items():
            while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                for message in messages:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    event = json.loads(message["Body"])
                    # moto leaves out parts of the envelope EventBridge always sets.
                    event = {
                        "version": "0",
                        "account": ACCOUNT,
                        "region": self.resources.region,
                        "resources": [],
                    } | event
                    delivered += self.publish(event, bus_logical_id)
        return delivered

    def drop_file(self, bucket_logical_id: str, key: str, body: bytes) -> list[tuple[str, AsyncOutcome]]:
        """Puts an object and sends its Object Created event to the default bus, as the bucket is set up to."""
        bucket = self.resources.refs[bucket_logical_id]
        answer = self.resources.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": ACCOUNT,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": self.resources.region,
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {"key": key, "size": len(body), "etag": answer["ETag"].strip('"')},
                "reason": "PutObject",
            },
        }
        return self.publish(event)


def _ref(value: Any) -> Any:
    return value.get("Ref") if isinstance(value, dict) else value
