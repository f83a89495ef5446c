"""POST /messages for an SMS, in-process against moto and the Listrak sandbox, counting SMS at the sandbox: a
subscribed number gets exactly one SMS however often the request is repeated, a number without consent none, and
an answer that may follow a send is never followed by a second SMS."""

from __future__ import annotations

import json

import pytest

from tests.conftest import post_message

SUBSCRIBED = "15551234567"  # subscribed by the local stack (local_stack/sms_account.py)
SENDER, PHONE_LIST, SHIPPING, CONFIRMATION = 501, 601, 701, 702
SHIPPED = {
    "message": "shipping-update-sms",
    "phoneNumber": "(555) 123-4567",
    "fields": {"orderNumber": "1004", "carrier": "UPS", "trackingNumber": "1Z999AA10123456784"},
    "reference": "ship-1004",
}
RAW = {
    "channel": "sms",
    "reference": "raw-1",
    "phoneNumber": "+1 555 123 4567",
    "senderCodeId": SENDER,
    "phoneListId": PHONE_LIST,
    "transactionalMessageId": CONFIRMATION,
    "messageContent": "Your table is ready.",
}


# One number per state: the local stack's SMS account keeps numbers' states across tests.
NO_CONSENT = {
    None: "15550200001",
    "Unsubscribed": "15550200002",
    "OptedOut": "15550200003",
    "Pending": "15550200004",
    "Banned": "15550200005",
    "Suspended": "15550200006",
}


def get_message(stack, reference: str) -> tuple[int, dict]:
    from local_stack.api_server import proxy_event

    event = proxy_event(
        "GET", f"/messages/{reference}", {}, b"", "/messages/{reference}", {"reference": reference}, "v1"
    )
    answer = stack.invoke("ResendFunction", event)
    return answer["statusCode"], json.loads(answer["body"])


def item(stack, reference: str) -> dict:
    from listrak_kit.aws.table import KEY

    answer = stack.client("dynamodb").get_item(
        TableName=stack.refs["Table"], Key={KEY: {"S": f"send#{reference}"}}, ConsistentRead=True
    )
    return answer.get("Item") or {}


def logs(stack) -> str:
    return "".join(path.read_text() for path in stack.log_dir.glob("*.log"))


def test_a_catalog_sms_to_a_subscribed_number_is_sent_once_with_its_text(stack, sandbox):
    status, body = post_message(stack, SHIPPED)

    assert status == 201, body
    assert body["channel"] == "sms" and body["status"] == "sent" and body["to"] == "***67"
    assert (body["senderCodeId"], body["phoneListId"], body["transactionalMessageId"]) == (501, 601, 701)
    [sms] = sandbox.sms_sent
    assert sms["phoneNumber"] == SUBSCRIBED
    assert sms["messageContent"] == (
        "Your order 1004 has shipped with UPS. Tracking: 1Z999AA10123456784. Reply STOP to opt out."
    )
    assert body["segments"] == 1


def test_repeating_the_request_never_sends_a_second_sms(stack, sandbox):
    answers = [post_message(stack, SHIPPED) for _ in range(4)]

    assert [status for status, _ in answers] == [201, 200, 200, 200]
    assert {body["status"] for _, body in answers} == {"sent"}
    assert sandbox.sms_count(SUBSCRIBED) == 1


def test_the_raw_form_sends_the_callers_text(stack, sandbox):
    status, body = post_message(stack, RAW)

    assert status == 201, body
    assert sandbox.sms_sent[0]["messageContent"] == "Your table is ready."
    assert post_message(stack, RAW)[0] == 200
    assert sandbox.sms_count(SUBSCRIBED) == 1


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (None, "not-subscribed"),
        ("Unsubscribed", "not-subscribed"),
        ("OptedOut", "not-subscribed"),
        ("Pending", "pending"),
        ("Banned", "banned"),
        ("Suspended", "suspended"),
    ],
)
def test_a_number_without_consent_is_skipped_and_never_sent_to(stack, sandbox, state, reason):
    number = NO_CONSENT[state]
    if state is not None:
        sandbox.set_phone_state(SENDER, PHONE_LIST, number, state)
    request = SHIPPED | {"phoneNumber": f"+{number}", "reference": f"consent-{state}"}

    answers = [post_message(stack, request) for _ in range(3)]

    for status, body in answers:
        assert status == 409, body
        assert body["status"] == "skipped" and body["reason"] == reason
        assert "consent" in body["message"] and "nothing was sent" in body["message"]
    assert sandbox.sms_count(number) == 0
    metric = "SmsSkipped_" + reason.title().replace("-", "")
    assert metric in logs(stack)
    assert get_message(stack, f"consent-{state}")[1]["status"] == "skipped"


