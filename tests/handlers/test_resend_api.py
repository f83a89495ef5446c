"""Resend routes, in-process against moto and the Listrak sandbox."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from listrak_kit.clock import to_iso
from local_stack.api_server import proxy_event
from tests.conftest import post_message

DAY = 86400
SEND = {
    "emailAddress": "jane.doe@example.com",
    "message": "password-reset",
    "fields": {"firstName": "Jane", "passwordResetLink": "https://r/1"},
    "reference": "reset-1",
}


def call(stack, method, path, resource, params, body=None, key=None):
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    raw = b"" if body is None else json.dumps(body).encode()
    response = stack.invoke("ResendFunction", proxy_event(method, path, headers, raw, resource, params, "v1"))
    return response["statusCode"], json.loads(response["body"] or "{}")


def resend(stack, reference, body=None, key=None):
    return call(
        stack,
        "POST",
        f"/messages/{reference}/resend",
        "/messages/{reference}/resend",
        {"reference": reference},
        body,
        key,
    )


def resend_by_key(stack, body, key=None):
    return call(stack, "POST", "/resends", "/resends", {}, body, key)


def view(stack, reference):
    return call(stack, "GET", f"/messages/{reference}", "/messages/{reference}", {"reference": reference})


def sent(stack, reference="reset-1", **overrides):
    status, body = post_message(stack, {**SEND, "reference": reference, **overrides})
    assert status == 201, body
    return body


def set_sent_at(stack, reference, seconds_ago):
    stack.client("dynamodb").update_item(
        TableName=stack.refs["Table"],
        Key={"id": {"S": f"send#{reference}"}},
        UpdateExpression="SET sentAt = :s",
        ExpressionAttributeValues={":s": {"S": to_iso(time.time() - seconds_ago)}},
    )


def test_a_resend_to_a_corrected_address_is_sent_and_recorded(stack, sandbox):
    first = sent(stack)
    status, body = resend(stack, "reset-1", {"emailAddress": "jane.doe@example.org"})

    assert status == 201, body
    assert body["status"] == "resent" and body["resendCount"] == 1 and body["reference"] == "reset-1"
    [listrak] = sandbox.resends
    assert listrak["resendKey"] == first["resendKey"]
    assert listrak["emailAddress"] == "jane.doe@example.org"

    status, history = view(stack, "reset-1")
    assert status == 200
    assert history["to"] == "j***@example.com"
    assert history["resendCount"] == 1
    assert history["resends"][0]["toMasked"] == "j***@example.org"
    assert history["resendable"] is True
    assert "jane.doe" not in json.dumps(history)


def test_a_resend_without_a_body_goes_to_the_original_address(stack, sandbox):
    sent(stack)
    assert resend(stack, "reset-1")[0] == 201
    assert sandbox.resends[0]["emailAddress"] == "jane.doe@example.com"
    assert view(stack, "reset-1")[1]["resends"][0]["toMasked"] == "original address"


def test_an_unknown_reference_is_a_404(stack, sandbox):
    assert resend(stack, "never-sent")[0] == 404
    assert view(stack, "never-sent")[0] == 404


def test_day_29_still_resends(stack, sandbox):
    sent(stack)
    set_sent_at(stack, "reset-1", 29 * DAY)
    assert resend(stack, "reset-1")[0] == 201


def test_thirty_days_and_a_second_later_is_gone_although_the_item_still_exists(stack, sandbox):
    sent(stack)
    set_sent_at(stack, "reset-1", 30 * DAY + 1)

    status, body = resend(stack, "reset-1", {"emailAddress": "jane.doe@example.org"})

    assert status == 410
    assert "window closed at" in body["message"]
    assert sandbox.stats["resends"] == 0
    item = stack.client("dynamodb").get_item(TableName=stack.refs["Table"], Key={"id": {"S": "send#reset-1"}})
    assert "Item" in item  # DynamoDB has not swept it; the answer came from sentAt
    assert view(stack, "reset-1")[1]["resendable"] is False


def test_without_a_resend_key_the_activity_route_finds_it_across_pages(stack, sandbox):
    sandbox.resend_key_in_send_response = False
    stack.env_overrides["LISTRAK_ACTIVITY_PAGE_SIZE"] = "2"
    for n in range(5):  # other recipients of the same message, in the same window
        sent(stack, reference=f"other-{n}", emailAddress=f"someone{n}@example.com")
    target = sent(stack, reference="reset-1")
    assert target["resendKey"] is None

    status, body = resend(stack, "reset-1")

    assert status == 201, body
    expected = next(s["resendKey"] for s in sandbox.sent_messages if s["emailAddress"] == "jane.doe@example.com")
    assert sandbox.resends[0]["resendKey"] == expected
    assert sandbox.stats["activity_requests"] >= 3  # six rows, two per page
    assert view(stack, "reset-1")[1]["hasResendKey"] is True
    resend(stack, "reset-1")
    assert sandbox.stats["activity_requests"] <= 4  # the key was stored: no second lookup


def test_no_activity_yet_is_a_409_to_retry_later_not_a_5xx(stack, sandbox):
    sandbox.resend_key_in_send_response = False
    sandbox.activity_delay_seconds = 3600
    sent(stack)
    status, body = resend(stack, "reset-1")
    assert status == 409
    assert "not resendable yet" in body["message"]
    assert sandbox.stats["resends"] == 0


def test_listrak_refusing_the_key_is_a_clear_410(stack, sandbox):
    sent(stack)
    stack.client("dynamodb").update_item(
        TableName=stack.refs["Table"],
        Key={"id": {"S": "send#reset-1"}},
        UpdateExpression="SET resendKey = :k",
        ExpressionAttributeValues={":k": {"S": str(uuid.uuid4())}},
    )
    status, body = resend(stack, "reset-1")
    assert status == 410
    assert "no longer accepts this send's resendKey" in body["message"]


@pytest.mark.parametrize(
    "body",
    [{"emailAddress": "jane.doe@"}, {"emailAddress": 42}, {"emailAddress": "a@b.c", "cc": "x"}, ["x"]],
)
def test_a_bad_corrected_address_is_a_400_and_nothing_is_sent(stack, sandbox, body):
    sent(stack)
    status, answer = resend(stack, "reset-1", body)
    assert status == 400, answer
    assert answer["errors"]
    assert sandbox.stats["resends"] == 0


def test_a_replayed_request_resends_once(stack, sandbox):
    sent(stack)
    first = resend(stack, "reset-1", {"emailAddress": "jane.doe@example.org"}, key="ticket-1")
    again = resend(stack, "reset-1", {"emailAddress": "jane.doe@example.org"}, key="ticket-1")

    assert (first[0], again[0]) == (201, 200)
    assert again[1] == first[1]
    assert sandbox.stats["resends"] == 1
    assert view(stack, "reset-1")[1]["resendCount"] == 1


def test_the_same_idempotency_key_for_another_resend_is_a_conflict(stack, sandbox):
    sent(stack)
    resend(stack, "reset-1", {"emailAddress": "jane.doe@example.org"}, key="ticket-1")
    status, _ = resend(stack, "reset-1", {"emailAddress": "jane@example.net"}, key="ticket-1")
    assert status == 409
    assert sandbox.stats["resends"] == 1


def test_without_an_idempotency_key_each_request_resends(stack, sandbox):
    sent(stack)
    resend(stack, "reset-1")
    resend(stack, "reset-1")
    assert sandbox.stats["resends"] == 2
    assert view(stack, "reset-1")[1]["resendCount"] == 2


def test_resend_by_key_of_a_known_send_is_recorded_on_it(stack, sandbox):
    first = sent(stack)
    status, body = resend_by_key(
        stack, {"listId": 300001, "transactionalMessageId": 7003, "resendKey": first["resendKey"]}
    )
    assert status == 201, body
    assert body["reference"] == "reset-1" and body["resendCount"] == 1


def test_resend_by_key_applies_the_window_when_the_send_is_known(stack, sandbox):
    first = sent(stack)
    set_sent_at(stack, "reset-1", 31 * DAY)
    status, _ = resend_by_key(
        stack, {"listId": 300001, "transactionalMessageId": 7003, "resendKey": first["resendKey"]}
    )
    assert status == 410
    assert sandbox.stats["resends"] == 0


def test_resend_by_an_unknown_key_defers_to_listrak(stack, sandbox):
    status, body = resend_by_key(
        stack, {"listId": 300001, "transactionalMessageId": 7003, "resendKey": str(uuid.uuid4())}
    )
    assert status == 410
    assert body["message"].startswith("Listrak no longer accepts")


@pytest.mark.parametrize(
    "body",
    [
        {"listId": 300001, "transactionalMessageId": 7003, "resendKey": "not-a-uuid"},
        {"listId": 300001, "resendKey": str(uuid.uuid4())},
        {"listId": "x", "transactionalMessageId": 7003, "resendKey": str(uuid.uuid4())},
    ],
)
def test_resend_by_key_rejects_bad_input(stack, sandbox, body):
    status, answer = resend_by_key(stack, body)
    assert status == 400 and answer["errors"]
    assert sandbox.stats["resends"] == 0
