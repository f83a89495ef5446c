"""The laptop experience: `make run` over every sample, `make api` over real HTTP with the API key."""

from __future__ import annotations

import json
import time

import requests

from local_stack import ROOT, run


def test_make_run_sends_every_sample_and_reports_each(capsys, monkeypatch, stack):
    # Its own moto server, as on a laptop; moto keeps its state per process, so `stack` empties it first.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert run.main([]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.endswith(".json") or ".json " in line}
    assert " sent " in lines["api-01-order-confirmation.json"]
    assert " duplicate " in lines["api-02-order-confirmation-repeated.json"]
    assert " rejected " in lines["api-04-reference-reused.json"] and "409" in lines["api-04-reference-reused.json"]
    assert "emailAddress" in lines["api-05-invalid-input.json"]
    assert "404" in lines["api-06-unknown-message.json"]
    assert " resent " in lines["api-07-resend-to-corrected-address.json"]
    assert "resendCount=1" in lines["api-07-resend-to-corrected-address.json"]
    assert " duplicate " in lines["api-08-resend-repeated.json"]
    assert "410" in lines["api-09-resend-past-window.json"] and "window" in lines["api-09-resend-past-window.json"]
    assert "j***@example.org" in lines["api-10-get-message.json"]
    assert " duplicate " in lines["eventbridge-2-placed-order-redelivered.json"]
    assert "parked in SendDeadLetterQueue" in lines["eventbridge-9-placed-order-without-email.json"]
    assert " duplicate " in lines["shopify-2-orders-create-redelivered.json"]
    assert " ignored " in lines["shopify-5-products-update-not-in-catalog.json"]
    assert "detail.payload.email" in lines["shopify-6-pos-order-without-email.json"]
    assert "-> SendEventFunction: sent" in lines["webhook-1-shopify-orders-create.json"]
    assert "-> SendEventFunction: duplicate" in lines["webhook-2-shopify-orders-create-retried.json"]
    assert " 401 " in lines["webhook-3-shopify-body-altered-after-signing.json"]
    assert "on the bus" not in lines["webhook-3-shopify-body-altered-after-signing.json"]
    for sample in [name for name in lines if name.startswith("klaviyo-")]:
        if "not-in-catalog" in sample:
            assert " ignored " in lines[sample] and "on the bus" not in lines[sample]
        elif "repeated" in sample:
            assert "-> SendEventFunction: duplicate" in lines[sample]
        else:
            assert "-> SendEventFunction: sent" in lines[sample], lines[sample]
    # 9 API and simplified-event sends, 9 Klaviyo, 3 Shopify by EventBridge and 1 by HTTPS
    assert "received 25 sends, 1 resend(s) and 6 SMS; tokens minted: 1 Email, 1 Data, 1 SMS." in out
    assert "the schedule found 0 file(s) left to import" in out
    assert out.strip().splitlines()[-1] == f"All {len(lines)} samples behaved as designed."


def test_the_local_api_requires_the_key_and_serves_the_handler(api, sandbox):
    url, key = api
    body = {"emailAddress": "jane@example.com", "message": "password-reset", "fields": {"firstName": "Jane"}}

    assert requests.post(f"{url}/messages", json=body, timeout=10).status_code == 403
    assert requests.post(f"{url}/messages", json=body, headers={"x-api-key": "wrong"}, timeout=10).status_code == 403
    sent = requests.post(f"{url}/messages", json=body, headers={"x-api-key": key, "Idempotency-Key": "k1"}, timeout=10)
    assert sent.status_code == 201, sent.text
    assert sent.json()["reference"] == "k1"
    assert requests.get(f"{url}/nowhere", headers={"x-api-key": key}, timeout=10).status_code == 403
    bad = requests.post(f"{url}/messages", data="{", headers={"x-api-key": key}, timeout=10)
    assert bad.status_code == 400 and json.loads(bad.text)["errors"]
    assert sandbox.stats["sends"] == 1


def wait_for_sends(sandbox, count: int, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while sandbox.stats["sends"] < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return sandbox.stats["sends"]


def test_the_local_api_takes_shopify_webhooks_by_signature_and_klaviyo_events_by_key(api, sandbox):
    url, key = api
    webhook = json.loads((ROOT / "events" / "webhook-1-shopify-orders-create.json").read_text())
    headers = {k: v for k, v in webhook["headers"].items() if k.lower() not in ("host", "content-length")}

    signed = requests.post(f"{url}/webhooks/shopify", data=webhook["body"].encode(), headers=headers, timeout=10)
    assert signed.status_code == 200, signed.text  # no API key: the signature is the proof
    assert signed.json()["status"] == "accepted"
    assert wait_for_sends(sandbox, 1) == 1  # sent from the bus, after the answer
    forged = requests.post(f"{url}/webhooks/shopify", data=webhook["body"].encode() + b" ", headers=headers, timeout=10)
    assert forged.status_code == 401

    klaviyo = json.loads((ROOT / "events" / "klaviyo-05-placed-order.json").read_text())["body"]
    json_headers = {"Content-Type": "application/json"}
    assert requests.post(f"{url}/events", data=klaviyo, headers=json_headers, timeout=10).status_code == 403
    queued = requests.post(f"{url}/events", data=klaviyo, headers={**json_headers, "x-api-key": key}, timeout=10)
    assert queued.status_code == 202 and queued.json()["reference"] == "order-confirmation/1234"
    assert wait_for_sends(sandbox, 2) == 2
