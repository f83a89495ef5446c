"""What Listrak's contract forbids, the sandbox refuses: mis-cased paths, query names and enum values."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import assert_envelope
from tests.sandbox.test_listrak_sandbox import (
    LIST_ID,
    MESSAGE_ID,
    activity,
    bearer,
    import_data,
    make_sandbox,  # noqa: F401 - the fixture the shared `sandbox` fixture builds on
    resend,
    send,
    send_key,
)


@pytest.mark.parametrize(
    "path",
    [
        f"/email/v1/list/{LIST_ID}/TransactionalMessage/{MESSAGE_ID}/Message",
        f"/email/v1/List/{LIST_ID}/transactionalmessage/{MESSAGE_ID}/Message",
        f"/email/v1/List/{LIST_ID}/TransactionalMessage/{MESSAGE_ID}/message",
        f"/email/V1/List/{LIST_ID}/TransactionalMessage/{MESSAGE_ID}/Message",
    ],
)
def test_a_mis_cased_send_path_is_an_unknown_route_and_sends_nothing(http, sandbox, path):
    answer = http.post(
        sandbox.url + path,
        json={"emailAddress": "ann@example.com", "segmentationFieldValues": []},
        headers=bearer(sandbox.issue_token("Email")),
        timeout=5,
    )

    assert_envelope(answer, 404, "ERROR_UNKNOWN_ROUTE")
    assert sandbox.stats["sends"] == 0


@pytest.mark.parametrize("entity", ["customer", "ORDER", "Reviews", "ratingsummary"])
def test_a_mis_cased_data_route_is_an_unknown_route(http, sandbox, entity):
    answer = import_data(http, sandbox, sandbox.issue_token("Data"), entity)

    assert_envelope(answer, 404, "ERROR_UNKNOWN_ROUTE")
    assert sandbox.stats["data_imports"] == 0


@pytest.mark.parametrize("name", ["STARTDATE", "startdate", "EmailAddress", "Count", "page"])
def test_an_activity_query_name_must_be_spelt_as_the_spec_spells_it(http, sandbox, name):
    answer = activity(http, sandbox, sandbox.issue_token("Email"), **{name: "1"})

    assert name in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]


def test_a_resend_query_name_must_be_spelt_as_the_spec_spells_it(http, sandbox):
    access_token = sandbox.issue_token("Email")
    key = send_key(http, sandbox, access_token)

    wrong = resend(http, sandbox, access_token, key, forwardaddress="bo@example.com")
    right = resend(http, sandbox, access_token, key, forwardAddress="bo@example.com")

    assert_envelope(wrong, 400, "ERROR_INVALID_PARAMETER")
    assert right.status_code == 201
    assert [r["emailAddress"] for r in sandbox.resends] == ["bo@example.com"]


@pytest.mark.parametrize(("date_type", "status"), [("Send", 200), ("Activity", 200), ("send", 400), ("SEND", 400)])
def test_activity_date_type_values_are_exact(http, sandbox, date_type, status):
    assert activity(http, sandbox, sandbox.issue_token("Email"), dateType=date_type).status_code == status


def test_the_spec_spellings_are_accepted(http, sandbox):
    access_token = sandbox.issue_token("Email")
    assert send(http, sandbox, access_token).status_code == 201
    answer = activity(
        http,
        sandbox,
        access_token,
        dateType="Send",
        startDate="2026-11-22",
        endDate="2026-11-23",
        cursor="Start",
        count="10",
        emailAddress="ann@example.com",
        activityType="Open",
    )
    assert answer.status_code == 200, answer.text
