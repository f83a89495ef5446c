"""Catalog rules enforced before Listrak is called: required fields (`{ id = N, required = true }`), known names."""

from __future__ import annotations

import pytest

from listrak_kit.catalog.model import Catalog, load_catalog
from listrak_kit.errors import ConfigurationError, InvalidRequest
from listrak_kit.send.event_mapping import request_from_event
from listrak_kit.send.models import SendRequest
from listrak_kit.send.service import SendPolicy, SendService
from tests.layer.test_send_service import Clock, FakeEmailApi, Records

CATALOG = """
[messages.password-reset]
listId = 1
transactionalMessageId = 2
[messages.password-reset.fields]
firstName = 10
passwordResetLink = { id = 11, required = true }
[messages.password-reset.event]
detailTypes = ["Reset Password"]
emailAddress = "profile.email"
[messages.password-reset.event.fields]
firstName = "profile.first_name"
passwordResetLink = "properties.PasswordResetLink"

[messages.order]
listId = 1
transactionalMessageId = 3
[messages.order.fields]
orderItems = { id = 20, required = true }
[messages.order.items]
field = "orderItems"
template = "<td>{Name}</td>"
"""


@pytest.fixture
def catalog(tmp_path) -> Catalog:
    path = tmp_path / "catalog.toml"
    path.write_text(CATALOG, encoding="utf-8")
    return load_catalog(path)


def sender(catalog: Catalog) -> tuple[SendService, FakeEmailApi]:
    from tests.layer.test_send_service import RECEIPT

    api = FakeEmailApi(RECEIPT)
    policy = SendPolicy(reconcile_after_seconds=60, max_attempts=2)
    return SendService(catalog=catalog, email_api=api, records=Records(), clock=Clock(), policy=policy), api


def test_a_field_table_gives_its_id_and_marks_it_required(catalog):
    spec = catalog.messages["password-reset"]
    assert spec.fields == {"firstName": 10, "passwordResetLink": 11}
    assert spec.requiredFields == ["passwordResetLink"]


@pytest.mark.parametrize("fields", [{"firstName": "Jane"}, {"firstName": "Jane", "passwordResetLink": "  "}])
def test_a_send_without_a_required_field_is_refused_naming_it_and_nothing_is_sent(catalog, fields):
    service, api = sender(catalog)
    request = SendRequest(emailAddress="jane@example.com", message="password-reset", fields=fields, reference="r-1")

    with pytest.raises(InvalidRequest) as refused:
        service.send(request)

    assert [p.as_dict() for p in refused.value.problems] == [
        {"field": "fields.passwordResetLink", "message": "is required by message password-reset"}
    ]
    assert api.calls == []


def test_a_required_item_block_needs_items(catalog):
    service, api = sender(catalog)
    bare = SendRequest(emailAddress="jane@example.com", message="order", reference="o-1")
    with pytest.raises(InvalidRequest, match="items: is required by message order"):
        service.send(bare)
    with_items = SendRequest(emailAddress="jane@example.com", message="order", reference="o-2", items=[{"Name": "x"}])
    assert service.send(with_items).result.status == "sent"
    assert len(api.calls) == 1


def test_an_event_without_the_required_value_is_refused_too(catalog):
    service, api = sender(catalog)
    detail = {"profile": {"email": "jane@example.com", "first_name": "Jane"}, "properties": {}}
    request = request_from_event(catalog, detail_type="Reset Password", detail=detail, event_id="e-1")
    with pytest.raises(InvalidRequest, match="passwordResetLink"):
        service.send(request)
    assert api.calls == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("link = { id = 11, requird = true }", "fields.link: requird: Extra inputs are not permitted"),
        ("link = { required = true }", "fields.link: id: Field required"),
        ("link = { id = 0, required = true }", "fields.link: id"),
    ],
)
def test_a_bad_field_table_names_the_field(tmp_path, text, names):
    path = tmp_path / "catalog.toml"
    path.write_text(f"[messages.a]\nlistId = 1\ntransactionalMessageId = 2\n[messages.a.fields]\n{text}\n")
    with pytest.raises(ConfigurationError) as caught:
        load_catalog(path)
    assert names in str(caught.value)


def test_a_misspelled_message_name_is_refused_with_the_nearest_names(catalog):
    from listrak_kit.errors import UnknownMessage

    service, api = sender(catalog)
    with pytest.raises(UnknownMessage) as refused:
        service.send(SendRequest(emailAddress="jane@example.com", message="pasword-reset", reference="r-9"))
    assert str(refused.value) == "message 'pasword-reset' is not in the catalog; did you mean 'password-reset'?"
    with pytest.raises(UnknownMessage) as refused:
        service.send(SendRequest(emailAddress="jane@example.com", message="birthday", reference="r-10"))
    assert str(refused.value) == "message 'birthday' is not in the catalog"
    assert api.calls == []
