"""Faults that act and then fail, the counts of what Listrak holds, the Activity lag and the sandbox's clock."""

from __future__ import annotations

import contextlib

import pytest
import requests

from local_stack.sandbox import FAULT_KINDS
from local_stack.sandbox.wire import ACTIVITY_LAG_SECONDS
from tests.sandbox.conftest import assert_envelope
from tests.sandbox.test_listrak_sandbox import (
    LIST_ID,
    MESSAGE_ID,
    activity,
    import_data,
    make_sandbox,  # noqa: F401 - the fixture the shared `sandbox` fixture builds on
    resend,
    send,
    send_key,
)


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("500_after", 500, "ERROR_UNHANDLED_EXCEPTION"),
        ("502_after", 502, "ERROR_BAD_GATEWAY"),
        ("503_after", 503, "ERROR_SERVICE_UNAVAILABLE"),
        ("504_after", 504, "ERROR_GATEWAY_TIMEOUT"),
    ],
)
def test_status_after_records_the_send_then_fails(http, sandbox, fault, status, code):
    access_token = sandbox.issue_token("Email")
    sandbox.inject("send", fault)

    assert_envelope(send(http, sandbox, access_token, "ann@example.com"), status, code)

    assert sandbox.send_count(LIST_ID, MESSAGE_ID, "ANN@example.com") == 1
    assert sandbox.stats["sends"] == 1 and sandbox.stats["faults"] == {"send": {fault: 1}}


@pytest.mark.parametrize(("fault", "status"), [("502", 502), ("504", 504)])
def test_gateway_faults_before_acting_record_nothing(http, sandbox, fault, status):
    sandbox.inject("send", fault)

    assert send(http, sandbox, sandbox.issue_token("Email")).status_code == status

    assert sandbox.send_count(LIST_ID, MESSAGE_ID, "ann@example.com") == 0
    assert sandbox.counts["faults"] == {"send": {fault: 1}}


def test_slow_after_records_then_answers_past_the_read_timeout(http, sandbox):
    access_token = sandbox.issue_token("Email")
    sandbox.slow_after_seconds = 0.5
    sandbox.inject("send", "slow_after")

    with pytest.raises(requests.exceptions.ReadTimeout):
        send(http, sandbox, access_token, timeout=(2, 0.1))

    assert sandbox.send_count(LIST_ID, MESSAGE_ID, "ann@example.com") == 1


def test_resend_after_faults_count_every_resend_listrak_holds(http, sandbox, clock):
    access_token = sandbox.issue_token("Email", ttl_seconds=86400)
    key = send_key(http, sandbox, access_token)
    sandbox.inject("resend", "500_after")
    sandbox.inject("resend", "drop_after")

    assert resend(http, sandbox, access_token, key).status_code == 500
    with pytest.raises(requests.exceptions.ConnectionError):
        resend(http, sandbox, access_token, key)
    assert resend(http, sandbox, access_token, key).status_code == 201

    rows = sandbox.counts["resends"]
    assert rows == [
        {"listId": LIST_ID, "transactionalMessageId": MESSAGE_ID, "emailAddress": "ann@example.com", "count": 3}
    ]
    assert sandbox.stats["faults_injected"] == 2


def test_data_import_after_fault_keeps_the_records(http, sandbox):
    sandbox.inject("data", "502_after")

    answer = import_data(http, sandbox, sandbox.issue_token("Data"), "Customer", [{"email": "a@example.com"}])

    assert answer.status_code == 502
    assert sandbox.counts["dataImports"]["Customer"] == {"requests": 1, "records": 1}


def test_activity_shows_a_send_only_after_the_lag_on_the_sandbox_clock(http, sandbox):
    access_token = sandbox.issue_token("Email", ttl_seconds=86400)
    assert sandbox.activity_delay_seconds == ACTIVITY_LAG_SECONDS > 0
    send(http, sandbox, access_token)

    assert activity(http, sandbox, access_token).json()["data"] == []
    sandbox.advance(ACTIVITY_LAG_SECONDS - 1)
    assert activity(http, sandbox, access_token).json()["data"] == []
    sandbox.advance(1)
    assert [row["emailAddress"] for row in activity(http, sandbox, access_token).json()["data"]] == ["ann@example.com"]


def test_advance_moves_token_expiry_and_reset_undoes_it(http, sandbox):
    access_token = sandbox.issue_token("Email", ttl_seconds=100)
    sandbox.advance(100)

    assert send(http, sandbox, access_token).status_code == 401
    with pytest.raises(ValueError):
        sandbox.advance(-1)
    sandbox.reset()
    assert send(http, sandbox, sandbox.issue_token("Email", ttl_seconds=100)).status_code == 201


def test_counts_and_advance_through_the_control_routes(http, sandbox):
    access_token = sandbox.issue_token("Email", ttl_seconds=86400)
    answer = http.post(
        f"{sandbox.url}/_sandbox/faults", json={"route": "send", "fault": "504_after", "times": 2}, timeout=5
    )
    assert answer.status_code == 200
    for _ in range(3):
        send(http, sandbox, access_token, "bo@example.com")

    counts = http.get(f"{sandbox.url}/_sandbox/counts", timeout=5).json()
    assert counts["sends"] == [
        {"listId": LIST_ID, "transactionalMessageId": MESSAGE_ID, "emailAddress": "bo@example.com", "count": 3}
    ]
    assert counts["faults"] == {"send": {"504_after": 2}}
    assert http.post(f"{sandbox.url}/_sandbox/advance", json={"seconds": ACTIVITY_LAG_SECONDS}, timeout=5).ok
    assert len(activity(http, sandbox, access_token).json()["data"]) == 3
    bad = http.post(f"{sandbox.url}/_sandbox/advance", json={"seconds": "soon"}, timeout=5)
    assert bad.status_code == 400


def test_every_fault_kind_is_accepted_and_counted(http, sandbox):
    sandbox.slow_after_seconds = 0.0
    for kind in FAULT_KINDS:
        sandbox.inject("token", kind)
    for _ in FAULT_KINDS:
        with contextlib.suppress(requests.exceptions.ConnectionError):  # "drop" and "drop_after" answer nothing
            http.post(sandbox.auth_url, data={"grant_type": "client_credentials"}, timeout=5)

    assert sandbox.counts["faults"] == {"token": dict.fromkeys(FAULT_KINDS, 1)}
    assert sandbox.stats["faults_injected"] == len(FAULT_KINDS)
