"""The SMS adapter against the sandbox: Listrak's refusals become typed errors, an ambiguous answer is never
repeated."""

from __future__ import annotations

import pytest

from listrak_kit.listrak.errors import ListrakOutcomeUnknown, ListrakUnavailable
from listrak_kit.listrak.sms_api import SmsInvalidNumber, SmsNoConsent, SmsTargetRefused
from tests.sms.conftest import MESSAGE, PHONE_LIST, SENDER, SUBSCRIBED


def send(sms_api, number=SUBSCRIBED, **ids):
    target = {"sender_code_id": SENDER, "phone_list_id": PHONE_LIST, "transactional_message_id": MESSAGE} | ids
    return sms_api.send_transactional(phone_number=number, message_content="Your order shipped.", **target)


def test_a_subscribed_number_is_sent_one_sms(sms_sandbox, sms_api):
    receipt = send(sms_api)

    assert receipt.resource_id == sms_sandbox.sms_sent[0]["resourceId"]
    assert sms_sandbox.sms_count(SUBSCRIBED) == 1


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (None, "not-subscribed"),
        ("OptedOut", "not-subscribed"),
        ("Unsubscribed", "not-subscribed"),
        ("Pending", "pending"),
        ("Banned", "banned"),
        ("Suspended", "suspended"),
    ],
)
def test_a_number_without_consent_is_a_typed_refusal_with_its_reason(sms_sandbox, sms_api, state, reason):
    number = "15551239999"
    if state:
        sms_sandbox.set_phone_state(SENDER, PHONE_LIST, number, state)

    with pytest.raises(SmsNoConsent) as refused:
        send(sms_api, number)

    assert refused.value.reason == reason
    assert sms_sandbox.sms_count(number) == 0


def test_an_invalid_number_is_its_own_refusal(sms_api):
    with pytest.raises(SmsInvalidNumber):
        send(sms_api, "+1 555")


@pytest.mark.parametrize(
    ("setup", "ids", "code"),
    [
        (
            lambda s: s.add_sms_message(SENDER, PHONE_LIST, MESSAGE, sender_enabled=False),
            {},
            "ERROR_SENDER_CODE_DISABLED",
        ),
        (lambda s: s.add_sms_message(SENDER, PHONE_LIST, MESSAGE, list_active=False), {}, "ERROR_LIST_INACTIVE"),
        (lambda s: None, {"transactional_message_id": 799}, "ERROR_TRANSACTIONAL_MESSAGE_NOT_FOUND"),
        (lambda s: None, {"phone_list_id": 699}, "ERROR_INVALID_LIST_ID"),
        (lambda s: None, {"sender_code_id": 599}, "ERROR_UNABLE_TO_LOCATE_RESOURCE"),
    ],
)
def test_a_refused_target_is_its_own_refusal(sms_sandbox, sms_api, setup, ids, code):
    setup(sms_sandbox)
    with pytest.raises(SmsTargetRefused) as refused:
        send(sms_api, **ids)
    assert refused.value.code == code


@pytest.mark.parametrize("fault", ["500_after", "502_after", "503_after", "504_after", "drop_after", "slow_after"])
def test_an_answer_that_may_follow_a_send_is_never_repeated(sms_sandbox, sms_api, fault):
    sms_sandbox.inject("sms", fault)

    with pytest.raises(ListrakOutcomeUnknown):
        send(sms_api)

    assert sms_sandbox.sms_count(SUBSCRIBED) == 1
    assert sms_sandbox.stats["sms_sends"] == 1  # one request reached the route: no retry


def test_a_503_before_acting_is_not_repeated_either(sms_sandbox, sms_api):
    sms_sandbox.inject("sms", "503")

    with pytest.raises(ListrakOutcomeUnknown):
        send(sms_api)

    assert sms_sandbox.counts["faults"] == {"sms": {"503": 1}}


def test_throttling_is_retried_because_it_proves_nothing_was_sent(sms_sandbox, sms_api):
    sms_sandbox.inject("sms", "429", times=2)

    send(sms_api)

    assert sms_sandbox.sms_count(SUBSCRIBED) == 1


def test_throttling_past_the_budget_is_unavailable_and_nothing_was_sent(sms_sandbox, sms_api):
    sms_sandbox.inject("sms", "429", times=5)

    with pytest.raises(ListrakUnavailable):
        send(sms_api)

    assert sms_sandbox.sms_count(SUBSCRIBED) == 0
