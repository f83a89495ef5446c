"""Starts moto and the Listrak sandbox on 127.0.0.1, provisions what template.yaml declares, runs its functions.

The functions run in-process with the environment the template gives them (Refs resolved to the local
resources), so the code that runs here is the code that runs in Lambda. Set AWS_ENDPOINT_URL to use an
AWS endpoint of your own, and LISTRAK_AUTH_URL / LISTRAK_EMAIL_API_URL / LISTRAK_DATA_API_URL /
LISTRAK_PRIVACY_API_URL (with LISTRAK_EMAIL_CLIENT_ID/SECRET, LISTRAK_DATA_CLIENT_ID/SECRET and
LISTRAK_PRIVACY_CLIENT_ID/SECRET) to use a Listrak of your own.

`LocalStack` is the one entry point; what it does is done by the modules beside it: provisioning
(local_stack.provision), invoking (local_stack.runtime), routing events (local_stack.routing), and polling
queues and firing schedules (local_stack.pollers).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from local_stack import ROOT, TEMPLATE
from local_stack.config import (
    ACCOUNT,
    LISTRAK_URL_VARS,
    LOCAL_SHOPIFY_SOURCE,
    LOCAL_SHOPIFY_WEBHOOK_SECRET,
    REGION,
    catalog_path,
    log_dir_for,
    parameters_from_env,
    require_free_port,
    running_stack,
    state_file,
)
from local_stack.iam_auth import Principal
from local_stack.listrak_account import add_audience, register_catalog
from local_stack.pollers import Pollers
from local_stack.provision import Resources
from local_stack.routing import ApiRoute, EventRouter, Rule
from local_stack.runtime import AsyncOutcome, FakeLambdaContext, FunctionRunner
from local_stack.sandbox import ListrakSandbox
from local_stack.sandbox.wire import ACTIVITY_LAG_SECONDS
from local_stack.template import Template

__all__ = [
    "ACCOUNT",
    "REGION",
    "ROOT",
    "ApiRoute",
    "AsyncOutcome",
    "FakeLambdaContext",
    "LocalStack",
    "catalog_path",
    "running_stack",
    "state_file",
]


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
        self.api_key = os.environ.get("LOCAL_API_KEY") or secrets.token_urlsafe(24)
        # The IAM principal a support person signs with on AWS_IAM routes (local_stack.iam_auth checks it).
        self.support = Principal(
            access_key_id="AKIALOCALSUPPORT0001",
            secret_access_key=os.environ.get("LOCAL_SUPPORT_SECRET") or secrets.token_urlsafe(30),
            arn=f"arn:aws:iam::{ACCOUNT}:user/local-support",
            account=ACCOUNT,
        )
        self.sandbox: ListrakSandbox | None = None
        self.resources = Resources(self.template, prefix)
        self.resources.shopify_webhook_secret = os.environ.get("SHOPIFY_WEBHOOK_SECRET") or LOCAL_SHOPIFY_WEBHOOK_SECRET
        if log_dir is None:  # a stack attached to `make api` writes beside its logs
            shared = (attach_to or {}).get("log_dir")
            log_dir = Path(shared) if shared else log_dir_for("stack")
        self.runner = FunctionRunner(self.functions, self.resources, log_dir)
        self.router = EventRouter(self.functions, self.resources, self.runner.invoke_async)
        self.pollers = Pollers(self.runner, self.resources)
        self._moto: Any = None
        self._saved_env: dict[str, str | None] = {}
        # Another process's stack (see running_stack): its AWS endpoint and Listrak, so both see one state.
        self.attached_to = attach_to
        self.resources.attached = attach_to is not None
        self._catalog_seen: tuple[str, int, int] | None = None

    # -- what the parts hold, as attributes of the stack ------------------------------------------------

    @property
    def refs(self) -> dict[str, str]:
        return self.resources.refs

    @property
    def attributes(self) -> dict[tuple[str, str], str]:
        return self.resources.attributes

    @property
    def aws_endpoint(self) -> str | None:
        return self.resources.aws_endpoint

    @property
    def credentials(self) -> dict[str, tuple[str, str]]:
        return self.resources.credentials

    @property
    def shopify_webhook_secret(self) -> str:
        return self.resources.shopify_webhook_secret

    @property
    def log_dir(self) -> Path:
        return self.runner.log_dir

    @property
    def listrak_urls(self) -> dict[str, str]:
        return self.runner.listrak_urls

    @property
    def env_overrides(self) -> dict[str, str]:
        return self.runner.env_overrides

    @property
    def catalog_path(self) -> Path:
        return catalog_path()

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
        self.resources.aws_endpoint = endpoint
        self._set_env("AWS_ENDPOINT_URL", endpoint)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            self._set_env(name, os.environ.get(name) or "testing")
        if all(os.environ.get(v) for v in LISTRAK_URL_VARS):
            self._set_listrak_urls({v: os.environ[v] for v in LISTRAK_URL_VARS})
        else:
            base = f"http://127.0.0.1:{os.environ.get('LOCAL_LISTRAK_PORT', '8025')}"
            urls = (f"{base}/OAuth2/Token", f"{base}/email", f"{base}/data", f"{base}/privacy", f"{base}/sms")
            self._set_listrak_urls(dict(zip(LISTRAK_URL_VARS, urls, strict=True)))
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
        self.runner.loops.clear()
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
        self.runner.cold_start(logical_id)

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def _set_listrak_urls(self, urls: dict[str, str]) -> None:
        self.listrak_urls.clear()
        self.listrak_urls.update(urls)

    @contextlib.contextmanager
    def advertised(self) -> Iterator[Path]:
        """While it lasts, `make invoke` finds this stack and shares its state (see running_stack)."""
        path = state_file()
        state = {
            "pid": os.getpid(),
            "aws_endpoint": self.aws_endpoint,
            "listrak_urls": self.listrak_urls,
            "log_dir": str(self.log_dir),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state | {"catalog": str(self.catalog_path)}), encoding="utf-8")
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def reload_catalog_if_changed(self) -> bool:
        """After an edit to the catalog file, every function loads it again on its next invocation."""
        with self.runner.lock:
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
            self.resources.aws_endpoint = os.environ["AWS_ENDPOINT_URL"]
            return
        if self.attached_to:
            self.resources.aws_endpoint = self.attached_to["aws_endpoint"]
        else:
            from moto.server import ThreadedMotoServer

            logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

            port = int(os.environ.get("LOCAL_AWS_PORT", "0"))  # fixed, for sam local invoke (see env.json)
            require_free_port(port, "LOCAL_AWS_PORT")  # moto's server would wait for ever on a taken one
            self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            self._moto.start()
            host, port = self._moto.get_host_and_port()
            self.resources.aws_endpoint = f"http://{host}:{port}"
        self._set_env("AWS_ENDPOINT_URL", str(self.aws_endpoint))
        # moto accepts any credentials; fixed fake ones keep a real account out of reach.
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            self._set_env(name, "testing")
        self._saved_env.setdefault("AWS_SESSION_TOKEN", os.environ.get("AWS_SESSION_TOKEN"))
        os.environ.pop("AWS_SESSION_TOKEN", None)

    def _start_listrak(self) -> None:
        if self.attached_to:  # its sandbox already holds the clients, the catalog and the audience
            self._set_listrak_urls(dict(self.attached_to["listrak_urls"]))
            return
        if all(os.environ.get(v) for v in LISTRAK_URL_VARS):
            self._set_listrak_urls({v: os.environ[v] for v in LISTRAK_URL_VARS})
            for integration in ("EMAIL", "DATA", "PRIVACY", "SMS"):
                client_id = os.environ.get(f"LISTRAK_{integration}_CLIENT_ID")
                client_secret = os.environ.get(f"LISTRAK_{integration}_CLIENT_SECRET")
                if client_id and client_secret:
                    self.credentials[integration.title()] = (client_id, client_secret)
            return
        port = int(os.environ.get("LOCAL_LISTRAK_PORT", "0"))
        require_free_port(port, "LOCAL_LISTRAK_PORT")
        self.sandbox = ListrakSandbox(port=port).start()
        self.resources.own_listrak = True
        for integration in ("Email", "Data", "Privacy", "SMS"):
            client = (f"local-{integration.lower()}-client", secrets.token_urlsafe(18))
            self.sandbox.add_client(*client, integration=integration)
            self.credentials[integration.title()] = client
        self.register_catalog()
        add_audience(self.sandbox)
        self._set_listrak_urls(
            {
                "LISTRAK_AUTH_URL": self.sandbox.auth_url,
                "LISTRAK_EMAIL_API_URL": self.sandbox.email_api_url,
                "LISTRAK_DATA_API_URL": self.sandbox.data_api_url,
                "LISTRAK_PRIVACY_API_URL": self.sandbox.privacy_api_url,
                "LISTRAK_SMS_API_URL": self.sandbox.sms_api_url,
            }
        )

    def register_catalog(self) -> None:
        """Lets the sandbox know the catalog's messages, as the user's Listrak account would."""
        if self.sandbox is not None:
            register_catalog(self.sandbox, self.catalog_path)

    # -- provisioning (local_stack.provision) -------------------------------------------------------

    def client(self, service: str) -> Any:
        return self.resources.client(service)

    def provision(self) -> None:
        self.resources.provision()

    def logical_id_of(self, physical: str) -> str | None:
        """The template's name for a provisioned resource (a queue URL, a table name)."""
        return self.resources.logical_id_of(physical)

    def queue_url(self, arn_or_url: str) -> str:
        return self.resources.queue_url(arn_or_url)

    # -- running functions (local_stack.runtime) ----------------------------------------------------

    def environment_for(self, logical_id: str) -> dict[str, str]:
        return self.runner.environment_for(logical_id)

    def function_env(self, logical_id: str) -> contextlib.AbstractContextManager[None]:
        return self.runner.function_env(logical_id)

    def _handler(self, logical_id: str) -> Any:
        return self.runner.handler(logical_id)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """A synchronous invocation (what API Gateway does); exceptions propagate like a function error."""
        return self.runner.invoke(logical_id, event)

    def invoke_async(self, logical_id: str, event: dict[str, Any]) -> AsyncOutcome:
        """An asynchronous invocation (what EventBridge does): retried, then sent to the on-failure queue."""
        return self.runner.invoke_async(logical_id, event)

    # -- routing (local_stack.routing) --------------------------------------------------------------

    def api_routes(self) -> list[ApiRoute]:
        return self.router.api_routes()

    def route(self, event: dict[str, Any]) -> str:
        """Which function the template sends this sample event to."""
        return self.router.route(event)

    def is_async(self, logical_id: str, event: dict[str, Any]) -> bool:
        return "detail-type" in event

    def event_rules(self) -> list[Rule]:
        return self.router.event_rules()

    def publish(self, event: dict[str, Any], bus_logical_id: str | None = None) -> list[tuple[str, AsyncOutcome]]:
        """Delivers an event as EventBridge would: to every function whose rule on that bus matches."""
        return self.router.publish(event, bus_logical_id)

    def deliver_events(self) -> list[tuple[str, AsyncOutcome]]:
        """What EventBridge does after functions put events on a bus: each goes to every rule that matches it."""
        return self.router.deliver_events()

    def drop_file(self, bucket_logical_id: str, key: str, body: bytes) -> list[tuple[str, AsyncOutcome]]:
        """Puts an object and sends its Object Created event to the default bus, as the bucket is set up to."""
        return self.router.drop_file(bucket_logical_id, key, body)

    # -- queues and schedules (local_stack.pollers) -------------------------------------------------

    def reconcile(self) -> Any:
        """One run of the send reconciler, as its schedule fires it."""
        return self.fire_schedule("ReconcileFunction", "Sweep").result

    def fire_schedule(self, logical_id: str, event_name: str) -> AsyncOutcome:
        """What EventBridge Scheduler does at the scheduled time: the configured Input, asynchronously."""
        return self.pollers.fire_schedule(logical_id, event_name)

    def drain(self, queue_logical_id: str, *, max_batches: int = 10_000) -> int:
        """Feeds a queue to the function that polls it (SQS event source), until it is empty."""
        return self.pollers.drain(queue_logical_id, max_batches=max_batches)


def _stamp(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return str(path), stat.st_mtime_ns, stat.st_size
