"""Starts moto and the Listrak sandbox on 127.0.0.1, provisions what template.yaml declares, runs its functions.

The functions run in-process with the environment the template gives them (Refs resolved to the local
resources), so the code that runs here is the code that runs in Lambda. Set AWS_ENDPOINT_URL to use an
AWS endpoint of your own, and LISTRAK_AUTH_URL / LISTRAK_EMAIL_API_URL / LISTRAK_DATA_API_URL (with
LISTRAK_EMAIL_CLIENT_ID/SECRET, LISTRAK_DATA_CLIENT_ID/SECRET) to use a Listrak of your own.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import secrets
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import boto3
import requests
from botocore.exceptions import ClientError

from local_stack import ROOT, TEMPLATE
from local_stack.iam_auth import Principal
from local_stack.sandbox import ListrakSandbox
from local_stack.sandbox.wire import ACTIVITY_LAG_SECONDS
from local_stack.sms_account import register_sms
from local_stack.template import FunctionSpec, Template, patched_environ

REGION = "us-east-1"
ACCOUNT = "123456789012"
LISTRAK_URL_VARS = ("LISTRAK_AUTH_URL", "LISTRAK_EMAIL_API_URL", "LISTRAK_DATA_API_URL", "LISTRAK_SMS_API_URL")
# Shopify's partner event source, as the local stack names it (the template's parameter is empty by default).
LOCAL_SHOPIFY_SOURCE = "aws.partner/shopify.com/1234567/local-storefront"
# The secret the local shop signs its webhooks with (set SHOPIFY_WEBHOOK_SECRET to use your own); events/ samples
# of POST /webhooks/shopify are signed with it.
LOCAL_SHOPIFY_WEBHOOK_SECRET = "local-shopify-webhook-secret"
BUS_TAP_RULE = "local-stack-tap"
# The catalog the send functions load: theirs (functions/send/catalog.toml) unless CATALOG_PATH names another.
USER_CATALOG = ROOT / "functions" / "send" / "catalog.toml"
# The maxLength of the catalog's profile fields in the sandbox: a send with a longer value is refused
# (as long as the project's default SEND_FIELD_MAX_CHARS).
FIELD_MAX_LENGTH = 4000
ITEMS_FIELD_MAX_LENGTH = 64_000
# The audience the sandbox knows, for contacts/ imports (samples/imports/contacts uses these names).
AUDIENCE_LIST = (400001, "Master List")
AUDIENCE_FIELDS = (
    (
        91,
        "Profile",
        ((9101, "First Name", "Text", 50), (9102, "Last Name", "Text", 50), (9103, "Birthday", "Date", 10)),
    ),
    (92, "Loyalty", ((9201, "Loyalty Tier", "Text", 30), (9202, "Points", "Numeric", 10))),
)


def catalog_path() -> Path:
    override = os.environ.get("CATALOG_PATH")
    return (ROOT / override).resolve() if override else USER_CATALOG


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


def state_file() -> Path:
    """Where a serving stack says where it is (LOCAL_STACK_STATE overrides it)."""
    return Path(os.environ.get("LOCAL_STACK_STATE") or ROOT / ".local-stack" / "stack.json")


def running_stack() -> dict[str, Any] | None:
    """What a running `make api` advertises in its state file, when its process and endpoints answer."""
    path = state_file()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(state["pid"]), 0)
        for url in (state["aws_endpoint"], state["listrak_urls"]["LISTRAK_AUTH_URL"]):
            requests.head(url, timeout=2)
    except (OSError, ValueError, KeyError, TypeError, requests.RequestException):
        return None  # none, or one left by a stack that is gone
    return state


# Template parameters `make api`, `make run` and `make invoke` take from the environment when it sets them.
PARAMETERS_FROM_ENV = {
    "SEND_RECONCILE_AFTER_SECONDS": "SendReconcileAfterSeconds",
    "SEND_MAX_ATTEMPTS": "SendMaxAttempts",
}


def parameters_from_env() -> dict[str, str]:
    return {param: os.environ[name] for name, param in PARAMETERS_FROM_ENV.items() if os.environ.get(name)}


class LocalStack:
    def __init__(
        self,
        *,
        template_path: Path = TEMPLATE,
        prefix: str = "listrak-local",
        log_dir: Path | None = None,
        attach_to: dict[str, Any] | None = None,
    ):
        self.template = Template.load(
            template_path, {"ShopifyEventSourceName": LOCAL_SHOPIFY_SOURCE, **parameters_from_env()}
        )
        self.functions = self.template.functions()
        self.prefix = prefix
        self.log_dir = log_dir or ROOT / ".local-stack" / "logs"
        self.api_key = os.environ.get("LOCAL_API_KEY") or secrets.token_urlsafe(24)
        self.shopify_webhook_secret = os.environ.get("SHOPIFY_WEBHOOK_SECRET") or LOCAL_SHOPIFY_WEBHOOK_SECRET
        # The IAM principal a support person signs with on AWS_IAM routes (local_stack.iam_auth checks it).
        self.support = Principal(
            access_key_id="AKIALOCALSUPPORT0001",
            secret_access_key=os.environ.get("LOCAL_SUPPORT_SECRET") or secrets.token_urlsafe(30),
            arn=f"arn:aws:iam::{ACCOUNT}:user/local-support",
            account=ACCOUNT,
        )
        self.sandbox: ListrakSandbox | None = None
        self.aws_endpoint: str | None = None
        self.listrak_urls: dict[str, str] = {}
        self.credentials: dict[str, tuple[str, str]] = {}
        self.refs: dict[str, str] = {"AWS::Region": REGION}
        self.attributes: dict[tuple[str, str], str] = {}
        self._moto = None
        self._modules: dict[str, ModuleType] = {}
        self._invoke_lock = threading.RLock()
        self._saved_env: dict[str, str | None] = {}
        self._taps: dict[str, str] = {}  # bus logical id -> the local queue that sees its events
        self.env_overrides: dict[str, str] = {}  # applied to every function (tests tune timeouts with it)
        # Another process's stack (see running_stack): its AWS endpoint and Listrak, so both see one state.
        self.attached_to = attach_to
        self._catalog_seen: tuple[str, int, int] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        for old in [] if self.attached_to else self.log_dir.glob("*.log"):
            old.unlink()
        self._catalog_seen = _stamp(self.catalog_path)
        try:
            self._start_aws()
            self._start_listrak()
            self.cold_start()
            self.provision()
        except BaseException:  # a broken catalog, say: stop what did start, put the environment back
            self.stop()
            raise
        return self

    def attach(self) -> LocalStack:
        """This stack's view of a local stack already running (`make api`): its moto and its Listrak, no servers.

        The fixed ports `make api` uses (LOCAL_AWS_PORT, LOCAL_LISTRAK_PORT), unless AWS_ENDPOINT_URL and the
        LISTRAK_*_URL variables say otherwise. Resources it lacks are created; secrets it has are left alone.
        """
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{os.environ.get('LOCAL_AWS_PORT', '5000')}"
        self._set_env("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION", REGION))
        self.refs["AWS::Region"] = os.environ["AWS_DEFAULT_REGION"]
        self.aws_endpoint = endpoint
        self._set_env("AWS_ENDPOINT_URL", endpoint)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            self._set_env(name, os.environ.get(name) or "testing")
        if all(os.environ.get(v) for v in LISTRAK_URL_VARS):
            self.listrak_urls = {v: os.environ[v] for v in LISTRAK_URL_VARS}
        else:
            base = f"http://127.0.0.1:{os.environ.get('LOCAL_LISTRAK_PORT', '8025')}"
            urls = (f"{base}/OAuth2/Token", f"{base}/email", f"{base}/data", f"{base}/sms")
            self.listrak_urls = dict(zip(LISTRAK_URL_VARS, urls, strict=True))
        self.provision()
        return self

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
        if self._moto is not None:
            self._moto.stop()
        self.cold_start()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """A clean slate between tests: empty AWS and Listrak state, every function cold again."""
        if self._moto is not None:
            requests.post(f"{self.aws_endpoint}/moto-api/reset", timeout=10).raise_for_status()
        if self.sandbox is not None:
            self.sandbox.reset()
        self.env_overrides.clear()
        if self.sandbox is not None:
            self.sandbox.resend_key_in_send_response = False
            self.sandbox.activity_delay_seconds = ACTIVITY_LAG_SECONDS
            self.sandbox.list_import_polls_until_done = 2
            self.sandbox.list_import_final_status = None
            self.sandbox.list_import_without_id = False
            self.sandbox.refuse_unsubscribe_with_data = True
        self.cold_start()
        self.provision()

    def cold_start(self, logical_id: str | None = None) -> None:
        """Drop the loaded handler module(s): the next invocation starts like a new Lambda container."""
        for name in [logical_id] if logical_id else list(self._modules):
            self._modules.pop(name, None)
        clients = sys.modules.get("listrak_kit.aws.clients")
        if clients is not None:  # boto3 clients bound to another stack's endpoint
            clients.aws_client.cache_clear()

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    @contextlib.contextmanager
    def advertised(self) -> Iterator[Path]:
        """While it lasts, `make invoke` finds this stack and shares its state (see running_stack)."""
        path = state_file()
        state = {"pid": os.getpid(), "aws_endpoint": self.aws_endpoint, "listrak_urls": self.listrak_urls}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state | {"catalog": str(self.catalog_path)}), encoding="utf-8")
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def reload_catalog_if_changed(self) -> bool:
        """After an edit to the catalog file, every function loads it again on its next invocation."""
        with self._invoke_lock:
            stamp = _stamp(self.catalog_path)
            if stamp == self._catalog_seen:
                return False
            self._catalog_seen = stamp
            self.cold_start()
            self.register_catalog()  # raises ConfigurationError, with its one-line reason, for a broken edit
            return True

    def _start_aws(self) -> None:
        self._set_env("AWS_DEFAULT_REGION", os.environ.get("AWS_DEFAULT_REGION", REGION))
        self.refs["AWS::Region"] = os.environ["AWS_DEFAULT_REGION"]
        if os.environ.get("AWS_ENDPOINT_URL") and not self.attached_to:
            self.aws_endpoint = os.environ["AWS_ENDPOINT_URL"]
            return
        if self.attached_to:
            self.aws_endpoint = self.attached_to["aws_endpoint"]
        else:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

            port = int(os.environ.get("LOCAL_AWS_PORT", "0"))  # fixed, for sam local invoke (see env.json)
            self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            self._moto.start()
            host, port = self._moto.get_host_and_port()
            self.aws_endpoint = f"http://{host}:{port}"
        self._set_env("AWS_ENDPOINT_URL", self.aws_endpoint)
        # moto accepts any credentials; fixed fake ones keep a real account out of reach.
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            self._set_env(name, "testing")
        self._saved_env.setdefault("AWS_SESSION_TOKEN", os.environ.get("AWS_SESSION_TOKEN"))
        os.environ.pop("AWS_SESSION_TOKEN", None)

    def _start_listrak(self) -> None:
        if self.attached_to:  # its sandbox already holds the clients, the catalog and the audience
            self.listrak_urls = dict(self.attached_to["listrak_urls"])
            return
        if all(os.environ.get(v) for v in LISTRAK_URL_VARS):
            self.listrak_urls = {v: os.environ[v] for v in LISTRAK_URL_VARS}
            for integration in ("EMAIL", "DATA", "SMS"):
                client_id = os.environ.get(f"LISTRAK_{integration}_CLIENT_ID")
                client_secret = os.environ.get(f"LISTRAK_{integration}_CLIENT_SECRET")
                if client_id and client_secret:
                    self.credentials[integration.title()] = (client_id, client_secret)
            return
        self.sandbox = ListrakSandbox(port=int(os.environ.get("LOCAL_LISTRAK_PORT", "0"))).start()
        for integration in ("Email", "Data", "SMS"):
            client = (f"local-{integration.lower()}-client", secrets.token_urlsafe(18))
            self.sandbox.add_client(*client, integration=integration)
            self.credentials[integration.title()] = client
        self.register_catalog()
        self.sandbox.add_list(*AUDIENCE_LIST)
        for group_id, group_name, fields in AUDIENCE_FIELDS:
            for field_id, field_name, data_type, max_length in fields:
                self.sandbox.add_profile_field(
                    AUDIENCE_LIST[0], group_id, group_name, field_id, field_name, data_type, max_length
                )
        self.listrak_urls = {
            "LISTRAK_AUTH_URL": self.sandbox.auth_url,
            "LISTRAK_EMAIL_API_URL": self.sandbox.email_api_url,
            "LISTRAK_DATA_API_URL": self.sandbox.data_api_url,
            "LISTRAK_SMS_API_URL": self.sandbox.sms_api_url,
        }

    @property
    def catalog_path(self) -> Path:
        return catalog_path()

    def register_catalog(self) -> None:
        """Lets the sandbox know the catalog's messages, as the user's Listrak account would."""
        if self.sandbox is not None:
            for list_id, message_id, fields in _catalog_messages(self.catalog_path):
                self.sandbox.add_transactional_message(list_id, message_id, fields)
            register_sms(self.sandbox, self.catalog_path)

    # -- provisioning -------------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name=self.refs["AWS::Region"])

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
        self.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{self.refs['AWS::Region']}:{ACCOUNT}:table/{name}"

    def _secret(self, logical_id: str, props: dict[str, Any]) -> None:
        name = f"{self.prefix}/{logical_id}"
        value = props.get("SecretString", "{}")
        managed = self.sandbox is not None  # a sandbox of ours: every secret must match it
        if logical_id == "ShopifyWebhookSecret":
            value, managed = self.shopify_webhook_secret, True
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
        name = self.template.resolve(props.get("Name", f"{self.prefix}-{logical_id}"), self.refs, self.attributes)
        events = self.client("events")
        with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
            if "EventSourceName" in props:  # a partner bus: the partner (Shopify) creates its source first
                source = self.template.resolve(props["EventSourceName"], self.refs, self.attributes)
                with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
                    events.create_partner_event_source(Name=source, Account=ACCOUNT)
                events.create_event_bus(Name=name, EventSourceName=source)
            else:
                events.create_event_bus(Name=name)
        self.refs[logical_id] = name
        self.attributes[(logical_id, "Arn")] = f"arn:aws:events:{self.refs['AWS::Region']}:{ACCOUNT}:event-bus/{name}"
        if "EventSourceName" not in props:
            self._tap(logical_id, name)

    def _tap(self, logical_id: str, bus_name: str) -> None:
        """Everything functions put on the bus also lands in a local queue, so deliver_events() can route it."""
        url = self.client("sqs").create_queue(QueueName=f"{self.prefix}-tap-{logical_id}")["QueueUrl"]
        events = self.client("events")
        events.put_rule(Name=BUS_TAP_RULE, EventBusName=bus_name, EventPattern=json.dumps({"account": [ACCOUNT]}))
        arn = f"arn:aws:sqs:{self.refs['AWS::Region']}:{ACCOUNT}:{url.rsplit('/', 1)[1]}"
        events.put_targets(Rule=BUS_TAP_RULE, EventBusName=bus_name, Targets=[{"Id": "tap", "Arn": arn}])
        self._taps[logical_id] = url

    def deliver_events(self) -> list[tuple[str, AsyncOutcome]]:
        """What EventBridge does after functions put events on a bus: each goes to every rule that matches it."""
        delivered = []
        sqs = self.client("sqs")
        for bus_logical_id, url in self._taps.items():
            while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                for message in messages:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    event = json.loads(message["Body"])
                    # moto leaves out parts of the envelope EventBridge always sets.
                    event = {
                        "version": "0",
                        "account": ACCOUNT,
                        "region": self.refs["AWS::Region"],
                        "resources": [],
                    } | event
                    delivered += self.publish(event, bus_logical_id)
        return delivered

    def _queue(self, logical_id: str) -> None:
        url = self.client("sqs").create_queue(QueueName=f"{self.prefix}-{logical_id}")["QueueUrl"]
        self.refs[logical_id] = url
        self.attributes[(logical_id, "Arn")] = (
            f"arn:aws:sqs:{self.refs['AWS::Region']}:{ACCOUNT}:{url.rsplit('/', 1)[1]}"
        )

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

    def logical_id_of(self, physical: str) -> str | None:
        """The template's name for a provisioned resource (a queue URL, a table name)."""
        return next((logical_id for logical_id, value in self.refs.items() if value == physical), None)

    def queue_url(self, arn_or_url: str) -> str:
        for (logical_id, attribute), value in self.attributes.items():
            if attribute == "Arn" and value == arn_or_url:
                return self.refs[logical_id]
        return arn_or_url

    # -- running functions ----------------------------------------------------------------------------

    def environment_for(self, logical_id: str) -> dict[str, str]:
        env = self.template.resolve(self.functions[logical_id].environment, self.refs, self.attributes)
        env = {k: str(v) for k, v in env.items()}
        env.update(self.listrak_urls)
        env["AWS_LAMBDA_FUNCTION_NAME"] = logical_id
        if os.environ.get("CATALOG_PATH"):
            env["CATALOG_PATH"] = str(self.catalog_path)
        env["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon here: the Tracer records and patches nothing
        env.update(self.env_overrides)
        return env

    def function_env(self, logical_id: str) -> contextlib.AbstractContextManager[None]:
        return patched_environ(self.environment_for(logical_id))

    def _handler(self, logical_id: str) -> Any:
        spec = self.functions[logical_id]
        module = self._modules.get(logical_id)
        if module is None:
            module = self._modules[logical_id] = spec.import_module(f"lambda_{logical_id}")
        return getattr(module, spec.function_name)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """A synchronous invocation (what API Gateway does); exceptions propagate like a function error."""
        if logical_id not in self.functions:
            raise KeyError(f"template.yaml has no function {logical_id}; it has {', '.join(self.functions)}")
        with self._invoke_lock, self.function_env(logical_id), self._capture_logs(logical_id):
            handler = self._handler(logical_id)
            return handler(copy.deepcopy(event), FakeLambdaContext(self.functions[logical_id]))

    def invoke_async(self, logical_id: str, event: dict[str, Any]) -> AsyncOutcome:
        """An asynchronous invocation (what EventBridge does): retried, then sent to the on-failure queue."""
        spec = self.functions[logical_id]
        outcome = AsyncOutcome()
        for attempt in range(1, spec.max_async_retries + 2):
            outcome.attempts = attempt
            try:
                outcome.result = self.invoke(logical_id, event)
                outcome.error = None
                return outcome
            except Exception as exc:  # a function error, as Lambda sees it
                outcome.error = exc
        if spec.on_failure_destination is not None:
            arn = self.template.resolve(spec.on_failure_destination, self.refs, self.attributes)
            url = self.queue_url(arn)
            try:
                self.client("sqs").send_message(
                    QueueUrl=url, MessageBody=json.dumps(_failure_record(spec, event, outcome))
                )
                outcome.parked_in = url
            except ClientError:
                # Larger than SQS takes; in AWS, Lambda would not have accepted such an event in the first place.
                outcome.parked_in = None
        return outcome

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

    # -- routing -------------------------------------------------------------------------------------

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
                if _matches(pattern, event):
                    return logical_id
            raise LookupError(self._no_rule(event["detail-type"]))
        raise LookupError("neither an API Gateway event nor an EventBridge event")

    def _no_rule(self, detail_type: str) -> str:
        """Says which rule to add a catalog trigger to; for another detail-type, that nothing listens for it."""
        from listrak_kit.catalog.model import load_catalog
        from local_stack.check import missing_from_rule, triggered_by

        messages = triggered_by(load_catalog(self.catalog_path)).get(str(detail_type))
        if not messages:
            return f"no rule matches detail-type {detail_type!r}, and no catalog message has a trigger on it"
        return missing_from_rule(detail_type, self.template, messages=messages, catalog=str(self.catalog_path))

    def is_async(self, logical_id: str, event: dict[str, Any]) -> bool:
        return "detail-type" in event

    # -- event sources: EventBridge rules, S3 notifications, schedules, SQS ---------------------------

    def event_rules(self) -> list[tuple[str, str | None, dict[str, Any]]]:
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
        return [
            (logical_id, bus, self.template.resolve(props.get("Pattern", {}), self.refs, self.attributes))
            for logical_id, bus, props in rules
        ]

    def publish(self, event: dict[str, Any], bus_logical_id: str | None = None) -> list[tuple[str, AsyncOutcome]]:
        """Delivers an event as EventBridge would: to every function whose rule on that bus matches."""
        return [
            (logical_id, self.invoke_async(logical_id, event))
            for logical_id, bus, pattern in self.event_rules()
            if bus == bus_logical_id and _matches(pattern, event)
        ]

    def drop_file(self, bucket_logical_id: str, key: str, body: bytes) -> list[tuple[str, AsyncOutcome]]:
        """Puts an object and sends its Object Created event to the default bus, as the bucket is set up to."""
        bucket = self.refs[bucket_logical_id]
        answer = self.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": ACCOUNT,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": self.refs["AWS::Region"],
            "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket},
                "object": {"key": key, "size": len(body), "etag": answer["ETag"].strip('"')},
                "reason": "PutObject",
            },
        }
        return self.publish(event)

    def reconcile(self) -> Any:
        """One run of the send reconciler, as its schedule fires it."""
        return self.fire_schedule("ReconcileFunction", "Sweep").result

    def fire_schedule(self, logical_id: str, event_name: str) -> AsyncOutcome:
        """What EventBridge Scheduler does at the scheduled time: the configured Input, asynchronously."""
        props = self.functions[logical_id].events[event_name]["Properties"]
        return self.invoke_async(logical_id, json.loads(props.get("Input") or "{}"))

    def drain(self, queue_logical_id: str, *, max_batches: int = 10_000) -> int:
        """Feeds a queue to the function that polls it (SQS event source), until it is empty.

        Failed records (batchItemFailures, or a function error) are received again, and moved to the queue's
        dead-letter queue after its maxReceiveCount, as SQS does. Returns the number of batches delivered.
        """
        logical_id, batch_size = self._poller(queue_logical_id)
        url = self.refs[queue_logical_id]
        props = self.template.resources[queue_logical_id].get("Properties", {})
        redrive = self.template.resolve(props.get("RedrivePolicy") or {}, self.refs, self.attributes)
        sqs = self.client("sqs")
        receives: dict[str, int] = {}
        for batch_number in range(max_batches):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch_size, VisibilityTimeout=60).get(
                "Messages", []
            )
            if not messages:
                return batch_number
            event = {"Records": [self._sqs_record(queue_logical_id, m, receives) for m in messages]}
            try:
                result = self.invoke(logical_id, event) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except Exception:
                failed = {m["MessageId"] for m in messages}
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                elif redrive and receives[message["MessageId"]] >= int(redrive["maxReceiveCount"]):
                    dlq = self.queue_url(redrive["deadLetterTargetArn"])
                    sqs.send_message(QueueUrl=dlq, MessageBody=message["Body"])
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                else:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
        raise RuntimeError(f"{queue_logical_id} did not drain in {max_batches} batches")

    def _poller(self, queue_logical_id: str) -> tuple[str, int]:
        for logical_id, spec in self.functions.items():
            for ev in spec.events.values():
                queue = ev.get("Properties", {}).get("Queue")
                if ev.get("Type") == "SQS" and isinstance(queue, dict) and queue_logical_id in str(queue):
                    return logical_id, int(ev["Properties"].get("BatchSize", 10))
        raise LookupError(f"no function polls {queue_logical_id}")

    def _sqs_record(self, queue_logical_id: str, message: dict[str, Any], receives: dict[str, int]) -> dict[str, Any]:
        receives[message["MessageId"]] = receives.get(message["MessageId"], 0) + 1
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {"ApproximateReceiveCount": str(receives[message["MessageId"]])},
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.attributes[(queue_logical_id, "Arn")],
            "awsRegion": self.refs["AWS::Region"],
        }


