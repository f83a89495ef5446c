"""References with "/" (every event-triggered send has one) over the local API, as API Gateway's REST API serves
them: a path parameter arrives still percent-encoded, a raw "/" is another path, and every URL the API returns
carries the stage and answers when followed."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import pytest
import requests

from local_stack import ROOT
from local_stack.api_server import gateway_answers
from local_stack.iam_auth import RequestsSigner
from local_stack.stack import REGION

JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def _resend_key_in_the_send_answer(sandbox):
    sandbox.resend_key_in_send_response = True  # what a resend needs, without waiting for Activity


def _wait_for_sends(sandbox, count: int) -> None:
    deadline = time.monotonic() + 10
    while sandbox.stats["sends"] < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.stats["sends"] == count


def _klaviyo_reference(url: str, key: str, sandbox) -> str:
    body = json.loads((ROOT / "events" / "klaviyo-05-placed-order.json").read_text())["body"]
    queued = requests.post(f"{url}/events", data=body, headers={**JSON, "x-api-key": key}, timeout=10)
    assert queued.status_code == 202, queued.text
    _wait_for_sends(sandbox, 1)
    return str(queued.json()["reference"])


def _shopify_reference(url: str, sandbox) -> str:
    webhook = json.loads((ROOT / "events" / "webhook-1-shopify-orders-create.json").read_text())
    headers = {k: v for k, v in webhook["headers"].items() if k.lower() not in ("host", "content-length")}
    queued = requests.post(f"{url}/webhooks/shopify", data=webhook["body"].encode(), headers=headers, timeout=10)
    assert queued.status_code == 200, queued.text
    _wait_for_sends(sandbox, 1)
    return str(queued.json()["reference"])


@pytest.mark.parametrize("mint", ["klaviyo", "shopify"])
def test_a_minted_reference_is_read_resent_and_redirected_through_the_api(api, stack, sandbox, mint):
    url, key = api
    reference = _klaviyo_reference(url, key, sandbox) if mint == "klaviyo" else _shopify_reference(url, sandbox)
    assert "/" in reference
    encoded = quote(reference, safe="")
    headers = {**JSON, "x-api-key": key}

    for base in (url, f"{url}/v1"):  # as `make api` has always served it, and with the stage as on AWS
        read = requests.get(f"{base}/messages/{encoded}", headers=headers, timeout=10)
        assert read.status_code == 200, read.text
        assert read.json()["reference"] == reference and read.json()["status"] == "sent"

    # A raw "/" is another path: API Gateway has no such route (answered with the template's GatewayResponse).
    raw = requests.get(f"{url}/messages/{reference}", headers=headers, timeout=10)
    status, body = gateway_answers(stack)["MISSING_AUTHENTICATION_TOKEN"]
    assert raw.status_code == status == 403 and raw.json() == json.loads(body)
    assert raw.json()["message"].startswith("no such route")

    resent = requests.post(f"{url}/messages/{encoded}/resend", headers=headers, timeout=10)
    assert resent.status_code == 201, resent.text
    assert resent.json()["reference"] == reference

    signer = RequestsSigner(stack.support, REGION)
    redirect = f"{url}/support/messages/{encoded}/redirect"
    moved = requests.post(redirect, json={"emailAddress": "jane.doe@example.org"}, auth=signer, timeout=10)
    assert moved.status_code == 201, moved.text
    assert moved.json()["reference"] == reference
    assert sandbox.stats["resends"] == 2


def test_the_status_url_of_a_pending_send_answers_when_followed(api, stack, sandbox):
    url, key = api
    stack.env_overrides["LISTRAK_READ_TIMEOUT"] = "0.3"
    sandbox.inject("send", "slow", delay=1.0)
    body = {
        "emailAddress": "jane@example.com",
        "message": "password-reset",
        "fields": {"firstName": "Jane", "passwordResetLink": "https://shop.example.com/r/1"},
        "reference": "password-reset/42?x#y%z",
    }
    headers = {**JSON, "x-api-key": key}
    pending = requests.post(f"{url}/messages", json=body, headers=headers, timeout=10)
    assert pending.status_code == 202, pending.text
    status_url: Any = pending.json()["statusUrl"]
    assert status_url == "/v1/messages/password-reset%2F42%3Fx%23y%25z"  # the stage, then the quoted reference
    assert pending.headers["Location"] == status_url

    followed = requests.get(url + status_url, headers=headers, timeout=10)
    assert followed.status_code == 200, followed.text
    assert followed.json()["reference"] == body["reference"]


def test_the_access_log_masks_an_address_in_a_path_or_query_string_whole(api, stack, sandbox, capsys):
    url, key = api
    headers = {**JSON, "x-api-key": key}
    body = {
        "emailAddress": "jane@example.com",
        "message": "password-reset",
        "fields": {"firstName": "Jane", "passwordResetLink": "https://shop.example.com/r/1"},
        "reference": "reset/jane.doe@example.com",
    }
    assert requests.post(f"{url}/messages", json=body, headers=headers, timeout=10).status_code == 201
    for path in (
        "/messages/reset%2Fjane.doe%40example.com",
        "/messages/reset%2Fjane.doe@example.com",
        "/messages/o'brien@example.com?to=o'brien@example.com&cc=x%2Fy%40example.com",
    ):
        requests.get(url + path, headers=headers, timeout=10)

    err = capsys.readouterr().err
    assert "GET /messages/r***%40example.com -> 200" in err
    for whole in ("jane.doe", "brien", "x%2Fy", "x/y"):
        assert whole not in err, whole
