"""The SMS API's transactional send as the spec spells it: consent states, error codes, faults that act first."""

from __future__ import annotations

import pytest
import requests

from local_stack.sandbox import ListrakSandbox
from tests.sandbox.conftest import UNAUTHORIZED, assert_envelope

SENDER, PHONE_LIST, MESSAGE = 501, 601, 701
NUMBER = "15551230001"


def _seed(sandbox: ListrakSandbox) -> None:
    sandbox.add_client("sms-client", "sms-secret", "SMS")
    sandbox.add_client("email-client", "email-secret", "Email")
    sandbox.add_sms_message(SENDER, PHONE_LIST, MESSAGE)
    sandbox.set_phone_state(SENDER, PHONE_LIST, NUMBER, "Subscribed")


@pytest.fixture
def sandbox(start_sandbox) -> ListrakSandbox:
    return start_sandbox(_seed)


def sms_url(sandbox, sender=SENDER, phone_list=PHONE_LIST, message=MESSAGE) -> str:
    return f"{sandbox.sms_api_url}/v1/ShortCode/{sender}/PhoneList/{phone_list}/TransactionalMessage/{message}/Message"


def send_sms(http, sandbox, token, body=None, url=None, **kwargs):
    payload = {"phoneNumber": NUMBER, "messageContent": "Your order shipped."} if body is None else body
    return http.post(
        url or sms_url(sandbox), json=payload, headers={"Authorization": f"Bearer {token}"}, timeout=5, **kwargs
    )


def test_a_subscribed_number_gets_the_sms_and_a_resource_created_answer(http, sandbox):
    answer = send_sms(http, sandbox, sandbox.issue_token("SMS"))

    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"status", "resourceId"} and body["status"] == 201
    assert sandbox.sms_count(NUMBER) == 1
    assert sandbox.sms_sent == [
        {
            "senderCodeId": SENDER,
            "phoneListId": PHONE_LIST,
            "transactionalMessageId": MESSAGE,
            "phoneNumber": NUMBER,
            "messageContent": "Your order shipped.",
            "resourceId": body["resourceId"],
        }
    ]
    assert sandbox.counts["sms"] == [
        {
            "senderCodeId": SENDER,
            "phoneListId": PHONE_LIST,
            "transactionalMessageId": MESSAGE,
            "phoneNumber": NUMBER,
            "count": 1,
        }
    ]


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (None, "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED"),
        ("Unsubscribed", "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED"),
        ("OptedOut", "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED"),
        ("Pending", "ERROR_PENDING_PHONE_NUMBER"),
        ("Banned", "ERROR_BANNED_PHONE_NUMBER"),
        ("Suspended", "ERROR_PHONE_NUMBER_SUSPENDED"),
    ],
)
def test_a_number_without_consent_is_refused_and_sent_nothing(http, sandbox, state, code):
    number = "15551239999"
    if state is not None:
        sandbox.set_phone_state(SENDER, PHONE_LIST, number, state)

    answer = send_sms(http, sandbox, sandbox.issue_token("SMS"), {"phoneNumber": number, "messageContent": "Hi"})

    assert_envelope(answer, 400, code)
    assert sandbox.sms_count(number) == 0 and sandbox.stats["sms_refused"] == 1


def test_consent_is_per_phone_list(http, sandbox):
    sandbox.add_sms_message(SENDER, 602, 702)
    answer = send_sms(http, sandbox, sandbox.issue_token("SMS"), url=sms_url(sandbox, phone_list=602, message=702))

    assert_envelope(answer, 400, "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED")


@pytest.mark.parametrize(
    ("setup", "url_args", "status", "code"),
    [
        (lambda s: None, {"sender": 999}, 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE"),
        (lambda s: None, {"sender": "abc"}, 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE"),
        (lambda s: None, {"phone_list": 699}, 400, "ERROR_INVALID_LIST_ID"),
        (lambda s: None, {"message": 799}, 400, "ERROR_TRANSACTIONAL_MESSAGE_NOT_FOUND"),
        (
            lambda s: s.add_sms_message(SENDER, PHONE_LIST, MESSAGE, sender_enabled=False),
            {},
            400,
            "ERROR_SENDER_CODE_DISABLED",
        ),
        (lambda s: s.add_sms_message(SENDER, PHONE_LIST, MESSAGE, list_active=False), {}, 400, "ERROR_LIST_INACTIVE"),
    ],
)
def test_unknown_or_disabled_targets_are_refused(http, sandbox, setup, url_args, status, code):
    setup(sandbox)

    assert_envelope(send_sms(http, sandbox, sandbox.issue_token("SMS"), url=sms_url(sandbox, **url_args)), status, code)
    assert sandbox.sms_count(NUMBER) == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phoneNumber": "+15551230001", "messageContent": "x"}, "ERROR_INVALID_PHONE_NUMBER"),
        ({"phoneNumber": "555-123-0001", "messageContent": "x"}, "ERROR_INVALID_PHONE_NUMBER"),
        ({"messageContent": "x"}, "ERROR_INVALID_PHONE_NUMBER"),
        ({"phoneNumber": NUMBER}, "ERROR_TRANSACTIONAL_MESSAGE_EMPTY_MESSAGE"),
        ({"phoneNumber": NUMBER, "messageContent": "  "}, "ERROR_TRANSACTIONAL_MESSAGE_EMPTY_MESSAGE"),
        ({"phoneNumber": NUMBER, "messageContent": 5}, "ERROR_INVALID_PARAMETER"),
        ({"phoneNumber": NUMBER, "messageContent": "x" * 1601}, "ERROR_INVALID_PARAMETER"),
        ({"phoneNumber": NUMBER, "messageContent": "x", "emailAddress": "a@b.co"}, "ERROR_MALFORMED_REQUEST_BODY"),
        (["not", "an", "object"], "ERROR_MALFORMED_REQUEST_BODY"),
    ],
)
def test_bad_bodies_are_refused(http, sandbox, body, code):
    assert_envelope(send_sms(http, sandbox, sandbox.issue_token("SMS"), body), 400, code)
    assert sandbox.sms_count(NUMBER) == 0


