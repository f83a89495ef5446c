"""Routing events as API Gateway and EventBridge do: which function a request or an event reaches.

API routes come from the functions' Api events; EventBridge rules from their EventBridgeRule events and the
template's AWS::Events::Rule resources, matched with moto's own EventBridge pattern matching.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from moto.events.models import EventPattern

from local_stack.config import ACCOUNT, catalog_path
from local_stack.provision import Resources
from local_stack.runtime import AsyncOutcome
from local_stack.template import FunctionSpec


class Rule(NamedTuple):
    function: str
    bus: str | None  # the bus's logical id; None for the default bus
    pattern: dict[str, Any]
    qualifier: str | None  # what the rule invokes: an alias, $LATEST, or None for the function's own events


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
                params[pattern[1:-1]] = part  # API Gateway's REST API passes them still percent-encoded
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
        invoke_async: Callable[..., AsyncOutcome],
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
            for rule in self.event_rules():
                if matches(rule.pattern, event):
                    return rule.function
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
        """Every rule that targets a function: the functions' EventBridgeRule events (which invoke what the
        function's own events invoke), and AWS::Events::Rule resources (when their condition holds), which invoke
        what their target's ARN names."""
        rules = []
        for logical_id, spec in self.functions.items():
            for ev in spec.events.values():
                if ev.get("Type") == "EventBridgeRule":
                    props = ev["Properties"]
                    rules.append(Rule(logical_id, _ref(props.get("EventBusName")), props.get("Pattern", {}), None))
        for rule_id, resource in self.template.of_type("AWS::Events::Rule").items():
            if not self.template.present(rule_id):
                continue
            props = resource["Properties"]
            for target in props.get("Targets", []):
                invoked = self.target_function(target.get("Arn"))
                if invoked is not None:
                    rules.append(Rule(invoked[0], _ref(props.get("EventBusName")), props["EventPattern"], invoked[1]))
        return [rule._replace(pattern=self.resources.resolve(rule.pattern)) for rule in rules]

    def target_function(self, arn: Any) -> tuple[str, str] | None:
        """(function, qualifier) a rule target's ARN names: `!GetAtt F.Arn` is the bare function ($LATEST),
        `!Ref F.Alias` or `!Ref FAlias<name>` (the alias SAM makes for AutoPublishAlias) and
        `!Sub "${F.Arn}:<name>"` a qualifier."""
        if not isinstance(arn, dict) or len(arn) != 1:
            return None
        ((key, value),) = arn.items()
        if key == "Fn::GetAtt":
            function = value[0] if isinstance(value, list) else str(value).split(".")[0]
            return (function, "$LATEST") if function in self.functions else None
        if key == "Ref":
            for function, spec in self.functions.items():
                if spec.alias and value in (f"{function}Alias{spec.alias}", f"{function}.Alias"):
                    return function, spec.alias
        if key == "Fn::Sub" and isinstance(value, str):
            sub = re.fullmatch(r"\$\{(\w+)\.Arn\}:([\w$-]+)", value)
            if sub and sub[1] in self.functions:
                return sub[1], sub[2]
        return None

    def publish(self, event: dict[str, Any], bus_logical_id: str | None = None) -> list[tuple[str, AsyncOutcome]]:
        """Delivers an event as EventBridge would: to every function whose rule on that bus matches."""
        return [
            (rule.function, self.invoke_async(rule.function, event, qualifier=rule.qualifier))
            for rule in self.event_rules()
            if rule.bus == bus_logical_id and matches(rule.pattern, event)
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