@pytest.mark.parametrize("fault", ["500_after", "502_after", "503_after", "504_after", "drop_after", "slow_after"])
def test_a_fault_after_listrak_sent_it_leaves_it_unconfirmed_and_never_sends_again(stack, sandbox, fault):
    sandbox.slow_after_seconds = 3  # past the read timeout the tests give the functions
    sandbox.inject("sms", fault)
    try:
        answers = [post_message(stack, SHIPPED) for _ in range(3)]
    finally:
        sandbox.slow_after_seconds = 30.0

    for status, body in answers:
        assert status == 202, body
        assert body["status"] == "unconfirmed" and "never sent again" in body["failure"]
    assert sandbox.sms_count(SUBSCRIBED) == 1
    assert "SmsUnconfirmed" in logs(stack)
    view = get_message(stack, "ship-1004")[1]
    assert view["status"] == "unconfirmed" and view["channel"] == "sms"


@pytest.mark.parametrize("fault", ["500", "502", "503", "504", "drop"])
def test_a_fault_that_may_or_may_not_have_acted_is_not_retried_either(stack, sandbox, fault):
    sandbox.inject("sms", fault)

    status, body = post_message(stack, SHIPPED)
    repeated = post_message(stack, SHIPPED)

    assert status == 202 and body["status"] == "unconfirmed"
    assert repeated[0] == 202 and repeated[1]["status"] == "unconfirmed"
    assert sandbox.sms_count(SUBSCRIBED) == 0  # it did not go: but nothing proved that, so it is never retried


def test_throttling_proves_nothing_was_sent_so_it_is_retried_once_through(stack, sandbox):
    sandbox.inject("sms", "429", times=2)

    status, body = post_message(stack, SHIPPED)

    assert status == 201, body
    assert sandbox.sms_count(SUBSCRIBED) == 1


def test_throttling_past_the_budget_frees_the_reference_for_a_later_try(stack, sandbox):
    sandbox.inject("sms", "429", times=30)
    status, _ = post_message(stack, SHIPPED)
    assert status == 503
    assert sandbox.sms_count(SUBSCRIBED) == 0 and item(stack, "ship-1004") == {}

    sandbox.reset()
    assert post_message(stack, SHIPPED)[0] == 201
    assert sandbox.sms_count(SUBSCRIBED) == 1


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda s: s.add_sms_message(SENDER, PHONE_LIST, SHIPPING, sender_enabled=False), "ERROR_SENDER_CODE_DISABLED"),
        (lambda s: s.add_sms_message(SENDER, PHONE_LIST, SHIPPING, list_active=False), "ERROR_LIST_INACTIVE"),
    ],
)
def test_a_disabled_sender_code_or_inactive_list_is_listraks_refusal_and_frees_the_reference(
    stack, sandbox, setup, code
):
    setup(sandbox)
    try:
        status, body = post_message(stack, SHIPPED)
    finally:
        sandbox.add_sms_message(SENDER, PHONE_LIST, SHIPPING)
    assert status == 502 and body["listrakError"] == code
    assert item(stack, "ship-1004") == {}
    assert post_message(stack, SHIPPED)[0] == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phoneNumber": "555-1234"}, "phoneNumber"),
        ({"phoneNumber": "call me"}, "phoneNumber"),
        ({"fields": {"carrier": "UPS"}}, "fields.orderNumber"),
        ({"fields": {"orderNumber": "1" * 21}}, "fields.orderNumber"),
        ({"fields": {"orderNumber": "1", "giftNote": "x"}}, "fields.giftNote"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_sends_nothing(stack, sandbox, change, field):
    status, body = post_message(stack, SHIPPED | change)

    assert status == 400, body
    assert field in [e["field"] for e in body["errors"]]
    assert sandbox.sms_count(SUBSCRIBED) == 0


def test_a_raw_sms_over_the_segment_limit_is_a_400_naming_the_segments(stack, sandbox):
    status, body = post_message(stack, RAW | {"messageContent": "ā" * 671})  # 11 UCS-2 segments

    assert status == 400, body
    [error] = body["errors"]
    assert error["field"] == "segments" and "11 segments" in error["message"]
    stack.env_overrides["SMS_MAX_SEGMENTS"] = "1"
    stack.cold_start()
    status, body = post_message(stack, RAW | {"messageContent": "a" * 161})
    assert status == 400 and "2 segments" in body["errors"][0]["message"]
    assert sandbox.sms_count(SUBSCRIBED) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phoneNumber": SUBSCRIBED}, "(body)"),
        (RAW | {"message": "shipping-update-sms"}, "(body)"),
        (RAW | {"channel": "fax"}, "channel"),
        ({k: v for k, v in RAW.items() if k != "messageContent"}, "(body)"),
        (RAW | {"emailAddress": "jane@example.com"}, "emailAddress"),
    ],
)
def test_a_malformed_sms_body_is_a_400(stack, sandbox, body, field):
    status, answer = post_message(stack, body)
    assert status == 400, answer
    assert field in [e["field"] for e in answer["errors"]]