def test_the_route_is_spelt_as_the_spec_spells_it(http, sandbox):
    token = sandbox.issue_token("SMS")
    lower = sms_url(sandbox).replace("/ShortCode/", "/shortcode/")
    assert_envelope(send_sms(http, sandbox, token, url=lower), 404, "ERROR_UNKNOWN_ROUTE")
    answer = http.get(sms_url(sandbox), headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert_envelope(answer, 405, "ERROR_UNSUPPORTED_METHOD")


def test_only_an_sms_token_is_accepted(http, sandbox):
    answer = send_sms(http, sandbox, sandbox.issue_token("Email"))
    assert answer.status_code == 401 and answer.json() == UNAUTHORIZED
    assert sandbox.sms_count(NUMBER) == 0


def test_a_wrong_content_type_is_415(http, sandbox):
    answer = http.post(
        sms_url(sandbox),
        data=b'{"phoneNumber": "15551230001", "messageContent": "x"}',
        headers={"Authorization": f"Bearer {sandbox.issue_token('SMS')}", "Content-Type": "text/plain"},
        timeout=5,
    )
    assert_envelope(answer, 415, "ERROR_UNSUPPORTED_CONTENT_TYPE")


@pytest.mark.parametrize("fault", ["500_after", "502_after", "503_after", "504_after"])
def test_faults_after_acting_send_the_sms_then_fail(http, sandbox, fault):
    sandbox.inject("sms", fault)

    assert send_sms(http, sandbox, sandbox.issue_token("SMS")).status_code == int(fault[:3])

    assert sandbox.sms_count(NUMBER) == 1
    assert sandbox.counts["faults"] == {"sms": {fault: 1}}


def test_drop_after_sends_then_closes_and_drop_sends_nothing(http, sandbox):
    token = sandbox.issue_token("SMS")
    sandbox.inject("sms", "drop_after")
    sandbox.inject("sms", "drop")

    for _ in range(2):
        with pytest.raises(requests.exceptions.ConnectionError):
            send_sms(http, sandbox, token)

    assert sandbox.sms_count(NUMBER) == 1


@pytest.mark.parametrize("fault", ["429", "500", "503"])
def test_faults_before_acting_send_nothing(http, sandbox, fault):
    sandbox.inject("sms", fault)

    assert send_sms(http, sandbox, sandbox.issue_token("SMS")).status_code == int(fault)
    assert sandbox.sms_count(NUMBER) == 0


def test_reset_forgets_the_sms_sent_and_keeps_the_account(http, sandbox):
    assert send_sms(http, sandbox, sandbox.issue_token("SMS")).status_code == 201
    sandbox.reset()

    assert sandbox.sms_count(NUMBER) == 0
    assert send_sms(http, sandbox, sandbox.issue_token("SMS")).status_code == 201


def test_the_control_routes_configure_and_show_the_account(http, sandbox):
    control = f"{sandbox.url}/_sandbox/sms"
    assert http.post(control, json={"senderCodeId": 502, "phoneListId": 603, "transactionalMessageId": 703}).ok
    number = {"senderCodeId": 502, "phoneListId": 603, "phoneNumber": NUMBER}
    assert http.post(control, json=number | {"state": "Subscribed"}).ok
    assert_envelope(http.post(control, json=number | {"state": "Maybe"}), 400, "ERROR_INVALID_PARAMETER")
    assert_envelope(
        http.post(control, json={"senderCodeId": 9, "phoneListId": 9, "phoneNumber": NUMBER, "state": "Pending"}),
        400,
        "ERROR_INVALID_PARAMETER",
    )

    url = sms_url(sandbox, sender=502, phone_list=603, message=703)
    assert send_sms(http, sandbox, sandbox.issue_token("SMS"), url=url).status_code == 201
    assert [row["senderCodeId"] for row in http.get(control, timeout=5).json()] == [502]
