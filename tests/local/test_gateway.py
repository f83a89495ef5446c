"""The local API server behaves as API Gateway in front of Lambda does: many callers at once, a body that never
finishes, a SigV4 signature over the body that arrives, keys compared in constant time, absurd nesting refused at
the door; and `make invoke` leaves a serving stack's secrets alone."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from local_stack import ROOT, api_server, invoke
from local_stack.iam_auth import sign
from local_stack.stack import REGION
from tests.conftest import post_message, storefront_event
from tests.handlers.test_storefront_hooks import order_payload, webhook_request

JSON = {"Content-Type": "application/json"}


def _serve(stack, **kwargs):
    server = api_server.make_server(stack, port=0, **kwargs)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    return server, thread


def test_thirty_callers_connecting_at_once_are_all_answered(stack):
    server, thread = _serve(stack)
    port = server.server_address[1]
    try:
        # Every caller connects before the server accepts anyone: only the listen backlog holds them.
        def connect() -> socket.socket:
            return socket.create_connection(("127.0.0.1", port), timeout=0.5)

        with ThreadPoolExecutor(30) as pool:
            sockets = list(pool.map(lambda _: connect(), range(30)))
        thread.start()
        request = f"GET /swagger?format=json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        for sock in sockets:
            sock.sendall(request.encode())
        for sock in sockets:
            sock.settimeout(10)
            assert sock.recv(12).startswith(b"HTTP/1.1 200")
            sock.close()
    finally:
        if not thread.is_alive():
            thread.start()  # shutdown() waits for a serve_forever that has run
        server.shutdown()
        server.server_close()


def test_a_body_that_stalls_times_out_and_frees_the_server(stack):
    server, thread = _serve(stack, body_timeout=0.5)
    thread.start()
    port = server.server_address[1]
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        head = f"POST /messages HTTP/1.1\r\nHost: x\r\nx-api-key: {stack.api_key}\r\nContent-Type: application/json\r\n"
        sock.sendall((head + "Content-Length: 100\r\n\r\n" + '{"emailAddress": ').encode())  # then nothing
        started = time.monotonic()
        answer = sock.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 408"), answer
        assert time.monotonic() - started < 3
        sock.close()
        # the server still answers others
        ok = requests.get(f"http://127.0.0.1:{port}/swagger?format=json", timeout=5)
        assert ok.status_code == 200
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served(stack):
    server, thread = _serve(stack)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("payload_hash", ["UNSIGNED-PAYLOAD", "of-the-signed-body"])
def test_a_signature_covers_the_body_that_arrives_not_one_the_signer_claims(stack, sandbox, served, payload_hash):
    sandbox.resend_key_in_send_response = True
    order = {"emailAddress": "jane.doe@example.com", "message": "order-confirmation", "fields": {"firstName": "J"}}
    assert post_message(stack, {**order, "reference": "order-1"})[0] == 201
    url = f"{served}/support/messages/order-1/redirect"
    signed_body = json.dumps({"emailAddress": "jane.doe@example.org"}).encode()
    claimed = payload_hash if payload_hash == "UNSIGNED-PAYLOAD" else hashlib.sha256(signed_body).hexdigest()
    headers = sign(
        stack.support,
        method="POST",
        url=url,
        body=signed_body,
        headers={**JSON, "x-amz-content-sha256": claimed},
        region=REGION,
    )
    for swapped in ("attacker@evil.example", "other@evil.example"):  # two emails redirected with one signature
        answer = requests.post(url, data=json.dumps({"emailAddress": swapped}).encode(), headers=headers, timeout=10)
        assert answer.status_code == 403, answer.text
    assert sandbox.stats["resends"] == 0


def test_api_keys_are_compared_in_constant_time(stack, served, monkeypatch):
    compared: list[tuple[bytes, bytes]] = []
    real = api_server.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(api_server.hmac, "compare_digest", spy)
    answer = requests.get(f"{served}/messages/x", headers={"x-api-key": "wrong"}, timeout=10)
    assert answer.status_code == 403
    assert compared and compared[-1] == (b"wrong", stack.api_key.encode())


def _deep(levels: int) -> dict:
    value: dict = {"a": 1}
    for _ in range(levels):
        value = {"x": value}
    return value


def test_an_event_nested_2000_deep_is_refused_at_every_door(stack, sandbox, served):
    klaviyo = json.loads(json.loads((ROOT / "events" / "klaviyo-05-placed-order.json").read_text())["body"])
    klaviyo["data"]["attributes"]["properties"]["deep"] = _deep(2000)
    answer = requests.post(
        f"{served}/events", data=json.dumps(klaviyo), headers={**JSON, "x-api-key": stack.api_key}, timeout=30
    )
    assert answer.status_code == 400, answer.text
    assert "nested deeper than" in answer.text

    payload = order_payload()
    payload["note_attributes"] = _deep(2000)
    webhook = webhook_request(stack, payload)
    answer = requests.post(f"{served}/webhooks/shopify", data=webhook["body"].encode(), headers=webhook["headers"])
    assert answer.status_code == 400, answer.text
    assert "nested deeper than" in answer.text

    body = {"emailAddress": "j@example.com", "message": "password-reset", "fields": {"firstName": _deep(2000)}}
    answer = requests.post(f"{served}/messages", json=body, headers={"x-api-key": stack.api_key}, timeout=30)
    assert answer.status_code == 400, answer.text

    # On the bus itself (another producer's PutEvents): refused by the function with a clear reason, no recursion,
    # and parked at once (it can never be sent as it is)
    detail = {"profile": {"email": "j@example.com"}, "properties": {"deep": _deep(2000)}, "unique_id": "d-1"}
    outcome = stack.invoke_async("SendEventFunction", storefront_event("Placed Order", detail))
    assert outcome.error is None and outcome.result["status"] == "parked", outcome
    assert "nested deeper than" in outcome.result["reason"]
    assert sandbox.stats["sends"] == 0


def test_make_invoke_never_changes_a_serving_stacks_secrets(stack, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_STACK_STATE", str(tmp_path / "stack.json"))
    monkeypatch.delenv("SHOPIFY_WEBHOOK_SECRET", raising=False)
    secrets = stack.client("secretsmanager")
    arn = stack.refs["ShopifyWebhookSecret"]
    secrets.put_secret_value(SecretId=arn, SecretString="the-shops-own-secret")
    try:
        with stack.advertised():
            # refused: the sample is an API event, not one this function takes
            assert invoke.main(["SendEventFunction", str(ROOT / "events" / "api-01-order-confirmation.json")]) != 0
        assert secrets.get_secret_value(SecretId=arn)["SecretString"] == "the-shops-own-secret"
    finally:
        secrets.put_secret_value(SecretId=arn, SecretString=stack.shopify_webhook_secret)