def test_an_email_name_with_a_phone_number_is_refused(stack, sandbox):
    status, body = post_message(stack, {"message": "order-confirmation", "phoneNumber": SUBSCRIBED})
    assert status == 404 and "email message" in body["message"]


def test_the_same_reference_for_another_text_is_a_conflict(stack, sandbox):
    assert post_message(stack, SHIPPED)[0] == 201
    status, body = post_message(stack, SHIPPED | {"fields": SHIPPED["fields"] | {"carrier": "FedEx"}})
    assert status == 409 and "different send" in body["message"]
    assert sandbox.sms_count(SUBSCRIBED) == 1


def test_get_shows_the_channel_and_the_masked_number_and_an_sms_has_no_resend(stack, sandbox):
    from tests.handlers.test_resend_api import resend

    post_message(stack, SHIPPED)
    status, view = get_message(stack, "ship-1004")

    assert status == 200
    assert view["channel"] == "sms" and view["to"] == "***67" and view["status"] == "sent"
    assert view["resendable"] is False and view["listId"] == PHONE_LIST
    status, body = resend(stack, "ship-1004")
    assert status == 409 and "no resend" in body["message"]
    assert sandbox.sms_count(SUBSCRIBED) == 1


def test_no_whole_phone_number_in_any_log_or_record(stack, sandbox):
    sandbox.inject("sms", "502_after")
    post_message(stack, SHIPPED)
    post_message(stack, SHIPPED | {"reference": "ship-2"})
    post_message(stack, SHIPPED | {"reference": "ship-3", "phoneNumber": "+1 555 020 0009"})

    text = logs(stack)
    for digits in ("5551234567", "555 123 4567", "123-4567", "5550200009"):
        assert digits not in text
    stored = json.dumps([item(stack, ref) for ref in ("ship-1004", "ship-2", "ship-3")])
    assert "5551234567" not in stored and "5550200009" not in stored


def test_an_email_record_is_stored_as_before(stack, sandbox):
    from tests.handlers.test_send_api import ORDER

    assert post_message(stack, ORDER)[0] == 201
    stored = item(stack, ORDER["reference"])
    assert "channel" not in stored and "phoneMasked" not in stored and "senderCodeId" not in stored
    assert get_message(stack, ORDER["reference"])[1]["channel"] == "email"


def test_an_operator_may_not_send_an_unconfirmed_sms_again_but_may_mark_it_sent(stack, sandbox):
    """`listrak-sam send settle --send-again` hands a send to the email reconciler: an SMS must never go there."""
    from listrak_ops.sends import settle as operator_settle

    table = stack.refs["Table"]
    sandbox.inject("sms", "500")
    assert post_message(stack, SHIPPED)[1]["status"] == "unconfirmed"

    refused = operator_settle(table, "ship-1004", sent=False)

    assert "SMS" in refused and "nothing changed" in refused
    view = get_message(stack, "ship-1004")[1]
    assert view["status"] == "unconfirmed" and view["channel"] == "sms"
    assert operator_settle(table, "ship-1004", sent=True) == "ship-1004: marked sent"
    assert get_message(stack, "ship-1004")[1]["status"] == "sent"
    assert sandbox.sms_count(SUBSCRIBED) == 0
