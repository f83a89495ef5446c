"""The local stack's fixed names and the settings it takes from the environment; every other module builds on it."""

from __future__ import annotations

import errno
import json
import os
import socket
from pathlib import Path
from typing import Any

import requests

from local_stack import ROOT
from local_stack.cli import UsageError

REGION = "us-east-1"
ACCOUNT = "123456789012"
LISTRAK_URL_VARS = (
    "LISTRAK_AUTH_URL",
    "LISTRAK_EMAIL_API_URL",
    "LISTRAK_DATA_API_URL",
    "LISTRAK_PRIVACY_API_URL",
    "LISTRAK_SMS_API_URL",
)
# Shopify's partner event source, as the local stack names it (the template's parameter is empty by default).
LOCAL_SHOPIFY_SOURCE = "aws.partner/shopify.com/1234567/local-storefront"
# The secret the local shop signs its webhooks with (set SHOPIFY_WEBHOOK_SECRET to use your own); events/ samples
# of POST /webhooks/shopify are signed with it.
LOCAL_SHOPIFY_WEBHOOK_SECRET = "local-shopify-webhook-secret"
# The catalog the send functions load: theirs (functions/send/catalog.toml) unless CATALOG_PATH names another.
USER_CATALOG = ROOT / "functions" / "send" / "catalog.toml"

# Template parameters `make api`, `make run` and `make invoke` take from the environment when it sets them.
PARAMETERS_FROM_ENV = {
    "SEND_RECONCILE_AFTER_SECONDS": "SendReconcileAfterSeconds",
    "SEND_MAX_ATTEMPTS": "SendMaxAttempts",
}


def log_dir_for(command: str) -> Path:
    """Each command's stack keeps its function logs in a folder of its own: starting one never deletes the logs
    of another that is still running (`make api` in .local-stack/logs/api/, `make run` in .local-stack/logs/run/)."""
    return ROOT / ".local-stack" / "logs" / command


def require_free_port(port: int, variable: str) -> None:
    """Refuses, in one line naming the variable to set, a fixed port something else already listens on."""
    if not port:
        return  # an ephemeral port: always free
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is no obstacle
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise UsageError(
                f"port {port} ({variable}) is in use by another process: stop it, or choose another port "
                f"with {variable}=<port>"
            ) from None


def catalog_path() -> Path:
    override = os.environ.get("CATALOG_PATH")
    return (ROOT / override).resolve() if override else USER_CATALOG


def parameters_from_env() -> dict[str, str]:
    return {param: os.environ[name] for name, param in PARAMETERS_FROM_ENV.items() if os.environ.get(name)}


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
