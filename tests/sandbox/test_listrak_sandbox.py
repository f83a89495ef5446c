"""The Listrak sandbox over real HTTP on 127.0.0.1: tokens, sends, resends, activity, data imports, faults."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from local_stack.sandbox import ListrakSandbox
from tests.sandbox.conftest import START, UNAUTHORIZED, assert_envelope

EMAIL_CLIENT = ("email-client", "email-secret")
DATA_CLIENT = ("data-client", "data-secret")
LIST_ID = 1001
MESSAGE_ID = 2001


def _seed(sandbox: ListrakSandbox) -> None:
    sandbox.add_client(*EMAIL_CLIENT, "Email")
    sandbox.add_client(*DATA_CLIENT, "Data")
    sandbox.add_transactional_message(LIST_ID, MESSAGE_ID)


@pytest.fixture
def make_sandbox(start_sandbox):
    return lambda **options: start_sandbox(_seed, **options)


# -- helpers ---------------------------------------------------------------------------------------


def request_token(http, sandbox, client=EMAIL_CLIENT, grant_type="client_credentials", **kwargs):
    form = {"grant_type": grant_type, "client_id": client[0], "client_secret": client[1]}
    return http.post(sandbox.auth_url, data=form, timeout=5, **kwargs)


def send_key(http, sandbox, access_token, email="ann@example.com") -> str:
    """Send, then read the resendKey Listrak recorded (its 201 answers resourceId "null")."""
    answer = send(http, sandbox, access_token, email)
    assert answer.status_code == 201, answer.text
    return sandbox.sent_messages[-1]["resendKey"]


def token(http, sandbox, client=EMAIL_CLIENT) -> str:
    answer = request_token(http, sandbox, client)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def message_url(sandbox, tail: str, list_id=LIST_ID, message_id=MESSAGE_ID) -> str:
    return f"{sandbox.email_api_url}/v1/List/{list_id}/TransactionalMessage/{message_id}/{tail}"


def send(http, sandbox, access_token, email="ann@example.com", fields=None, body=None, **kwargs):
    if body is None:
        body = {"emailAddress": email, "segmentationFieldValues": fields or []}
    kwargs.setdefault("timeout", 5)
    url = kwargs.pop("url", None) or message_url(sandbox, "Message")
    return http.post(url, json=body, headers=bearer(access_token), **kwargs)


def resend(http, sandbox, access_token, resend_key, **params):
    return http.post(
        message_url(sandbox, f"Resend/{resend_key}"), params=params, headers=bearer(access_token), timeout=5
    )


def activity(http, sandbox, access_token, **params):
    return http.get(message_url(sandbox, "Activity"), params=params, headers=bearer(access_token), timeout=5)


def import_data(http, sandbox, access_token, entity="Customer", body=None, **kwargs):
    kwargs.setdefault("json", body if body is not None else [{"email": "ann@example.com"}])
    return http.post(f"{sandbox.data_api_url}/v1/{entity}", headers=bearer(access_token), timeout=5, **kwargs)


# -- tokens ----------------------------------------------------------------------------------------


def test_token_success_has_listraks_shape(http, sandbox):
    answer = request_token(http, sandbox)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599
    assert len(body["access_token"]) >= 100 and "." not in body["access_token"]  # opaque, not a JWT
    assert sandbox.stats["tokens_minted"] == 1
    assert sandbox.stats["tokens_minted_by_integration"] == {"Email": 1, "Data": 0, "Privacy": 0, "SMS": 0}


def test_bad_credentials_answer_a_bare_error(http, sandbox):
    wrong_secret = request_token(http, sandbox, (EMAIL_CLIENT[0], "nope"))
    unknown_client = request_token(http, sandbox, ("nobody", "x"))

    for answer in (wrong_secret, unknown_client):
        assert answer.status_code == 400
        assert answer.json() == {"error": "Invalid Credentials"}
    assert sandbox.stats["token_rejections"] == 2
    assert sandbox.stats["tokens_minted"] == 0


def test_unsupported_grant_type(http, sandbox):
    assert request_token(http, sandbox, grant_type="password").json() == {"error": "unsupported_grant_type"}
    missing = http.post(sandbox.auth_url, data={"client_id": "a", "client_secret": "b"}, timeout=5)
    assert missing.status_code == 400 and missing.json() == {"error": "unsupported_grant_type"}
    assert sandbox.stats["token_rejections"] == 0


def test_token_expires_by_the_clock(http, make_sandbox, clock):
    sandbox = make_sandbox(token_ttl_seconds=60)
    access_token = token(http, sandbox)
    assert send(http, sandbox, access_token).status_code == 201

    clock.advance(60)

    answer = send(http, sandbox, access_token)
    assert answer.status_code == 401 and answer.json() == UNAUTHORIZED
    assert sandbox.stats["unauthorized"] == 1
    assert len(sandbox.sent_messages) == 1


def test_revoked_tokens_are_refused_and_new_ones_work(http, sandbox):
    old = token(http, sandbox)
    sandbox.revoke_tokens()

    assert send(http, sandbox, old).json() == UNAUTHORIZED
    assert send(http, sandbox, token(http, sandbox)).status_code == 201


def test_a_token_only_opens_its_own_integration(http, sandbox):
    email_token = token(http, sandbox, EMAIL_CLIENT)
    data_token = token(http, sandbox, DATA_CLIENT)

    assert send(http, sandbox, data_token).json() == UNAUTHORIZED
    assert import_data(http, sandbox, email_token).json() == UNAUTHORIZED
    assert sandbox.stats["tokens_minted_by_integration"] == {"Email": 1, "Data": 1, "Privacy": 0, "SMS": 0}
    assert sandbox.stats["unauthorized"] == 2


def test_missing_or_unknown_bearer_is_refused(http, sandbox):
    url = message_url(sandbox, "Message")
    body = {"emailAddress": "ann@example.com", "segmentationFieldValues": []}
    assert http.post(url, json=body, timeout=5).json() == UNAUTHORIZED
    assert http.post(url, json=body, headers=bearer("made-up"), timeout=5).json() == UNAUTHORIZED
    assert http.post(url, json=body, headers={"Authorization": "Basic abc"}, timeout=5).status_code == 401


def test_issue_token_is_valid_and_not_counted(http, sandbox, clock):
    access_token = sandbox.issue_token("Email", ttl_seconds=10)
    assert send(http, sandbox, access_token).status_code == 201
    assert sandbox.stats["tokens_minted"] == 0
    clock.advance(10)
    assert send(http, sandbox, access_token).status_code == 401


def test_a_clock_object_with_now_is_accepted(http):
    class ProjectClock:  # the shape of listrak_kit.clock.Clock
        def now(self) -> float:
            return START

    with ListrakSandbox(clock=ProjectClock()) as sandbox:
        sandbox.add_transactional_message(LIST_ID, MESSAGE_ID)
        send(http, sandbox, sandbox.issue_token("Email"))
        assert sandbox.sent_messages[0]["sendDate"] == "2026-11-22T15:00:00Z"


# -- sends -----------------------------------------------------------------------------------------


def test_send_records_the_message_and_answers_the_literal_string_null(http, sandbox):
    fields = [{"segmentationFieldId": 11, "value": "Ann"}, {"segmentationFieldId": 12, "value": "A-100"}]

    answer = send(http, sandbox, token(http, sandbox), "ann@example.com", fields)

    assert answer.status_code == 201 and answer.json() == {"status": 201, "resourceId": "null"}
    body = {"resourceId": sandbox.sent_messages[0]["resendKey"]}  # recorded, just not revealed
    uuid.UUID(body["resourceId"])
    assert sandbox.sent_messages == [
        {
            "listId": LIST_ID,
            "transactionalMessageId": MESSAGE_ID,
            "emailAddress": "ann@example.com",
            "segmentationFieldValues": fields,
            "resendKey": body["resourceId"],
            "sendDate": "2026-11-22T15:00:00Z",
        }
    ]
    assert sandbox.stats["sends"] == 1


def test_send_can_answer_the_resend_key_when_asked_to(http, make_sandbox):
    sandbox = make_sandbox(resend_key_in_send_response=True)

    answer = send(http, sandbox, sandbox.issue_token("Email"))

    assert answer.status_code == 201
    assert answer.json() == {"status": 201, "resourceId": sandbox.sent_messages[0]["resendKey"]}
    uuid.UUID(answer.json()["resourceId"])


def test_duplicate_segmentation_field(http, sandbox):
    fields = [{"segmentationFieldId": 11, "value": "a"}, {"segmentationFieldId": 11, "value": "b"}]

    answer = send(http, sandbox, sandbox.issue_token("Email"), fields=fields)

    assert_envelope(
        answer,
        400,
        "ERROR_SEGMENTATION_FIELD_DEFINED_TWICE",
        "A segmentation field was defined more than once.",
    )
    assert sandbox.sent_messages == []


@pytest.mark.parametrize(("list_id", "message_id"), [(9999, MESSAGE_ID), (LIST_ID, 9999), ("abc", MESSAGE_ID)])
def test_unknown_list_or_message_is_404(http, sandbox, list_id, message_id):
    url = message_url(sandbox, "Message", list_id, message_id)

    answer = send(http, sandbox, sandbox.issue_token("Email"), url=url)

    assert_envelope(
        answer,
        404,
        "ERROR_UNABLE_TO_LOCATE_RESOURCE",
        "Unable to locate a resource associated with the listId and transactionalMessageId supplied.",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"segmentationFieldValues": []},
        {"emailAddress": "", "segmentationFieldValues": []},
        {"emailAddress": "not-an-address", "segmentationFieldValues": []},
        {"emailAddress": 42, "segmentationFieldValues": []},
    ],
)
def test_bad_email_address_is_400(http, sandbox, body):
    answer = send(http, sandbox, sandbox.issue_token("Email"), body=body)

    assert "emailAddress" in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]


def test_a_send_without_segmentation_fields_is_accepted_as_the_spec_makes_them_optional(http, sandbox):
    answer = send(http, sandbox, sandbox.issue_token("Email"), body={"emailAddress": "ann@example.com"})

    assert answer.status_code == 201
    assert sandbox.sent_messages[0]["segmentationFieldValues"] == []


def test_a_send_is_checked_against_the_message_fields_when_they_are_known(http, sandbox):
    sandbox.add_transactional_message(LIST_ID, MESSAGE_ID, {11: 5})
    access_token = sandbox.issue_token("Email")

    unknown = send(http, sandbox, access_token, fields=[{"segmentationFieldId": 12, "value": "x"}])
    too_long = send(http, sandbox, access_token, fields=[{"segmentationFieldId": 11, "value": "x" * 6}])
    fits = send(http, sandbox, access_token, fields=[{"segmentationFieldId": 11, "value": "x" * 5}])

    assert "12" in assert_envelope(unknown, 400, "ERROR_INVALID_PARAMETER")["message"]
    assert "maximum length of 5" in assert_envelope(too_long, 400, "ERROR_INVALID_PARAMETER")["message"]
    assert fits.status_code == 201 and sandbox.stats["sends"] == 1


@pytest.mark.parametrize(
    "fields",
    [
        "x",
        [{"value": "a"}],
        [{"segmentationFieldId": "11", "value": "a"}],
        [{"segmentationFieldId": 1}],
    ],
)
def test_bad_segmentation_fields_are_400(http, sandbox, fields):
    body = {"emailAddress": "ann@example.com"}
    if fields is not None:
        body["segmentationFieldValues"] = fields

    answer = send(http, sandbox, sandbox.issue_token("Email"), body=body)

    assert "segmentationFieldValues" in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]


def test_malformed_bodies_are_400(http, sandbox):
    access_token = sandbox.issue_token("Email")
    extra_key = {"emailAddress": "ann@example.com", "segmentationFieldValues": [], "cc": "x"}
    headers = {**bearer(access_token), "Content-Type": "application/json"}
    not_json = http.post(message_url(sandbox, "Message"), data="{oops", headers=headers, timeout=5)

    assert_envelope(send(http, sandbox, access_token, body=extra_key), 400, "ERROR_MALFORMED_REQUEST_BODY")
    assert_envelope(send(http, sandbox, access_token, body=["x"]), 400, "ERROR_MALFORMED_REQUEST_BODY")
    assert_envelope(not_json, 400, "ERROR_MALFORMED_REQUEST_BODY")
    assert sandbox.stats["sends"] == 0


def test_wrong_content_type_is_415(http, sandbox):
    headers = {**bearer(sandbox.issue_token("Email")), "Content-Type": "text/plain"}
    body = '{"emailAddress": "ann@example.com", "segmentationFieldValues": []}'

    answer = http.post(message_url(sandbox, "Message"), data=body, headers=headers, timeout=5)

    assert_envelope(answer, 415, "ERROR_UNSUPPORTED_CONTENT_TYPE")
    headers["Content-Type"] = "application/json; charset=utf-8"
    assert http.post(message_url(sandbox, "Message"), data=body, headers=headers, timeout=5).status_code == 201


def test_oversize_body_is_404_and_the_connection_stays_usable(http, make_sandbox):
    sandbox = make_sandbox(max_body_bytes=200)
    access_token = sandbox.issue_token("Data")
    big = [{"email": f"user{i}@example.com"} for i in range(100)]

    answer = import_data(http, sandbox, access_token, body=big)

    assert_envelope(answer, 404, "ERROR_UNKNOWN_ROUTE", "Not Found")
    assert sandbox.data_imports["Customer"] == []
    assert import_data(http, sandbox, access_token).status_code == 201  # same keep-alive session


def test_unknown_route_and_wrong_method(http, sandbox):
    access_token = sandbox.issue_token("Email")
    assert_envelope(http.get(f"{sandbox.url}/email/v1/Nope", timeout=5), 404, "ERROR_UNKNOWN_ROUTE")
    wrong_method = http.get(message_url(sandbox, "Message"), headers=bearer(access_token), timeout=5)
    assert_envelope(wrong_method, 405, "ERROR_UNSUPPORTED_METHOD")
    assert_envelope(http.get(sandbox.auth_url, timeout=5), 405, "ERROR_UNSUPPORTED_METHOD")


def test_chunked_request_bodies_are_read(http, sandbox):
    def chunks():
        yield b'{"emailAddress": "ann@example.com", '
        yield b'"segmentationFieldValues": []}'

    headers = {**bearer(sandbox.issue_token("Email")), "Content-Type": "application/json"}
    answer = http.post(message_url(sandbox, "Message"), data=chunks(), headers=headers, timeout=5)

    assert answer.status_code == 201
    assert send(http, sandbox, sandbox.issue_token("Email")).status_code == 201


# -- resends ---------------------------------------------------------------------------------------


def test_resend_with_forward_address(http, sandbox, clock):
    access_token = sandbox.issue_token("Email", ttl_seconds=86400)
    resend_key = send_key(http, sandbox, access_token, "ann@example.com")
    clock.advance(3600)

    answer = resend(http, sandbox, access_token, resend_key, forwardAddress="bob@example.com")

    assert answer.status_code == 201
    new_id = answer.json()["resourceId"]
    uuid.UUID(new_id)
    assert new_id != resend_key
    assert sandbox.resends == [
        {
            "listId": LIST_ID,
            "transactionalMessageId": MESSAGE_ID,
            "resendKey": resend_key,
            "emailAddress": "bob@example.com",
            "resendDate": "2026-11-22T16:00:00Z",
        }
    ]
    assert sandbox.stats["resends"] == 1


def test_resend_without_forward_address_goes_to_the_original(http, sandbox):
    access_token = sandbox.issue_token("Email")
    resend_key = send_key(http, sandbox, access_token, "ann@example.com")

    assert resend(http, sandbox, access_token, resend_key).status_code == 201
    assert sandbox.resends[0]["emailAddress"] == "ann@example.com"


def test_resend_after_the_window_or_with_an_unknown_key_is_404(http, sandbox, clock):
    access_token = sandbox.issue_token("Email", ttl_seconds=90 * 86400)
    resend_key = send_key(http, sandbox, access_token)
    message = "Unable to locate a resource associated with the listId, transactionalMessageId, and resendKey supplied."

    assert_envelope(resend(http, sandbox, access_token, uuid.uuid4()), 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", message)
    clock.advance(30 * 86400)
    assert resend(http, sandbox, access_token, resend_key).status_code == 201  # the window is inclusive
    clock.advance(1)
    assert_envelope(resend(http, sandbox, access_token, resend_key), 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", message)
    assert sandbox.stats["resends"] == 1


def test_resend_key_belongs_to_its_list_and_message(http, sandbox):
    sandbox.add_transactional_message(LIST_ID, 3003)
    access_token = sandbox.issue_token("Email")
    resend_key = send_key(http, sandbox, access_token)

    answer = http.post(
        message_url(sandbox, f"Resend/{resend_key}", message_id=3003), headers=bearer(access_token), timeout=5
    )

    assert_envelope(answer, 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")


def test_resend_forward_address_must_be_an_address(http, sandbox):
    access_token = sandbox.issue_token("Email")
    resend_key = send_key(http, sandbox, access_token)

    answer = resend(http, sandbox, access_token, resend_key, forwardAddress="bob")

    assert "forwardAddress" in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]
    assert sandbox.resends == []


# -- activity --------------------------------------------------------------------------------------


def send_five(http, sandbox, clock, access_token) -> list[str]:
    """Five sends an hour apart from 15:00; ann gets the first and the fourth."""
    keys = []
    for email in (
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
        "Ann@Example.com",
        "dee@example.com",
    ):
        keys.append(send_key(http, sandbox, access_token, email))
        clock.advance(3600)
    return keys


def test_activity_pages_follow_the_cursor_to_the_end(http, sandbox, clock):
    access_token = sandbox.issue_token("Email", ttl_seconds=86400)
    keys = send_five(http, sandbox, clock, access_token)

    seen, pages, cursor = [], [], "Start"
    while cursor is not None:
        answer = activity(http, sandbox, access_token, count=2, cursor=cursor)
        assert answer.status_code == 200
        body = answer.json()
        assert set(body) == {"status", "nextPageCursor", "data"} and body["status"] == 200
        pages.append(len(body["data"]))
        seen.extend(body["data"])
        cursor = body["nextPageCursor"]

    assert pages == [2, 2, 1]
    assert [row["resendKey"] for row in seen] == keys
    assert seen[0] == {
        "emailAddress": "ann@example.com",
        "sendDate": "2026-11-22T15:00:00Z",
        "resendKey": keys[0],
        "activityDate": None,
        "abuse": False,
        "bounce": False,
        "bounceReason": None,
        "click": False,
        "clickCount": 0,
        "open": False,
        "orderTotal": 0.0,
        "read": False,
        "unsubscribe": False,
        "externalContactID": None,
    }
    assert sandbox.stats["activity_requests"] == 3


def test_activity_filters_by_address_and_date(http, sandbox, clock):
    access_token = sandbox.issue_token("Email", ttl_seconds=86400)
    keys = send_five(http, sandbox, clock, access_token)

    def keys_for(**params):
        answer = activity(http, sandbox, access_token, **params)
        assert answer.status_code == 200, answer.text
        return [row["resendKey"] for row in answer.json()["data"]]

    assert keys_for(emailAddress="ANN@example.com") == [keys[0], keys[3]]
    assert keys_for(startDate="2026-11-22T16:00:00Z", endDate="2026-11-22T18:00:00Z") == keys[1:4]
    assert keys_for(startDate="2026-11-22T17:30:00") == keys[3:]
    assert keys_for(endDate="2026-11-22") == keys  # a date-only end covers the whole day
    assert keys_for(startDate="2026-11-23") == []
    assert keys_for(emailAddress="ann@example.com", startDate="2026-11-22T16:00:00Z") == [keys[3]]


@pytest.mark.parametrize(
    "params",
    [{"startDate": "yesterday"}, {"endDate": "2026-13-40"}, {"count": 0}, {"count": 5001}, {"count": "ten"}],
)
def test_activity_rejects_bad_parameters(http, sandbox, params):
    answer = activity(http, sandbox, sandbox.issue_token("Email"), **params)

    assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")


def test_activity_unknown_cursor_and_unknown_message(http, sandbox):
    access_token = sandbox.issue_token("Email")

    assert_envelope(activity(http, sandbox, access_token, cursor="bogus"), 400, "ERROR_INVALID_PARAMETER")
    unknown = http.get(message_url(sandbox, "Activity", list_id=5), headers=bearer(access_token), timeout=5)
    assert_envelope(unknown, 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")


def test_activity_delay_hides_a_fresh_send(http, make_sandbox, clock):
    sandbox = make_sandbox(activity_delay_seconds=300)
    access_token = sandbox.issue_token("Email")
    send(http, sandbox, access_token)

    assert activity(http, sandbox, access_token).json() == {"status": 200, "nextPageCursor": None, "data": []}
    clock.advance(299)
    assert activity(http, sandbox, access_token).json()["data"] == []
    clock.advance(1)
    assert len(activity(http, sandbox, access_token).json()["data"]) == 1


# -- data imports ----------------------------------------------------------------------------------


def test_data_import_is_stored_and_counted(http, sandbox):
    access_token = token(http, sandbox, DATA_CLIENT)
    customers = [{"email": "ann@example.com"}, {"email": "bob@example.com"}]
    orders = [{"orderNumber": "A-1", "email": "ann@example.com"}]

    first = import_data(http, sandbox, access_token, "Customer", customers)
    import_data(http, sandbox, access_token, "Order", orders)
    import_data(http, sandbox, access_token, "Customer", customers[:1])

    assert first.status_code == 201 and set(first.json()) == {"status", "resourceId"}
    assert isinstance(first.json()["resourceId"], str)  # the spec types it a string
    imports = sandbox.data_imports
    assert imports["Customer"] == [customers, customers[:1]]
    assert imports["Order"] == [orders]
    assert sandbox.stats["data_imports"] == 3
    assert sandbox.stats["data_records"]["Customer"] == 3
    assert sandbox.stats["data_records"]["Order"] == 1


def test_data_import_rejects_bad_bodies_and_entities(http, sandbox):
    access_token = sandbox.issue_token("Data")

    assert_envelope(import_data(http, sandbox, access_token, body={"email": "x"}), 400, "ERROR_MALFORMED_REQUEST_BODY")
    assert_envelope(import_data(http, sandbox, access_token, body=[1, 2]), 400, "ERROR_MALFORMED_REQUEST_BODY")
    assert_envelope(import_data(http, sandbox, access_token, body=[]), 400, "ERROR_INVALID_PARAMETER")
    assert_envelope(import_data(http, sandbox, access_token, "Widget"), 404, "ERROR_UNKNOWN_ROUTE")
    assert sandbox.stats["data_imports"] == 0
    assert all(count == 0 for count in sandbox.stats["data_records"].values())


# -- faults ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "retry_after", "status", "error", "message"),
    [
        ("429", 7, 429, "ERROR_TOO_MANY_REQUESTS", "Too many requests."),
        ("429", None, 429, "ERROR_TOO_MANY_REQUESTS", "Too many requests."),
        ("500", None, 500, "ERROR_UNHANDLED_EXCEPTION", "An unhandled exception occurred."),
        ("503", None, 503, "ERROR_SERVICE_UNAVAILABLE", None),
    ],
)
def test_error_faults_answer_without_processing(http, sandbox, fault, retry_after, status, error, message):
    access_token = sandbox.issue_token("Email")
    sandbox.inject("send", fault, times=2, retry_after=retry_after)

    answers = [send(http, sandbox, access_token) for _ in range(3)]

    for answer in answers[:2]:
        assert_envelope(answer, status, error, message)
        if retry_after is None:
            assert "Retry-After" not in answer.headers
        else:
            assert answer.headers["Retry-After"] == str(retry_after)
    assert answers[2].status_code == 201
    assert len(sandbox.sent_messages) == 1
    assert sandbox.stats["faults_injected"] == 2


def test_slow_fault_processes_then_answers_late(http, sandbox):
    access_token = sandbox.issue_token("Email")
    sandbox.inject("send", "slow", delay=0.6)

    with pytest.raises(requests.exceptions.ReadTimeout):
        send(http, sandbox, access_token, timeout=(2, 0.2))

    assert len(sandbox.sent_messages) == 1  # it reached "Listrak"; only the answer was late
    assert sandbox.stats["faults_injected"] == 1
    assert send(http, sandbox, access_token).status_code == 201


def test_slow_fault_still_answers_a_patient_client(http, sandbox):
    sandbox.inject("send", "slow", delay=0.2)
    started = time.monotonic()

    answer = send(http, sandbox, sandbox.issue_token("Email"))

    assert answer.status_code == 201 and time.monotonic() - started >= 0.2


def test_drop_closes_without_answer_or_processing(http, sandbox):
    access_token = sandbox.issue_token("Email")
    sandbox.inject("send", "drop")

    with pytest.raises(requests.exceptions.ConnectionError):
        send(http, sandbox, access_token)

    assert sandbox.sent_messages == []
    assert sandbox.stats["sends"] == 0 and sandbox.stats["faults_injected"] == 1
    assert send(http, sandbox, access_token).status_code == 201  # the session reconnects


def test_drop_after_processes_then_closes_without_answer(http, sandbox):
    access_token = sandbox.issue_token("Email")
    sandbox.inject("send", "drop_after")

    with pytest.raises(requests.exceptions.ConnectionError):
        send(http, sandbox, access_token, "ann@example.com")

    assert [row["emailAddress"] for row in sandbox.sent_messages] == ["ann@example.com"]


def test_revoke_token_fault(http, sandbox):
    access_token = token(http, sandbox)
    sandbox.inject("send", "revoke_token")

    assert send(http, sandbox, access_token).json() == UNAUTHORIZED

    sandbox.inject("token", "revoke_token")  # revokes, then mints: the new token is good, the old one is not
    fresh = token(http, sandbox)
    assert send(http, sandbox, fresh).status_code == 201
    assert sandbox.stats["faults_injected"] == 2


def test_faults_on_the_token_route(http, sandbox):
    sandbox.inject("token", "503")

    assert_envelope(request_token(http, sandbox), 503, "ERROR_SERVICE_UNAVAILABLE")
    assert request_token(http, sandbox).status_code == 200
    assert sandbox.stats["tokens_minted"] == 1


def test_wildcard_faults_hit_any_route_in_injection_order(http, sandbox):
    access_token = sandbox.issue_token("Email")
    sandbox.inject("*", "500")
    sandbox.inject("send", "429")
    sandbox.inject("*", "503")

    assert request_token(http, sandbox).status_code == 500  # the oldest "*" fault
    assert send(http, sandbox, access_token).status_code == 429  # older than the remaining "*" fault
    assert activity(http, sandbox, access_token).status_code == 503
    assert send(http, sandbox, access_token).status_code == 201
    assert sandbox.stats["faults_injected"] == 3


def test_faults_are_not_consumed_by_other_routes(http, sandbox):
    access_token = sandbox.issue_token("Email")
    sandbox.inject("resend", "500")

    key = send_key(http, sandbox, access_token)
    assert activity(http, sandbox, access_token).status_code == 200
    assert resend(http, sandbox, access_token, key).status_code == 500
    assert resend(http, sandbox, access_token, key).status_code == 201


def test_inject_validates_its_arguments(sandbox):
    with pytest.raises(ValueError):
        sandbox.inject("nowhere", "500")
    with pytest.raises(ValueError):
        sandbox.inject("send", "teapot")
    with pytest.raises(ValueError):
        sandbox.inject("send", "500", times=0)


# -- control routes, lifecycle ---------------------------------------------------------------------


def test_control_routes_over_http(http, sandbox):
    access_token = token(http, sandbox)
    send(http, sandbox, access_token, "ann@example.com")

    stats = http.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["sends"] == 1 and stats["tokens_minted"] == 1 and stats["requests"] == 2
    sends = http.get(f"{sandbox.url}/_sandbox/sends", timeout=5).json()
    assert sends == sandbox.sent_messages

    fault = {"route": "send", "fault": "429", "times": 1, "delay": 0, "retryAfter": 3}
    assert http.post(f"{sandbox.url}/_sandbox/faults", json=fault, timeout=5).status_code == 200
    limited = send(http, sandbox, access_token)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    bad = http.post(f"{sandbox.url}/_sandbox/faults", json={"route": "send", "fault": "x"}, timeout=5)
    assert_envelope(bad, 400, "ERROR_INVALID_PARAMETER")

    assert http.post(f"{sandbox.url}/_sandbox/revoke", timeout=5).status_code == 200
    assert send(http, sandbox, access_token).status_code == 401

    assert http.post(f"{sandbox.url}/_sandbox/reset", timeout=5).status_code == 200
    stats = sandbox.stats
    assert stats["sends"] == 0 and stats["requests"] == 0 and stats["unauthorized"] == 0
    assert sandbox.sent_messages == []
    assert send(http, sandbox, token(http, sandbox)).status_code == 201  # clients and messages survive a reset


def test_stats_start_complete_and_are_copies(sandbox):
    stats = sandbox.stats
    for name in (
        "tokens_minted",
        "token_rejections",
        "sends",
        "resends",
        "activity_requests",
        "data_imports",
        "unauthorized",
        "requests",
        "faults_injected",
    ):
        assert stats[name] == 0
    assert stats["tokens_minted_by_integration"] == {"Email": 0, "Data": 0, "Privacy": 0, "SMS": 0}
    stats["tokens_minted_by_integration"]["Email"] = 99
    assert sandbox.stats["tokens_minted_by_integration"]["Email"] == 0


def test_concurrent_sends_are_all_recorded(sandbox):
    access_token = sandbox.issue_token("Email")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with requests.Session() as session:
                for i in range(5):
                    assert send(session, sandbox, access_token, f"u{n}-{i}@example.com").status_code == 201
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sandbox.stats["sends"] == 40
    assert len({row["resendKey"] for row in sandbox.sent_messages}) == 40


def test_stop_is_quick_with_an_open_keep_alive_connection(http, clock):
    sandbox = ListrakSandbox(clock=clock).start()
    assert http.get(f"{sandbox.url}/_sandbox/stats", timeout=5).status_code == 200

    started = time.monotonic()
    sandbox.stop()

    assert time.monotonic() - started < 1.0
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(f"{sandbox.url}/_sandbox/stats", timeout=2)


def test_command_line_serves_the_seeded_clients():
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack.sandbox", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Listrak sandbox serving on http://127.0.0.1:")
        url = first_line.rsplit(" ", 1)[1].strip()
        form = {
            "grant_type": "client_credentials",
            "client_id": "sandbox-email-client",
            "client_secret": "sandbox-email-secret",
        }
        assert requests.post(f"{url}/OAuth2/Token", data=form, timeout=5).status_code == 200
        assert requests.get(f"{url}/_sandbox/stats", timeout=5).json()["tokens_minted"] == 1
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
        process.stdout.close()