def _ref(value: Any) -> Any:
    return value.get("Ref") if isinstance(value, dict) else value


def _matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge's pattern matching, for the parts this template uses: values, nesting, prefixes."""
    for key, wanted in pattern.items():
        value = event.get(key)
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not _matches(wanted, value):
                return False
        elif isinstance(wanted, list) and not any(_matches_one(w, value) for w in wanted):
            return False
    return True


def _matches_one(wanted: Any, value: Any) -> bool:
    if isinstance(wanted, dict) and "prefix" in wanted:
        return isinstance(value, str) and value.startswith(wanted["prefix"])
    return wanted == value


def _failure_record(spec: FunctionSpec, event: dict[str, Any], outcome: AsyncOutcome) -> dict[str, Any]:
    """The record Lambda puts on an on-failure destination, so the local queue holds what AWS would."""
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{spec.logical_id}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": outcome.attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": str(outcome.error), "errorType": type(outcome.error).__name__},
    }


def _stamp(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path), stat.st_mtime_ns, stat.st_size


def _catalog_messages(path: Path) -> list[tuple[int, int, dict[int, int]]]:
    """Each (listId, transactionalMessageId) of a catalog, with the profile fields its messages name and the
    maxLength the sandbox gives them (the order-items block holds rendered HTML, so its field is larger)."""
    from listrak_kit.catalog.model import load_catalog

    catalog = load_catalog(path)
    messages: dict[tuple[int, int], dict[int, int]] = {}
    for message in catalog.messages.values():
        fields = messages.setdefault((message.listId, message.transactionalMessageId), {})
        items_field = message.fields.get(message.items.field) if message.items is not None else None
        for field_id in message.fields.values():
            fields[field_id] = ITEMS_FIELD_MAX_LENGTH if field_id == items_field else FIELD_MAX_LENGTH
    return sorted((list_id, message_id, fields) for (list_id, message_id), fields in messages.items())
