"""Audience sync on its own: ContactSync against an in-memory contacts API, ContactsApi against a recorded client."""

from __future__ import annotations

from typing import Any

import pytest

from listrak_kit.errors import ConfigurationError
from listrak_kit.imports.contacts import ContactsConfig, ContactSync
from listrak_kit.listrak.contacts_api import ContactsApi
from listrak_kit.listrak.errors import ListrakRejected
from listrak_kit.listrak.http import HttpAnswer

LIST_ID = 3001


class MemoryContacts:
    """The contacts calls as one Listrak list would answer them."""

    def __init__(self, *, unsubscribed: tuple[str, ...] = (), statuses: tuple[str, ...] = ("Completed",)):
        self.lists_answer = [{"listId": LIST_ID, "listName": "Customers"}, {"listId": 3002, "listName": "Other"}]
        self.upserts: list[tuple[dict[str, Any], bool]] = []
        self.imports: list[dict[str, Any]] = []
        self.unsubscribed = set(unsubscribed)
        self.statuses = list(statuses)

    def lists(self):
        return self.lists_answer

    def field_groups(self, list_id):
        assert list_id == LIST_ID
        return [
            {"segmentationFieldGroupId": 10, "segmentationFieldGroupName": "Account"},
            {"segmentationFieldGroupId": 20, "segmentationFieldGroupName": "Other"},
        ]

    def fields(self, list_id, group_id):
        if group_id == 10:
            return [
                {"segmentationFieldId": 101, "segmentationFieldName": "FirstName", "maxLength": 10},
                {"segmentationFieldId": 102, "segmentationFieldName": "Points", "dataType": "Numeric"},
                {"segmentationFieldId": 103, "segmentationFieldName": "Note"},
            ]
        return [{"segmentationFieldId": 201, "segmentationFieldName": "Note"}]

    def upsert_contact(self, list_id, body, *, override_unsubscribe):
        if body["emailAddress"] in self.unsubscribed and not override_unsubscribe:
            raise ListrakRejected(
                "unsubscribed", status=400, code="ERROR_UNSUBSCRIBED_EMAIL_ADDRESS", detail="Already unsubscribed."
            )
        self.upserts.append((body, override_unsubscribe))

    def start_list_import(self, list_id, body):
        self.imports.append(body)
        return f"imp-{len(self.imports)}"

    def list_import_status(self, list_id, import_id):
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def list_import_summary(self, list_id, import_id):
        return {"processedCount": 1}


def sync(api: MemoryContacts, **config: Any) -> ContactSync:
    return ContactSync(api, ContactsConfig(**{"list_name": "customers", **config}), sleep=lambda _s: None)


def test_the_list_resolves_by_name_once_and_an_unknown_name_is_a_configuration_error():
    api = MemoryContacts()
    assert sync(api).list_id() == LIST_ID
    api.lists_answer = []
    with pytest.raises(ConfigurationError, match="matches 0 Listrak lists"):
        sync(api).list_id()


def test_rows_validate_against_the_lists_profile_fields():
    contacts = sync(MemoryContacts())
    row, problems = contacts.validate({"emailAddress": " Jane@Example.com ", "FirstName": "Jane", "Points": 3})
    assert problems == []
    assert row == {
        "emailAddress": "Jane@example.com",
        "subscriptionState": "Subscribed",
        "values": [{"segmentationFieldId": 101, "value": "Jane"}, {"segmentationFieldId": 102, "value": "3"}],
    }
    row, problems = contacts.validate(
        {"emailAddress": "nobody", "FirstName": "x" * 11, "Points": "many", "Note": "two groups", "Nope": 1}
    )
    assert row is None
    assert dict(problems) == {
        "emailAddress": dict(problems)["emailAddress"],
        "FirstName": "at most 10 characters (got 11)",
        "Points": "must be a number",
        "Note": "not a profile field of this list (names resolve through its field groups)",
        "Nope": "not a profile field of this list (names resolve through its field groups)",
    }
    assert dict(problems)["emailAddress"].startswith("not a valid email address")
    assert contacts.validate({"emailAddress": "a@example.com", "Other.Note": True})[0]["values"] == [
        {"segmentationFieldId": 201, "value": "true"}
    ]


def test_small_chunks_go_contact_by_contact_and_unsubscribed_contacts_stay_so():
    api = MemoryContacts(unsubscribed=("gone@example.com",))
    rows = [
        {"emailAddress": "a@example.com", "subscriptionState": "Subscribed", "values": [], "line": 2},
        {"emailAddress": "gone@example.com", "subscriptionState": "Subscribed", "values": [], "line": 3},
    ]
    outcome = sync(api).send(rows, chunk=0, file_name="f", resume=None, time_left=None)
    refused = [
        {
            "line": 3,
            "emailAddress": "g***@example.com",  # masked: the ledger and the manifest keep it
            "reason": "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS: Already unsubscribed.",
        }
    ]
    assert outcome == {"mode": "contact", "records": 2, "upserted": 1, "refused": refused}
    assert [body["emailAddress"] for body, _ in api.upserts] == ["a@example.com"]


def test_large_chunks_go_as_list_imports_and_hand_over_while_listrak_still_works():
    api = MemoryContacts(statuses=("InProgress",))
    rows = [
        {"emailAddress": f"c{i}@example.com", "subscriptionState": "Subscribed", "values": []} for i in range(3)
    ] + [{"emailAddress": "u@example.com", "subscriptionState": "Unsubscribed", "values": []}]
    contacts = sync(api, per_contact_max=1)
    pending = contacts.send(rows, chunk=2, file_name="drop", resume=None, time_left=lambda: 10)
    assert pending["pending"] is True and set(pending["imports"]) == {"subscribe", "unsubscribe"}
    assert [b["importType"] for b in api.imports] == ["AddSubscribersAndSegmentationData", "RemoveSubscribers"]
    assert api.imports[0]["fileName"] == "drop-2-subscribe.csv"

    api.statuses = ["Completed"]
    done = contacts.send(rows, chunk=2, file_name="drop", resume=pending, time_left=lambda: 600)
    assert len(api.imports) == 2  # resumed: nothing submitted twice
    assert done["records"] == 4
    assert done["imports"]["subscribe"]["summary"] == {"processedCount": 1}


class RecordedListrak:
    def __init__(self, answers: list[Any]):
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.answers = answers

    def call(self, method, path, **kwargs):
        self.calls.append((method, path, kwargs))
        return HttpAnswer(200, self.answers.pop(0) if self.answers else {})


def test_the_contacts_api_makes_listraks_calls():
    listrak = RecordedListrak([{"data": [{"listId": 1}, "junk"]}, {}, {"resourceId": 77}, {"data": {"status": "Done"}}])
    api = ContactsApi(listrak)
    assert api.lists() == [{"listId": 1}]
    api.upsert_contact(5, {"emailAddress": "a@example.com"}, override_unsubscribe=True)
    assert api.start_list_import(5, {"fileName": "x.csv"}) == "77"
    assert api.list_import_status(5, "77") == "Done"
    assert [(m, p) for m, p, _ in listrak.calls] == [
        ("GET", "/v1/List"),
        ("POST", "/v1/List/5/Contact"),
        ("POST", "/v1/List/5/ListImport"),
        ("GET", "/v1/List/5/ListImport/77/Status"),
    ]
    upsert = listrak.calls[1][2]
    assert upsert["params"] == {"overrideUnsubscribe": "true"} and upsert["replay_safe"] is True
    assert listrak.calls[2][2]["replay_safe"] is False  # a ListImport is not repeated blindly
