"""Provisioning: what template.yaml declares (tables, secrets, buses, queues, buckets), created on the AWS endpoint.

`Resources` holds the physical names it gave them (Refs and Fn::GetAtt values), which the rest of the local stack
resolves the template against.
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

import boto3

from local_stack.config import ACCOUNT, REGION
from local_stack.template import Template

BUS_TAP_RULE = "local-stack-tap"


class Resources:
    """The template's resources on one AWS endpoint, and the physical ids they were given."""

    def __init__(self, template: Template, prefix: str) -> None:
        self.template = template
        self.prefix = prefix
        self.aws_endpoint: str | None = None
        self.refs: dict[str, str] = {"AWS::Region": REGION, "AWS::StackName": prefix}
        self.attributes: dict[tuple[str, str], str] = {}
        self.taps: dict[str, str] = {}  # bus logical id -> the local queue that sees its events
        self.credentials: dict[str, tuple[str, str]] = {}  # Listrak integration -> (client id, client secret)
        self.shopify_webhook_secret = ""
        # Whether every secret must match what the stack decides (a Listrak sandbox of its own).
        self.own_listrak = False
        # Attached to a serving stack (make api): its secrets are its own, never reset from here.
        self.attached = False
        # Held while a function runs and while a client is made: boto3's default session is not safe to make
        # clients from in two threads at once (make api's requests and its background work).
        self.lock = threading.RLock()

    @property
    def region(self) -> str:
        return self.refs["AWS::Region"]

    def client(self, service: str) -> Any:
        with self.lock:
            return boto3.client(service, endpoint_url=self.aws_endpoint, region_name=self.region)

    def resolve(self, value: Any) -> Any:
        return self.template.resolve(value, self.refs, self.attributes)

    def provision(self) -> None:
        for logical_id, resource in self.template.resources.items():
            if not self.template.present(logical_id):
                continue
            kind = resource.get("Type")
            props = resource.get("Properties", {})
            if kind == "AWS::DynamoDB::Table":
                self._table(logical_id, props)
            elif kind == "AWS::SecretsManager::Secret":
                self._secret(logical_id, props)
            elif kind == "AWS::Events::EventBus":
                self._bus(logical_id, props)
            elif kind == "AWS::SQS::Queue":
                self._queue(logical_id)
            elif kind == "AWS::S3::Bucket":
                self._bucket(logical_id)

    def logical_id_of(self, physical: str) -> str | None:
        """The template's name for a provisioned resource (a queue URL, a table name)."""
        return next((logical_id for logical_id, value in self.refs.items() if value == physical), None)

    def queue_url(self, arn_or_url: str) -> str:
        for (logical_id, attribute), value in self.attributes.items():
            if attribute == "Arn" and value == arn_or_url:
                return self.refs[logical_id]
        return arn_or_url

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        name = f"{self.prefix}-{logical_id}"
        ddb = self.client("dynamodb")
        with contextlib.suppress(ddb.exceptions.ResourceInUseException):
            extra = (
                {"GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"]} if "GlobalSecondaryIndexes" in props else {}
            )
            ddb.create_table(
                TableName=name,
                AttributeDefinitions=props["AttributeDefinitions"],
                KeySchema=props["KeySchema"],
                BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
                **extra,
            )
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        self.refs[logical_id] = name
        self.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{name}"

    def _secret(self, logical_id: str, props: dict[str, Any]) -> None:
        name = f"{self.prefix}/{logical_id}"
        value = props.get("SecretString", "{}")
        managed = self.own_listrak  # a sandbox of ours: every secret must match it
        if logical_id == "ShopifyWebhookSecret":
            value, managed = self.shopify_webhook_secret, not self.attached  # never another stack's
        for integration, (client_id, client_secret) in self.credentials.items():
            if logical_id.startswith(integration) and "Credentials" in logical_id:
                value = json.dumps({"clientId": client_id, "clientSecret": client_secret})
                managed = True
        sm = self.client("secretsmanager")
        try:
            arn = sm.create_secret(Name=name, SecretString=value)["ARN"]
        except sm.exceptions.ResourceExistsException:
            arn = sm.describe_secret(SecretId=name)["ARN"]
            if managed:
                sm.put_secret_value(SecretId=arn, SecretString=value)
        self.refs[logical_id] = arn

    def _bus(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.resolve(props.get("Name", f"{self.prefix}-{logical_id}"))
        events = self.client("events")
        with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
            if "EventSourceName" in props:  # a partner bus: the partner (Shopify) creates its source first
                source = self.resolve(props["EventSourceName"])
                with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
                    events.create_partner_event_source(Name=source, Account=ACCOUNT)
                events.create_event_bus(Name=name, EventSourceName=source)
            else:
                events.create_event_bus(Name=name)
        self.refs[logical_id] = name
        self.attributes[(logical_id, "Arn")] = f"arn:aws:events:{self.region}:{ACCOUNT}:event-bus/{name}"
        if "EventSourceName" not in props:
            self._tap(logical_id, name)

    def _tap(self, logical_id: str, bus_name: str) -> None:
        """Everything functions put on the bus also lands in a local queue, so deliver_events() can route it."""
        url = self.client("sqs").create_queue(QueueName=f"{self.prefix}-tap-{logical_id}")["QueueUrl"]
        events = self.client("events")
        events.put_rule(Name=BUS_TAP_RULE, EventBusName=bus_name, EventPattern=json.dumps({"account": [ACCOUNT]}))
        arn = f"arn:aws:sqs:{self.region}:{ACCOUNT}:{url.rsplit('/', 1)[1]}"
        events.put_targets(Rule=BUS_TAP_RULE, EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": arn}])
        self.taps[logical_id] = url

    def _queue(self, logical_id: str) -> None:
        url = self.client("sqs").create_queue(QueueName=f"{self.prefix}-{logical_id}")["QueueUrl"]
        self.refs[logical_id] = url
        self.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{self.region}:{ACCOUNT}:{url.rsplit('/', 1)[1]}"

    def _bucket(self, logical_id: str) -> None:
        name = f"{self.prefix}-{logical_id}".lower()
        s3 = self.client("s3")
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
            s3.create_bucket(Bucket=name)
        props = self.template.resources[logical_id].get("Properties", {})
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.refs[logical_id] = name
        self.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{name}"
