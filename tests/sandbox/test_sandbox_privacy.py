"""The sandbox's Privacy API, as Listrak's spec defines it: POST /privacy/v1/Forget and GET .../Forget/{requestId}."""

from __future__ import annotations

import pytest

from local_stack.sandbox import ListrakSandbox
from tests.sandbox.conftest import UNAUTHORIZED, assert_envelope

PRIVACY_CLIENT = ("privacy-client", "privacy-secret")
EMAIL_CLIENT = ("email-client", "email-secret")


def _seed(sandbox: ListrakSandbox) -> None:
    sandbox.add_client(*PRIVACY_CLIENT, "Privacy")
    sandbox.add_client(*EMAIL_CLIENT, "Email")


@pytest.fixture
def make_sandbox(start_sandbox):
    return lambda **options: start_sandbox(_seed, **options)


def bearer(http, sandbox, client=PRIVACY_CLIENT) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": client[0], "client_secret": client[1]}
    token = http.post(sandbox.auth_url, data=form, timeout=5).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def forget(http, sandbox, body, headers=None):
    return http.post(f"{sandbox.privacy_api_url}/v1/Forget", json=body, headers=headers, timeout=5)


def status(http, sandbox, request_id, headers):
    return http.get(f"{sandbox.privacy_api_url}/v1/Forget/{request_id}", headers=headers, timeout=5)


def test_a_forget_is_created_then_processing_then_complete_by_the_clock(http, make_sandbox, clock):
    sandbox = make_sandbox(forget_delay_seconds=300)
    auth = bearer(http, sandbox)

    created = forget(http, sandbox, {"emailAddress": "ann@example.com", "phoneNumber": "+1 215 555 0100"}, auth)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"status", "resourceId"} and body["status"] == 201
    request_id = body["resourceId"]

    first = status(http, sandbox, request_id, auth)
    assert first.status_code == 200
    assert first.json() == {
        "status": 200,
        "data": {
            "requestID": request_id,
            "status": "PROCESSING",
            "submittedDate": "2026-11-22T15:00:00",
            "processedDate": None,
        },
    }
    clock.advance(299)
    assert status(http, sandbox, request_id, auth).json()["data"]["status"] == "PROCESSING"
    sandbox.advance(1)  # the sandbox's own movable clock counts too
    done = status(http, sandbox, request_id, auth).json()["data"]
    assert done["status"] == "COMPLETE" and done["processedDate"] == "2026-11-22T15:05:00"
    assert sandbox.forget_requests == [
        {
            "requestID": request_id,
            "emailAddress": "ann@example.com",
            "phoneNumber": "+1 215 555 0100",
            "status": "COMPLETE",
        }
    ]
    assert sandbox.stats["forget_requests"] == 1 and sandbox.stats["forget_polls"] == 3


def test_either_identifier_alone_is_enough(http, sandbox):
    auth = bearer(http, sandbox)
    assert forget(http, sandbox, {"emailAddress": "ann@example.com"}, auth).status_code == 201
    assert forget(http, sandbox, {"phoneNumber": "2155550100"}, auth).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "emailAddress"),
        ({"emailAddress": "not-an-address"}, "emailAddress"),
        ({"emailAddress": 12}, "emailAddress"),
        ({"phoneNumber": "call me"}, "phoneNumber"),
        ({"phoneNumber": "123"}, "phoneNumber"),
    ],
)
def test_invalid_identifiers_are_refused_with_the_parameter_named(http, sandbox, body, field):
    answer = forget(http, sandbox, body, bearer(http, sandbox))
    envelope = assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")
    assert field in envelope["message"]
    assert sandbox.forget_requests == []


def test_malformed_bodies_and_media_types_are_refused(http, sandbox):
    auth = bearer(http, sandbox)
    assert_envelope(forget(http, sandbox, ["ann@example.com"], auth), 400, "ERROR_MALFORMED_REQUEST_BODY")
    assert_envelope(
        forget(http, sandbox, {"emailAddress": "ann@example.com", "email": "x"}, auth),
        400,
        "ERROR_MALFORMED_REQUEST_BODY",
    )
    answer = http.post(
        f"{sandbox.privacy_api_url}/v1/Forget",
        data="emailAddress=a@b.c",
        headers={**auth, "Content-Type": "text/plain"},
    )
    assert_envelope(answer, 415, "ERROR_UNSUPPORTED_CONTENT_TYPE")


def test_an_unknown_request_id_is_a_404(http, sandbox):
    answer = status(http, sandbox, "0b9e5a40-0000-4000-8000-000000000000", bearer(http, sandbox))
    assert_envelope(
        answer,
        404,
        "ERROR_UNABLE_TO_LOCATE_RESOURCE",
        "Unable to locate a resource associated with the requestId supplied.",
    )


def test_only_a_privacy_token_is_accepted(http, sandbox):
    email_token = bearer(http, sandbox, EMAIL_CLIENT)
    for answer in (
        forget(http, sandbox, {"emailAddress": "ann@example.com"}, email_token),
        forget(http, sandbox, {"emailAddress": "ann@example.com"}),
        status(http, sandbox, "x", email_token),
    ):
        assert answer.status_code == 401 and answer.json() == UNAUTHORIZED
    assert sandbox.forget_requests == []


def test_routes_and_methods_match_the_spec_exactly(http, sandbox):
    auth = bearer(http, sandbox)
    assert_envelope(http.post(f"{sandbox.url}/privacy/v1/forget", json={}, headers=auth), 404, "ERROR_UNKNOWN_ROUTE")
    answer = http.delete(f"{sandbox.privacy_api_url}/v1/Forget", headers=auth)
    assert_envelope(answer, 405, "ERROR_UNSUPPORTED_METHOD")
    assert answer.headers["Allow"] == "POST"


@pytest.mark.parametrize("fault", ["429", "500", "502", "503", "504"])
def test_faults_strike_the_polls(http, sandbox, fault):
    auth = bearer(http, sandbox)
    request_id = forget(http, sandbox, {"emailAddress": "ann@example.com"}, auth).json()["resourceId"]
    sandbox.inject("privacy", fault, retry_after=3 if fault == "429" else None)
    failed = status(http, sandbox, request_id, auth)
    assert failed.status_code == int(fault)
    if fault == "429":
        assert failed.headers["Retry-After"] == "3"
    assert status(http, sandbox, request_id, auth).json()["data"]["status"] == "PROCESSING"
    assert sandbox.stats["faults"] == {"privacy": {fault: 1}}


def test_reset_forgets_every_request(http, sandbox):
    auth = bearer(http, sandbox)
    request_id = forget(http, sandbox, {"emailAddress": "ann@example.com"}, auth).json()["resourceId"]
    sandbox.reset()
    assert sandbox.forget_requests == []
    assert status(http, sandbox, request_id, bearer(http, sandbox)).status_code == 404


def test_control_route_lists_the_forgets(http, sandbox):
    forget(http, sandbox, {"phoneNumber": "2155550100"}, bearer(http, sandbox))
    listed = http.get(f"{sandbox.url}/_sandbox/forgets", timeout=5).json()
    assert [f["phoneNumber"] for f in listed] == ["2155550100"]
