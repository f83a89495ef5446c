"""The Listrak sandbox's lists, profile fields, contacts and list imports, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from local_stack.sandbox import ListrakSandbox
from tests.sandbox.conftest import UNAUTHORIZED, assert_envelope

LIST_ID = 3001
OTHER_LIST_ID = 3002
FIRST_NAME, TIER, NOTES = 101, 102, 201
ZERO_SUMMARY = {
    "alreadySubscribedCount": 0,
    "alreadyUnsubscribedCount": 0,
    "bannedCount": 0,
    "invalidEmailCount": 0,
    "previouslyUnsubscribedCount": 0,
    "processedCount": 0,
    "skippedCount": 0,
    "subscribedCount": 0,
    "suppressedCount": 0,
    "unsubscribedCount": 0,
}


def _seed(sandbox: ListrakSandbox) -> None:
    sandbox.add_list(LIST_ID, "Customers")
    sandbox.add_list(OTHER_LIST_ID, "Transactional")
    sandbox.add_profile_field(LIST_ID, 10, "Account", FIRST_NAME, "FirstName", max_length=10)
    sandbox.add_profile_field(LIST_ID, 10, "Account", TIER, "Tier", max_length=5)
    sandbox.add_profile_field(LIST_ID, 20, "Preferences", NOTES, "Notes", "CommentArea", 20)


@pytest.fixture
def make_sandbox(start_sandbox):
    return lambda **options: start_sandbox(_seed, **options)


@pytest.fixture
def token(sandbox) -> str:
    return sandbox.issue_token("Email")


# -- helpers ---------------------------------------------------------------------------------------


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def url(sandbox, tail: str = "") -> str:
    return f"{sandbox.email_api_url}/v1/List{tail}"


def get(http, sandbox, token, tail):
    return http.get(url(sandbox, tail), headers=bearer(token), timeout=5)


def upsert(http, sandbox, token, email="ann@example.com", fields=(), list_id=LIST_ID, body=None, **params):
    if body is None:
        body = {"emailAddress": email, "segmentationFieldValues": [dict(f) for f in fields]}
    return http.post(url(sandbox, f"/{list_id}/Contact"), json=body, params=params, headers=bearer(token), timeout=5)


def value(field_id: int, text: str) -> dict:
    return {"segmentationFieldId": field_id, "value": text}


def import_body(csv_text: str, mappings=None, **overrides) -> dict:
    body = {
        "fileDelimiter": ",",
        "fileMappings": mappings
        if mappings is not None
        else [
            {"fileColumn": 0, "fileColumnType": "Email"},
            {"fileColumn": 1, "fileColumnType": "SegmentationField", "segmentationFieldId": FIRST_NAME},
        ],
        "fileName": "contacts.csv",
        "fileStream": base64.b64encode(csv_text.encode("utf-8")).decode("ascii"),
        "hasColumnNames": True,
        "importType": "AddSubscribersAndSegmentationData",
        "segmentationImportType": "Update",
        "suppressEmailNotifications": True,
        "textQualifier": '"',
        "triggerJourney": False,
        "includeUnsubscribed": False,
    }
    body.update(overrides)
    return body


def start_import(http, sandbox, token, body, list_id=LIST_ID):
    return http.post(url(sandbox, f"/{list_id}/ListImport"), json=body, headers=bearer(token), timeout=5)


def status(http, sandbox, token, import_id, list_id=LIST_ID):
    return get(http, sandbox, token, f"/{list_id}/ListImport/{import_id}/Status")


def summary(http, sandbox, token, import_id, list_id=LIST_ID) -> dict:
    answer = get(http, sandbox, token, f"/{list_id}/ListImport/{import_id}/Summary")
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def run_import(http, sandbox, token, body) -> dict:
    """Start an import, poll it to completion, return its summary."""
    answer = start_import(http, sandbox, token, body)
    assert answer.status_code == 201, answer.text
    import_id = answer.json()["resourceId"]
    for _ in range(sandbox.list_import_polls_until_done + 1):
        state = status(http, sandbox, token, import_id).json()["data"]["status"]
    assert state == "Completed"
    return summary(http, sandbox, token, import_id)


def counts(**nonzero) -> dict:
    return {**ZERO_SUMMARY, **nonzero}


def contact(sandbox, email, list_id=LIST_ID) -> dict | None:
    return sandbox.contacts[list_id].get(email)


# -- lists and profile fields ----------------------------------------------------------------------


# Besides listName, the List schema requires these.
LIST_REQUIRED = {"bounceHandling": "Standard", "bounceUnsubscribeCount": 3, "createDate": "2020-01-01T00:00:00Z"}


def test_lists_groups_and_fields_are_listed(http, sandbox, token):
    lists = get(http, sandbox, token, "")
    assert lists.status_code == 200
    assert lists.json() == {
        "status": 200,
        "data": [
            {"listId": LIST_ID, "listName": "Customers", **LIST_REQUIRED},
            {"listId": OTHER_LIST_ID, "listName": "Transactional", **LIST_REQUIRED},
        ],
    }

    groups = get(http, sandbox, token, f"/{LIST_ID}/SegmentationFieldGroup")
    assert groups.json() == {
        "status": 200,
        "data": [
            {"segmentationFieldGroupId": 10, "segmentationFieldGroupName": "Account", "position": 1},
            {"segmentationFieldGroupId": 20, "segmentationFieldGroupName": "Preferences", "position": 2},
        ],
    }
    fields = get(http, sandbox, token, f"/{LIST_ID}/SegmentationFieldGroup/10/SegmentationField")
    assert fields.json() == {
        "status": 200,
        "data": [
            {
                "segmentationFieldId": FIRST_NAME,
                "segmentationFieldName": "FirstName",
                "segmentationFieldGroupId": 10,
                "dataType": "Text",
                "maxLength": 10,
                "position": 1,
            },
            {
                "segmentationFieldId": TIER,
                "segmentationFieldName": "Tier",
                "segmentationFieldGroupId": 10,
                "dataType": "Text",
                "maxLength": 5,
                "position": 2,
            },
        ],
    }
    mis_cased = get(http, sandbox, token, f"/{LIST_ID}/segmentationfieldgroup/20/segmentationfield/")
    assert_envelope(mis_cased, 404, "ERROR_UNKNOWN_ROUTE")  # paths match exactly, case included
    notes = get(http, sandbox, token, f"/{LIST_ID}/SegmentationFieldGroup/20/SegmentationField/").json()["data"]
    assert [(f["segmentationFieldId"], f["dataType"], f["maxLength"]) for f in notes] == [(NOTES, "CommentArea", 20)]
    assert get(http, sandbox, token, f"/{OTHER_LIST_ID}/SegmentationFieldGroup").json() == {"status": 200, "data": []}


@pytest.mark.parametrize(
    "tail",
    [
        "/9999/SegmentationFieldGroup",
        "/abc/SegmentationFieldGroup",
        "/9999/SegmentationFieldGroup/10/SegmentationField",
        f"/{LIST_ID}/SegmentationFieldGroup/99/SegmentationField",
        f"/{LIST_ID}/SegmentationFieldGroup/x/SegmentationField",
        f"/{OTHER_LIST_ID}/SegmentationFieldGroup/10/SegmentationField",
        f"/{LIST_ID}/ListImport/1/Status",
        f"/{LIST_ID}/ListImport/1/Summary",
        f"/{LIST_ID}/ListImport/abc/Status",
    ],
)
def test_unknown_resources_are_404(http, sandbox, token, tail):
    assert_envelope(get(http, sandbox, token, tail), 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")


def test_an_import_is_only_found_under_its_own_list(http, sandbox, token):
    import_id = start_import(http, sandbox, token, import_body("email,name\nann@example.com,Ann\n")).json()[
        "resourceId"
    ]

    assert status(http, sandbox, token, import_id).status_code == 200
    assert_envelope(status(http, sandbox, token, import_id, OTHER_LIST_ID), 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")
    assert_envelope(
        get(http, sandbox, token, f"/9999/ListImport/{import_id}/Summary"), 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE"
    )


def test_posts_to_an_unknown_list_are_404(http, sandbox, token):
    assert_envelope(upsert(http, sandbox, token, list_id=9999), 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")
    answer = start_import(http, sandbox, token, import_body("a@example.com,A\n", hasColumnNames=False), 9999)
    assert_envelope(answer, 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")
    assert sandbox.stats["contact_upserts"] == 0 and sandbox.stats["list_imports"] == 0


def test_python_api_validates_its_arguments(sandbox):
    with pytest.raises(ValueError):
        sandbox.add_profile_field(9999, 1, "G", 1, "F")  # add_list first
    with pytest.raises(ValueError):
        sandbox.add_profile_field(LIST_ID, 10, "Account", 999, "F", data_type="Blob")
    with pytest.raises(ValueError):
        sandbox.add_profile_field(LIST_ID, 10, "Account", 999, "F", max_length=0)
    with pytest.raises(ValueError):
        sandbox.add_profile_field(LIST_ID, 20, "Preferences", FIRST_NAME, "Moved")  # belongs to group 10
    with pytest.raises(ValueError):
        sandbox.set_contact(LIST_ID, "ann@example.com", "Bogus")
    with pytest.raises(ValueError):
        sandbox.set_contact(LIST_ID, "ann@example.com", fields={999: "x"})
    with pytest.raises(ValueError):
        sandbox.set_contact(9999, "ann@example.com")
    with pytest.raises(ValueError):
        sandbox.inject("lists", "500")  # lists and profile fields only take "*" faults


# -- contacts --------------------------------------------------------------------------------------


def test_contact_upsert_creates_then_merges(http, sandbox, token):
    created = upsert(http, sandbox, token, "Ann@Example.com", [value(FIRST_NAME, "Ann"), value(TIER, "gold")])

    assert created.status_code == 201
    assert created.json() == {"status": 201, "resourceId": "Ann@Example.com"}
    assert sandbox.contacts[LIST_ID] == {
        "ann@example.com": {
            "emailAddress": "Ann@Example.com",
            "subscriptionState": "Subscribed",
            "fields": {FIRST_NAME: "Ann", TIER: "gold"},
        }
    }

    updated = upsert(http, sandbox, token, "ann@example.com", [value(TIER, "plat"), value(NOTES, "likes tea")])

    assert updated.status_code == 201 and updated.json()["resourceId"] == "ann@example.com"
    assert contact(sandbox, "ann@example.com")["fields"] == {FIRST_NAME: "Ann", TIER: "plat", NOTES: "likes tea"}
    assert sandbox.contacts[OTHER_LIST_ID] == {}
    assert sandbox.stats["contact_upserts"] == 2


def test_contact_segmentation_field_values_are_required_null_included(http, sandbox, token):
    null = upsert(http, sandbox, token, body={"emailAddress": "ann@example.com", "segmentationFieldValues": None})
    missing = upsert(http, sandbox, token, body={"emailAddress": "bob@example.com"})

    for answer in (null, missing):
        assert "segmentationFieldValues" in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]
    assert sandbox.stats["contact_upserts"] == 0


@pytest.mark.parametrize(
    ("body", "params", "error", "names"),
    [
        ({"emailAddress": "not-an-address", "segmentationFieldValues": []}, {}, "ERROR_INVALID_PARAMETER", "email"),
        ({"segmentationFieldValues": []}, {}, "ERROR_INVALID_PARAMETER", "emailAddress"),
        (
            {"emailAddress": "ann@example.com", "segmentationFieldValues": [value(999, "x")]},
            {},
            "ERROR_INVALID_PARAMETER",
            "999",
        ),
        (
            {"emailAddress": "ann@example.com", "segmentationFieldValues": [value(TIER, "toolong")]},
            {},
            "ERROR_INVALID_PARAMETER",
            "Tier",
        ),
        (
            {"emailAddress": "ann@example.com", "segmentationFieldValues": [value(TIER, "a"), value(TIER, "b")]},
            {},
            "ERROR_SEGMENTATION_FIELD_DEFINED_TWICE",
            "more than once",
        ),
        (
            {"emailAddress": "ann@example.com", "subscriptionState": "Pending", "segmentationFieldValues": []},
            {},
            "ERROR_INVALID_PARAMETER",
            "subscriptionState",
        ),
        (
            {"emailAddress": "ann@example.com", "segmentationFieldValues": []},
            {"overrideUnsubscribe": "maybe"},
            "ERROR_INVALID_PARAMETER",
            "overrideUnsubscribe",
        ),
        (
            {"emailAddress": "ann@example.com", "segmentationFieldValues": [], "nickname": "x"},
            {},
            "ERROR_MALFORMED_REQUEST_BODY",
            "nickname",
        ),
    ],
)
def test_contact_rejections_change_nothing(http, sandbox, token, body, params, error, names):
    sandbox.set_contact(LIST_ID, "ann@example.com", fields={TIER: "gold"})
    before = sandbox.contacts

    answer = upsert(http, sandbox, token, body=body, **params)

    assert names in assert_envelope(answer, 400, error)["message"]
    assert sandbox.contacts == before
    assert sandbox.stats["contact_upserts"] == 0


def test_contact_wrong_content_type_is_415(http, sandbox, token):
    headers = {**bearer(token), "Content-Type": "text/plain"}
    body = '{"emailAddress": "ann@example.com", "segmentationFieldValues": []}'

    answer = http.post(url(sandbox, f"/{LIST_ID}/Contact"), data=body, headers=headers, timeout=5)

    assert_envelope(answer, 415, "ERROR_UNSUPPORTED_CONTENT_TYPE")
    assert sandbox.contacts[LIST_ID] == {}


@pytest.mark.parametrize("state", [None, "Subscribed"])
def test_an_unsubscribed_contact_is_not_resubscribed_without_override(http, sandbox, token, state):
    sandbox.set_contact(LIST_ID, "ann@example.com", "Unsubscribed", {FIRST_NAME: "Ann"})
    body = {"emailAddress": "ann@example.com", "segmentationFieldValues": [value(FIRST_NAME, "Annie")]}
    if state is not None:
        body["subscriptionState"] = state

    refused = upsert(http, sandbox, token, body=body)
    refused_explicitly = upsert(http, sandbox, token, body=body, overrideUnsubscribe="false")

    for answer in (refused, refused_explicitly):
        assert_envelope(
            answer,
            400,
            "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS",
            "The emailAddress has already been unsubscribed from the list.",
        )
    assert contact(sandbox, "ann@example.com") == {
        "emailAddress": "ann@example.com",
        "subscriptionState": "Unsubscribed",
        "fields": {FIRST_NAME: "Ann"},
    }
    assert sandbox.stats["contact_upserts"] == 0

    overridden = upsert(http, sandbox, token, body=body, overrideUnsubscribe="True")

    assert overridden.status_code == 201
    assert contact(sandbox, "ann@example.com")["subscriptionState"] == "Subscribed"
    assert contact(sandbox, "ann@example.com")["fields"] == {FIRST_NAME: "Annie"}


def test_an_unsubscribed_contact_can_be_updated_while_staying_unsubscribed(http, sandbox, token):
    sandbox.set_contact(LIST_ID, "ann@example.com", "Unsubscribed")
    body = {
        "emailAddress": "ann@example.com",
        "subscriptionState": "Unsubscribed",
        "segmentationFieldValues": [value(TIER, "gold")],
    }

    assert upsert(http, sandbox, token, body=body).status_code == 201
    assert contact(sandbox, "ann@example.com")["subscriptionState"] == "Unsubscribed"
    assert contact(sandbox, "ann@example.com")["fields"] == {TIER: "gold"}


@pytest.mark.parametrize("state", ["subscribed", "SUBSCRIBED", "unsubscribed"])
def test_a_mis_cased_subscription_state_is_refused(http, sandbox, token, state):
    body = {"emailAddress": "ann@example.com", "subscriptionState": state, "segmentationFieldValues": []}

    answer = upsert(http, sandbox, token, body=body)

    assert "subscriptionState" in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]


@pytest.mark.parametrize(
    ("existing", "body", "params", "error"),
    [
        (None, {"subscriptionState": "Unsubscribed"}, {}, "ERROR_NOT_SUBSCRIBED_EMAIL_ADDRESS"),
        ("Unsubscribed", {"subscriptionState": "Unsubscribed"}, {}, "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS"),
        (
            "Subscribed",
            {"subscriptionState": "Unsubscribed", "segmentationFieldValues": [value(TIER, "gold")]},
            {},
            "ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA",
        ),
        ("Subscribed", {"subscriptionState": "Unsubscribed"}, {"eventIds": "7"}, "ERROR_UNSUBSCRIBE_WITH_EVENTS"),
        (
            "Unsubscribed",
            {"subscriptionState": "Unsubscribed", "segmentationFieldValues": [value(TIER, "gold")]},
            {"eventIds": "7"},
            "ERROR_UPDATE_UNSUBSCRIBE_WITH_EVENTS",
        ),
        ("Banned", {}, {}, "ERROR_BANNED_EMAIL_ADDRESS"),
        ("Suppressed", {}, {}, "ERROR_SUPPRESSED_EMAIL"),
        ("Pending", {}, {}, "ERROR_PENDING_EMAIL_ADDRESS"),
        ("Banned", {}, {"overrideUnsubscribe": "true"}, "ERROR_BANNED_EMAIL_ADDRESS"),
        (None, {"subscriptionState": "Unsubscribed"}, {}, "ERROR_NOT_SUBSCRIBED_EMAIL_ADDRESS"),
    ],
)
def test_listrak_contact_rules(http, sandbox, token, existing, body, params, error):
    if existing is not None:
        sandbox.set_contact(LIST_ID, "ann@example.com", existing)
    before = sandbox.contacts[LIST_ID]

    answer = upsert(
        http, sandbox, token, body={"emailAddress": "ann@example.com", "segmentationFieldValues": [], **body}, **params
    )

    assert_envelope(answer, 400, error)
    assert sandbox.contacts[LIST_ID] == before and sandbox.stats["contact_upserts"] == 0


def test_banned_suppressed_and_pending_addresses_are_not_imported(http, sandbox, token):
    for email, state in (
        ("ban@example.com", "Banned"),
        ("sup@example.com", "Suppressed"),
        ("pen@example.com", "Pending"),
    ):
        sandbox.set_contact(LIST_ID, email, state)
    csv_text = "email,name\nban@example.com,B\nsup@example.com,S\npen@example.com,P\nnew@example.com,N\n"

    summary = run_import(http, sandbox, token, import_body(csv_text))

    assert summary == counts(processedCount=4, bannedCount=1, suppressedCount=1, skippedCount=1, subscribedCount=1)
    assert {email: c["subscriptionState"] for email, c in sandbox.contacts[LIST_ID].items()} == {
        "ban@example.com": "Banned",
        "sup@example.com": "Suppressed",
        "pen@example.com": "Pending",
        "new@example.com": "Subscribed",
    }


def test_a_failing_list_import_ends_failed_and_applies_nothing(http, sandbox, token):
    sandbox.list_import_failures = 1
    answer = start_import(http, sandbox, token, import_body("email,name\nnew@example.com,N\n"))
    import_id = answer.json()["resourceId"]
    statuses = [status(http, sandbox, token, import_id).json()["data"]["status"] for _ in range(4)]

    assert statuses == ["InProgress", "InProgress", "Failed", "Failed"]
    assert sandbox.contacts[LIST_ID] == {}
    assert sandbox.list_import_failures == 0


def test_a_contact_can_unsubscribe_and_a_new_one_cannot_start_unsubscribed(http, sandbox, token):
    sandbox.set_contact(LIST_ID, "ann@example.com")
    unsubscribe = {
        "emailAddress": "ann@example.com",
        "subscriptionState": "Unsubscribed",
        "segmentationFieldValues": [],
    }
    new = {"emailAddress": "bob@example.com", "subscriptionState": "Unsubscribed", "segmentationFieldValues": []}

    assert upsert(http, sandbox, token, body=unsubscribe).status_code == 201
    assert_envelope(upsert(http, sandbox, token, body=new), 400, "ERROR_NOT_SUBSCRIBED_EMAIL_ADDRESS")

    assert {email: c["subscriptionState"] for email, c in sandbox.contacts[LIST_ID].items()} == {
        "ann@example.com": "Unsubscribed",
    }


def test_contact_route_allows_only_post(http, sandbox, token):
    answer = get(http, sandbox, token, f"/{LIST_ID}/Contact")

    assert_envelope(answer, 405, "ERROR_UNSUPPORTED_METHOD")
    assert answer.headers["Allow"] == "POST"


# -- list imports ----------------------------------------------------------------------------------


def test_list_import_is_applied_when_status_completes(http, sandbox, token, clock):
    csv_text = 'email,name,notes\nann@example.com,Ann,"tea, no milk"\r\nbob@example.com,Bob,\n'
    mappings = [
        {"fileColumn": 0, "fileColumnType": "Email"},
        {"fileColumn": 1, "fileColumnType": "SegmentationField", "segmentationFieldId": FIRST_NAME},
        {"fileColumn": 2, "fileColumnType": "SegmentationField", "segmentationFieldId": NOTES},
    ]

    answer = start_import(http, sandbox, token, import_body(csv_text, mappings))

    assert answer.status_code == 201 and answer.json() == {"status": 201, "resourceId": "1"}
    assert sandbox.stats["list_imports"] == 1
    reads = []
    for _ in range(3):
        clock.now += 60
        reads.append(status(http, sandbox, token, "1").json())
        if reads[-1]["data"]["status"] == "InProgress":
            assert sandbox.contacts[LIST_ID] == {}
            assert summary(http, sandbox, token, "1") == ZERO_SUMMARY
    assert [read["data"]["status"] for read in reads] == ["InProgress", "InProgress", "Completed"]
    assert reads[0] == {
        "status": 200,
        "data": {"startDate": "2026-11-22T15:00:00Z", "endDate": None, "status": "InProgress"},
    }
    assert reads[2]["data"] == {
        "startDate": "2026-11-22T15:00:00Z",
        "endDate": "2026-11-22T15:03:00Z",
        "status": "Completed",
    }

    assert sandbox.contacts[LIST_ID] == {
        "ann@example.com": {
            "emailAddress": "ann@example.com",
            "subscriptionState": "Subscribed",
            "fields": {FIRST_NAME: "Ann", NOTES: "tea, no milk"},
        },
        "bob@example.com": {
            "emailAddress": "bob@example.com",
            "subscriptionState": "Subscribed",
            "fields": {FIRST_NAME: "Bob", NOTES: ""},
        },
    }
    assert summary(http, sandbox, token, "1") == counts(processedCount=2, subscribedCount=2)

    # Later reads stay Completed and apply nothing again.
    sandbox.set_contact(LIST_ID, "ann@example.com", "Unsubscribed")
    assert status(http, sandbox, token, "1").json()["data"]["status"] == "Completed"
    assert contact(sandbox, "ann@example.com")["fields"] == {}
    assert sandbox.stats["list_import_status_polls"] == 4
    assert start_import(http, sandbox, token, import_body(csv_text, mappings)).json()["resourceId"] == "2"


@pytest.mark.parametrize("polls", [0, 1, 4])
def test_status_answers_in_progress_for_the_configured_number_of_polls(http, sandbox, token, polls):
    sandbox.list_import_polls_until_done = polls
    import_id = start_import(http, sandbox, token, import_body("email,name\nann@example.com,Ann\n")).json()[
        "resourceId"
    ]

    states = [status(http, sandbox, token, import_id).json()["data"]["status"] for _ in range(polls + 2)]

    assert states == ["InProgress"] * polls + ["Completed", "Completed"]
    assert sandbox.stats["list_import_status_polls"] == polls + 2


def test_add_subscribers_never_resubscribes_and_ignores_fields(http, sandbox, token):
    sandbox.set_contact(LIST_ID, "sub@example.com", "Subscribed", {FIRST_NAME: "Old"})
    sandbox.set_contact(LIST_ID, "unsub@example.com", "Unsubscribed", {FIRST_NAME: "Old"})
    csv_text = "email,name\nsub@example.com,New\nUNSUB@example.com,New\nnew@example.com,New\nnot-an-email,New\n"

    result = run_import(http, sandbox, token, import_body(csv_text, importType="AddSubscribers"))

    assert result == counts(
        processedCount=4,
        alreadySubscribedCount=1,
        previouslyUnsubscribedCount=1,
        subscribedCount=1,
        invalidEmailCount=1,
    )
    assert sandbox.contacts[LIST_ID] == {
        "sub@example.com": {
            "emailAddress": "sub@example.com",
            "subscriptionState": "Subscribed",
            "fields": {FIRST_NAME: "Old"},
        },
        "unsub@example.com": {
            "emailAddress": "unsub@example.com",
            "subscriptionState": "Unsubscribed",
            "fields": {FIRST_NAME: "Old"},
        },
        "new@example.com": {"emailAddress": "new@example.com", "subscriptionState": "Subscribed", "fields": {}},
    }


def test_add_subscribers_and_segmentation_data_updates_the_unsubscribed_without_resubscribing(http, sandbox, token):
    sandbox.set_contact(LIST_ID, "sub@example.com", "Subscribed", {FIRST_NAME: "Old", TIER: "gold"})
    sandbox.set_contact(LIST_ID, "unsub@example.com", "Unsubscribed", {FIRST_NAME: "Old"})
    csv_text = "email,name\nsub@example.com,New\nunsub@example.com,New\n"

    result = run_import(http, sandbox, token, import_body(csv_text, includeUnsubscribed=False))

    assert result == counts(processedCount=2, alreadySubscribedCount=1, previouslyUnsubscribedCount=1)
    assert contact(sandbox, "sub@example.com")["fields"] == {FIRST_NAME: "New", TIER: "gold"}
    assert contact(sandbox, "unsub@example.com") == {
        "emailAddress": "unsub@example.com",
        "subscriptionState": "Unsubscribed",
        "fields": {FIRST_NAME: "New"},
    }


@pytest.mark.parametrize(
    ("segmentation_import_type", "expected"),
    [("Update", "Bo"), ("Overwrite", "Bo"), ("Append", "AnnBo")],
)
def test_segmentation_import_type_update_overwrite_append(http, sandbox, token, segmentation_import_type, expected):
    sandbox.set_contact(LIST_ID, "ann@example.com", fields={FIRST_NAME: "Ann", TIER: "gold"})
    csv_text = "email,name\nann@example.com,Bo\nnew@example.com,Bo\n"

    result = run_import(http, sandbox, token, import_body(csv_text, segmentationImportType=segmentation_import_type))

    assert result == counts(processedCount=2, alreadySubscribedCount=1, subscribedCount=1)
    assert contact(sandbox, "ann@example.com")["fields"] == {FIRST_NAME: expected, TIER: "gold"}
    assert contact(sandbox, "new@example.com")["fields"] == {FIRST_NAME: "Bo"}


@pytest.mark.parametrize("include_unsubscribed", [False, True])
def test_update_subscribers(http, sandbox, token, include_unsubscribed):
    sandbox.set_contact(LIST_ID, "sub@example.com", "Subscribed", {FIRST_NAME: "Old"})
    sandbox.set_contact(LIST_ID, "unsub@example.com", "Unsubscribed", {FIRST_NAME: "Old"})
    csv_text = "email,name\nsub@example.com,New\nunsub@example.com,New\nnobody@example.com,New\n"
    body = import_body(csv_text, importType="UpdateSubscribers", includeUnsubscribed=include_unsubscribed)

    result = run_import(http, sandbox, token, body)

    assert result == counts(processedCount=3, alreadySubscribedCount=1, previouslyUnsubscribedCount=1, skippedCount=1)
    assert contact(sandbox, "sub@example.com")["fields"] == {FIRST_NAME: "New"}
    assert contact(sandbox, "unsub@example.com") == {
        "emailAddress": "unsub@example.com",
        "subscriptionState": "Unsubscribed",
        "fields": {FIRST_NAME: "New" if include_unsubscribed else "Old"},
    }
    assert contact(sandbox, "nobody@example.com") is None


def test_remove_subscribers(http, sandbox, token):
    sandbox.set_contact(LIST_ID, "sub@example.com", "Subscribed", {FIRST_NAME: "Old"})
    sandbox.set_contact(LIST_ID, "unsub@example.com", "Unsubscribed")
    csv_text = "sub@example.com\nunsub@example.com\nnobody@example.com\nbad-address\n"
    body = import_body(
        csv_text, [{"fileColumn": 0, "fileColumnType": "Email"}], importType="RemoveSubscribers", hasColumnNames=False
    )

    result = run_import(http, sandbox, token, body)

    assert result == counts(
        processedCount=4, unsubscribedCount=1, alreadyUnsubscribedCount=1, skippedCount=1, invalidEmailCount=1
    )
    assert contact(sandbox, "sub@example.com") == {
        "emailAddress": "sub@example.com",
        "subscriptionState": "Unsubscribed",
        "fields": {FIRST_NAME: "Old"},
    }
    assert contact(sandbox, "nobody@example.com") is None


def test_over_long_values_and_invalid_emails_are_counted_and_not_applied(http, sandbox, token):
    sandbox.set_contact(LIST_ID, "old@example.com", fields={FIRST_NAME: "Ann", TIER: "gold"})
    mappings = [
        {"fileColumn": 0, "fileColumnType": "Email"},
        {"fileColumn": 1, "fileColumnType": "SegmentationField", "segmentationFieldId": TIER},
    ]
    csv_text = "email,tier\nold@example.com,platinum\nnew@example.com,toolong\nok@example.com,plat\nnope,x\n"

    result = run_import(http, sandbox, token, import_body(csv_text, mappings))

    assert result == counts(processedCount=4, skippedCount=2, subscribedCount=1, invalidEmailCount=1)
    assert contact(sandbox, "old@example.com")["fields"] == {FIRST_NAME: "Ann", TIER: "gold"}
    assert contact(sandbox, "new@example.com") is None
    assert contact(sandbox, "ok@example.com")["fields"] == {TIER: "plat"}
    assert contact(sandbox, "nope") is None


def test_an_append_that_would_grow_past_max_length_is_skipped(http, sandbox, token):
    sandbox.set_contact(LIST_ID, "ann@example.com", fields={TIER: "gold"})
    mappings = [
        {"fileColumn": 0, "fileColumnType": "Email"},
        {"fileColumn": 1, "fileColumnType": "SegmentationField", "segmentationFieldId": TIER},
    ]

    result = run_import(
        http, sandbox, token, import_body("email,tier\nann@example.com,+1\n", mappings, segmentationImportType="Append")
    )

    assert result == counts(processedCount=1, skippedCount=1)
    assert contact(sandbox, "ann@example.com")["fields"] == {TIER: "gold"}


def test_delimiter_text_qualifier_default_values_and_ignored_columns(http, sandbox, token):
    csv_text = "ann@example.com;'Smith; Ann';X1;evt\nbob@example.com;;X2;evt\n"
    mappings = [
        {"fileColumn": 2, "fileColumnType": "ExternalContactID"},
        {"fileColumn": 0, "fileColumnType": "Email"},
        {"fileColumn": 1, "fileColumnType": "SegmentationField", "segmentationFieldId": NOTES, "defaultValue": "n/a"},
        {"fileColumn": 3, "fileColumnType": "Event"},
    ]
    body = import_body(csv_text, mappings, fileDelimiter=";", textQualifier="'", hasColumnNames=None)

    result = run_import(http, sandbox, token, body)

    assert result == counts(processedCount=2, subscribedCount=2)
    assert contact(sandbox, "ann@example.com")["fields"] == {NOTES: "Smith; Ann"}
    assert contact(sandbox, "bob@example.com")["fields"] == {NOTES: "n/a"}


def test_a_byte_order_mark_and_blank_lines_are_not_rows(http, sandbox, token):
    body = import_body("")
    body["fileStream"] = base64.b64encode("\ufeffemail,name\n\nann@example.com,Ann\n\n".encode()).decode()

    assert run_import(http, sandbox, token, body) == counts(processedCount=1, subscribedCount=1)


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"fileDelimiter": None}, "fileDelimiter"),
        ({"fileDelimiter": ",,"}, "fileDelimiter"),
        ({"fileName": ""}, "fileName"),
        ({"fileMappings": None}, "fileMappings"),
        ({"fileMappings": []}, "fileMappings"),
        ({"fileStream": None}, "fileStream"),
        ({"fileStream": "not base64!"}, "fileStream"),
        ({"fileStream": base64.b64encode(b"\xff\xfe\x00bad").decode()}, "fileStream"),
        ({"fileStream": base64.b64encode(b"email,name\n").decode()}, "fileStream"),  # a header and no rows
        ({"importType": None}, "importType"),
        ({"importType": "AddEveryone"}, "importType"),
        ({"segmentationImportType": None}, "segmentationImportType"),
        ({"segmentationImportType": "Merge"}, "segmentationImportType"),
        ({"hasColumnNames": "yes"}, "hasColumnNames"),
        ({"includeUnsubscribed": 1}, "includeUnsubscribed"),
        ({"textQualifier": ","}, "textQualifier"),
        (
            {
                "fileMappings": [
                    {"fileColumn": 1, "fileColumnType": "SegmentationField", "segmentationFieldId": FIRST_NAME}
                ]
            },
            "Email",
        ),
        (
            {
                "fileMappings": [
                    {"fileColumn": 0, "fileColumnType": "Email"},
                    {"fileColumn": 1, "fileColumnType": "Email"},
                ]
            },
            "Email",
        ),
        ({"fileMappings": [{"fileColumn": 5, "fileColumnType": "Email"}]}, "column 5"),
        ({"fileMappings": [{"fileColumn": -1, "fileColumnType": "Email"}]}, "fileColumn"),
        ({"fileMappings": [{"fileColumn": 0, "fileColumnType": "Phone"}]}, "fileColumnType"),
        (
            {
                "fileMappings": [
                    {"fileColumn": 0, "fileColumnType": "Email"},
                    {"fileColumn": 1, "fileColumnType": "SegmentationField", "segmentationFieldId": 999},
                ]
            },
            "999",
        ),
        (
            {
                "fileMappings": [
                    {"fileColumn": 0, "fileColumnType": "Email"},
                    {"fileColumn": 1, "fileColumnType": "SegmentationField"},
                ]
            },
            "segmentationFieldId",
        ),
    ],
)
def test_list_import_rejects_bad_files(http, sandbox, token, change, names):
    body = import_body("email,name\nann@example.com,Ann\n")
    body.update(change)
    if body["fileDelimiter"] is None:
        del body["fileDelimiter"]

    answer = start_import(http, sandbox, token, body)

    assert names in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]
    assert sandbox.stats["list_imports"] == 0


def test_a_mapping_outside_a_short_row_is_rejected(http, sandbox, token):
    answer = start_import(http, sandbox, token, import_body("email,name\nann@example.com,Ann\nbob@example.com\n"))

    assert "row 3" in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]


def test_list_import_malformed_bodies(http, sandbox, token):
    extra = import_body("email,name\nann@example.com,Ann\n", compression="gzip")
    extra_mapping = import_body(
        "email,name\nann@example.com,Ann\n", [{"fileColumn": 0, "fileColumnType": "Email", "width": 3}]
    )
    headers = {**bearer(token), "Content-Type": "application/xml"}

    assert_envelope(start_import(http, sandbox, token, extra), 400, "ERROR_MALFORMED_REQUEST_BODY")
    assert_envelope(start_import(http, sandbox, token, extra_mapping), 400, "ERROR_MALFORMED_REQUEST_BODY")
    assert_envelope(start_import(http, sandbox, token, ["x"]), 400, "ERROR_MALFORMED_REQUEST_BODY")
    wrong_type = http.post(url(sandbox, f"/{LIST_ID}/ListImport"), data="<x/>", headers=headers, timeout=5)
    assert_envelope(wrong_type, 415, "ERROR_UNSUPPORTED_CONTENT_TYPE")
    assert sandbox.stats["list_imports"] == 0


def test_an_oversize_import_is_404_and_the_connection_stays_usable(http, make_sandbox):
    sandbox = make_sandbox(max_body_bytes=2000)
    token = sandbox.issue_token("Email")
    big = "email,name\n" + "".join(f"user{i}@example.com,U{i}\n" for i in range(200))

    assert_envelope(start_import(http, sandbox, token, import_body(big)), 404, "ERROR_UNKNOWN_ROUTE", "Not Found")
    assert sandbox.stats["list_imports"] == 0
    assert start_import(http, sandbox, token, import_body("email,name\nann@example.com,Ann\n")).status_code == 201


# -- auth ------------------------------------------------------------------------------------------

ROUTES = [
    ("GET", ""),
    ("GET", f"/{LIST_ID}/SegmentationFieldGroup"),
    ("GET", f"/{LIST_ID}/SegmentationFieldGroup/10/SegmentationField"),
    ("POST", f"/{LIST_ID}/Contact"),
    ("POST", f"/{LIST_ID}/ListImport"),
    ("GET", f"/{LIST_ID}/ListImport/1/Status"),
    ("GET", f"/{LIST_ID}/ListImport/1/Summary"),
]


@pytest.mark.parametrize(("method", "tail"), ROUTES)
def test_every_route_needs_an_email_token(http, sandbox, method, tail):
    body = {"emailAddress": "ann@example.com", "segmentationFieldValues": []} if "Contact" in tail else None
    if "ListImport" in tail and method == "POST":
        body = import_body("email,name\nann@example.com,Ann\n")
    data_token = sandbox.issue_token("Data")

    without = http.request(method, url(sandbox, tail), json=body, timeout=5)
    with_data_token = http.request(method, url(sandbox, tail), json=body, headers=bearer(data_token), timeout=5)

    for answer in (without, with_data_token):
        assert answer.status_code == 401 and answer.json() == UNAUTHORIZED
    assert sandbox.stats["unauthorized"] == 2
    assert sandbox.contacts[LIST_ID] == {}
    assert sandbox.stats["list_imports"] == 0 and sandbox.stats["list_import_status_polls"] == 0


# -- faults ----------------------------------------------------------------------------------------


def test_contacts_fault_route_covers_contacts_and_imports_only(http, sandbox, token):
    sandbox.inject("contacts", "500")
    sandbox.inject("contacts", "503")
    sandbox.inject("contacts", "429", retry_after=2)

    assert get(http, sandbox, token, "").status_code == 200  # lists and fields are not "contacts"
    assert get(http, sandbox, token, f"/{LIST_ID}/SegmentationFieldGroup").status_code == 200
    assert_envelope(upsert(http, sandbox, token), 500, "ERROR_UNHANDLED_EXCEPTION")
    assert_envelope(
        start_import(http, sandbox, token, import_body("e,n\na@example.com,A\n")), 503, "ERROR_SERVICE_UNAVAILABLE"
    )
    throttled = upsert(http, sandbox, token)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"

    assert upsert(http, sandbox, token).status_code == 201
    assert sandbox.stats["faults_injected"] == 3
    assert sandbox.stats["contact_upserts"] == 1 and sandbox.stats["list_imports"] == 0


def test_a_faulted_status_poll_does_not_advance_the_import(http, sandbox, token):
    sandbox.list_import_polls_until_done = 1
    import_id = start_import(http, sandbox, token, import_body("email,name\nann@example.com,Ann\n")).json()[
        "resourceId"
    ]
    sandbox.inject("contacts", "503", times=2)

    assert status(http, sandbox, token, import_id).status_code == 503
    assert get(http, sandbox, token, f"/{LIST_ID}/ListImport/{import_id}/Summary").status_code == 503
    states = [status(http, sandbox, token, import_id).json()["data"]["status"] for _ in range(2)]

    assert states == ["InProgress", "Completed"]
    assert sandbox.stats["list_import_status_polls"] == 2


def test_drop_after_on_contacts_applies_the_upsert(http, sandbox, token):
    sandbox.inject("contacts", "drop_after")

    with pytest.raises(requests.exceptions.ConnectionError):
        upsert(http, sandbox, token, "ann@example.com")

    assert contact(sandbox, "ann@example.com")["subscriptionState"] == "Subscribed"


def test_wildcard_faults_reach_the_new_routes(http, sandbox, token):
    sandbox.inject("*", "500", times=2)

    assert get(http, sandbox, token, "").status_code == 500
    assert upsert(http, sandbox, token).status_code == 500
    assert get(http, sandbox, token, "").status_code == 200


# -- state, control routes, command line -----------------------------------------------------------


def test_counters_start_at_zero_and_reset_keeps_lists_and_fields(http, sandbox, token):
    for name in ("contact_upserts", "list_imports", "list_import_status_polls"):
        assert sandbox.stats[name] == 0
    upsert(http, sandbox, token, fields=[value(FIRST_NAME, "Ann")])
    run_import(http, sandbox, token, import_body("email,name\nbob@example.com,Bob\n"))
    assert sandbox.stats["list_import_status_polls"] == 3

    sandbox.reset()

    assert sandbox.contacts == {LIST_ID: {}, OTHER_LIST_ID: {}}
    assert all(sandbox.stats[name] == 0 for name in ("contact_upserts", "list_imports", "list_import_status_polls"))
    token = sandbox.issue_token("Email")
    assert_envelope(status(http, sandbox, token, "1"), 404, "ERROR_UNABLE_TO_LOCATE_RESOURCE")
    assert len(get(http, sandbox, token, "").json()["data"]) == 2
    assert upsert(http, sandbox, token, fields=[value(FIRST_NAME, "Ann")]).status_code == 201  # fields survive


def test_contacts_property_is_a_copy(sandbox):
    sandbox.set_contact(LIST_ID, "ann@example.com", fields={FIRST_NAME: "Ann"})

    sandbox.contacts[LIST_ID]["ann@example.com"]["fields"][FIRST_NAME] = "Changed"

    assert contact(sandbox, "ann@example.com")["fields"] == {FIRST_NAME: "Ann"}


def test_control_route_lists_contacts(http, sandbox):
    sandbox.set_contact(LIST_ID, "ann@example.com", "Unsubscribed", {FIRST_NAME: "Ann"})

    answer = http.get(f"{sandbox.url}/_sandbox/contacts", timeout=5)

    assert answer.status_code == 200
    assert answer.json() == {
        str(LIST_ID): {
            "ann@example.com": {
                "emailAddress": "ann@example.com",
                "subscriptionState": "Unsubscribed",
                "fields": {str(FIRST_NAME): "Ann"},
            }
        },
        str(OTHER_LIST_ID): {},
    }
    assert sandbox.stats["requests"] == 0


def test_command_line_serves_lists():
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "local_stack.sandbox", "--port", "0", "--list", "42:Main list"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base = process.stdout.readline().rsplit(" ", 1)[1].strip()
        form = {
            "grant_type": "client_credentials",
            "client_id": "sandbox-email-client",
            "client_secret": "sandbox-email-secret",
        }
        access_token = requests.post(f"{base}/OAuth2/Token", data=form, timeout=5).json()["access_token"]
        lists = requests.get(f"{base}/email/v1/List", headers=bearer(access_token), timeout=5).json()
        assert lists == {"status": 200, "data": [{"listId": 42, "listName": "Main list", **LIST_REQUIRED}]}
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
        process.stdout.close()


# -- refused addresses, list import outcomes, random faults ----------------------------------------


@pytest.mark.parametrize(
    "code", ["ERROR_BANNED_EMAIL_ADDRESS", "ERROR_SUPPRESSED_EMAIL", "ERROR_PENDING_EMAIL_ADDRESS"]
)
def test_a_refused_address_is_refused_per_contact_and_counted_by_a_list_import(http, sandbox, token, code):
    sandbox.refuse_address("Bad@example.com", code)

    assert_envelope(upsert(http, sandbox, token, email="bad@example.com"), 400, code)
    summary = run_import(http, sandbox, token, import_body("email,name\nbad@example.com,B\nok@example.com,O\n"))

    counted = {"ERROR_BANNED_EMAIL_ADDRESS": "bannedCount", "ERROR_SUPPRESSED_EMAIL": "suppressedCount"}
    assert summary[counted.get(code, "skippedCount")] == 1 and summary["subscribedCount"] == 1
    assert contact(sandbox, "bad@example.com") is None and contact(sandbox, "ok@example.com") is not None


def test_an_unsubscribe_with_profile_data_is_refused_unless_switched_off(http, sandbox, token):
    assert sandbox.refuse_unsubscribe_with_data  # Listrak's rule, by default
    body = {
        "emailAddress": "ann@example.com",
        "subscriptionState": "Unsubscribed",
        "segmentationFieldValues": [value(FIRST_NAME, "Ann")],
    }
    assert_envelope(upsert(http, sandbox, token, body=body), 400, "ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA")
    sandbox.set_contact(LIST_ID, "ann@example.com")
    assert_envelope(upsert(http, sandbox, token, body=body), 400, "ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA")

    sandbox.refuse_unsubscribe_with_data = False
    assert upsert(http, sandbox, token, body=body).status_code == 201
    assert contact(sandbox, "ann@example.com")["subscriptionState"] == "Unsubscribed"


def test_a_list_import_can_end_failed_unknown_or_without_an_id(http, sandbox, token):
    sandbox.list_import_final_status = "Mystery"
    answer = start_import(http, sandbox, token, import_body("email,name\nann@example.com,A\n"))
    states = [status(http, sandbox, token, answer.json()["resourceId"]).json()["data"]["status"] for _ in range(3)]
    assert states == ["InProgress", "InProgress", "Mystery"]

    sandbox.list_import_without_id = True
    assert start_import(http, sandbox, token, import_body("email,name\nbob@example.com,B\n")).json() == {
        "status": 201,
        "resourceId": None,
    }


def test_random_faults_fail_the_given_share_reproducibly(http, sandbox, token):
    def statuses() -> list[int]:
        sandbox.fail_at_random(0.3, ("429", "503"), seed=7)
        codes = [get(http, sandbox, token, "").status_code for _ in range(200)]
        sandbox.fail_at_random(0)
        return codes

    first, second = statuses(), statuses()
    assert first == second
    assert 40 <= sum(code != 200 for code in first) <= 80 and set(first) == {200, 429, 503}
    assert get(http, sandbox, token, "").status_code == 200
    by_kind = sandbox.stats["faults_by_kind"]
    assert by_kind["429"] + by_kind["503"] == 2 * sum(code != 200 for code in first)
    assert sum(by_kind.values()) == by_kind["429"] + by_kind["503"]


def test_queued_faults_come_before_random_ones(http, sandbox, token):
    sandbox.fail_at_random(1.0, ("429",), seed=1)
    sandbox.inject("*", "503")
    codes = [get(http, sandbox, token, "").status_code for _ in range(2)]
    sandbox.fail_at_random(0)
    assert codes == [503, 429]
    with pytest.raises(ValueError):
        sandbox.fail_at_random(0.5, ("nonsense",))
