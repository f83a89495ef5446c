"""Redirect attempts: the storefront key never sends a past email to another address; the support route takes
SigV4 signatures only (checked by the local API server as API Gateway would), and never for redirect = false."""

from __future__ import annotations

import datetime
import json

import pytest

from local_stack.iam_auth import Principal, SignatureRefused, authenticate, sign
from local_stack.stack import REGION
from tests.conftest import post_message


@pytest.fixture(autouse=True)
def _resend_key_in_the_send_answer(sandbox):
    """These tests are about who may redirect, not how the resendKey is found: Listrak's 201 carries it."""
    sandbox.resend_key_in_send_response = True


ORDER = {
    "emailAddress": "jane.doe@example.com",
    "message": "order-confirmation",
    "fields": {"firstName": "Jane"},
    "reference": "order-1001",
}
JSON = {"Content-Type": "application/json"}


def post(api, path, body, headers):
    return api.session.post(api.url + path, data=json.dumps(body), headers={**JSON, **headers})


def signed(api, path, body, principal=None, *, tamper=None):
    data = json.dumps(body).encode()
    headers = sign(principal or api.support, method="POST", url=api.url + path, body=data, headers=JSON, region=REGION)
    return api.session.post(api.url + path, data=tamper or data, headers=headers)


@pytest.mark.parametrize(
    "target",
    [
        "attacker@evil.example",
        "ATTACKER@EVIL.EXAMPLE",
        "jane.doe@example.org",  # the same person at another domain is still another address
        "jane.doe+x@example.com",
        '"jane.doe"@evil.example',
        "jané@exämple.example",
    ],
)
def test_the_storefront_key_cannot_redirect_by_reference_or_by_key(api, stack, sandbox, target):
    status, first = post_message(stack, ORDER)
    assert status == 201
    key = {"x-api-key": api.key}

    answer = post(api, "/messages/order-1001/resend", {"emailAddress": target}, key)
    assert answer.status_code == 403, answer.text
    assert "support" in answer.json()["message"]
    by_key = {"listId": 300001, "transactionalMessageId": 7001, "resendKey": first["resendKey"], "emailAddress": target}
    assert post(api, "/resends", by_key, key).status_code == 403
    assert sandbox.stats["resends"] == 0


def test_a_guessable_password_reset_reference_cannot_be_redirected_by_anyone(api, stack, sandbox):
    reset = {
        "emailAddress": "jane.doe@example.com",
        "message": "password-reset",
        "fields": {"firstName": "Jane", "passwordResetLink": "https://shop.example.com/r/secret"},
        "reference": "password-reset-42",
    }
    assert post_message(stack, reset)[0] == 201
    path, target = "/messages/password-reset-42/resend", {"emailAddress": "attacker@evil.example"}
    assert post(api, path, target, {"x-api-key": api.key}).status_code == 403
    # ... nor with the support credential: a reset link must only ever reach its owner
    answer = signed(api, "/support/messages/password-reset-42/redirect", target)
    assert answer.status_code == 403, answer.text
    assert "redirect = false" in answer.json()["message"]
    assert sandbox.stats["resends"] == 0
    # its owner may still get it again
    assert post(api, path, {}, {"x-api-key": api.key}).status_code == 201
    assert [r["emailAddress"] for r in sandbox.resends] == ["jane.doe@example.com"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "KEY"}, {"Authorization": "Bearer x"}, {"Authorization": "AWS4-HMAC-SHA256 Credential=junk"}],
    ids=["nothing", "the-api-key", "bearer", "malformed-sigv4"],
)
def test_the_support_route_refuses_anything_unsigned(api, stack, sandbox, headers):
    post_message(stack, ORDER)
    sent = {k: (api.key if v == "KEY" else v) for k, v in headers.items()}
    answer = post(api, "/support/messages/order-1001/redirect", {"emailAddress": "jane@example.org"}, sent)
    assert answer.status_code == 403, answer.text
    assert answer.json()["message"]
    assert sandbox.stats["resends"] == 0


def test_a_bad_or_tampered_signature_is_refused(api, stack, sandbox):
    post_message(stack, ORDER)
    path, body = "/support/messages/order-1001/redirect", {"emailAddress": "jane@example.org"}
    wrong = Principal(api.support.access_key_id, "not-the-secret", api.support.arn, api.support.account)
    unknown = Principal("AKIAUNKNOWN000000000", api.support.secret_access_key, "arn:x", "1")
    for answer in (
        signed(api, path, body, wrong),
        signed(api, path, body, unknown),
        signed(api, path, body, tamper=json.dumps({"emailAddress": "attacker@evil.example"}).encode()),
    ):
        assert answer.status_code == 403, answer.text
    assert sandbox.stats["resends"] == 0


def test_an_old_signature_is_expired():
    principal = Principal("AKIA1", "secret", "arn:aws:iam::1:user/s", "1")
    url = "http://127.0.0.1:1/support/messages/r/redirect"
    headers = {**sign(principal, method="POST", url=url, body=b"{}", region=REGION), "Host": "127.0.0.1:1"}
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=6)
    with pytest.raises(SignatureRefused, match="expired"):
        authenticate(
            {"AKIA1": principal}, method="POST", url=url, headers=headers, body=b"{}", region=REGION, now=later
        )
    assert authenticate({"AKIA1": principal}, method="POST", url=url, headers=headers, body=b"{}", region=REGION)


def test_a_signed_redirect_goes_out_once_recorded_with_the_signers_arn(api, stack, sandbox):
    post_message(stack, ORDER)
    answer = signed(api, "/support/messages/order-1001/redirect", {"emailAddress": "jane.doe@example.org"})
    assert answer.status_code == 201, answer.text
    assert [r["emailAddress"] for r in sandbox.resends] == ["jane.doe@example.org"]
    view = api.session.get(api.url + "/messages/order-1001", headers={"x-api-key": api.key}).json()
    [entry] = view["resends"]
    assert (entry["credential"], entry["redirected"], entry["toMasked"]) == (
        api.support.arn,
        True,
        "j***@example.org",
    )
