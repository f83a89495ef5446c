"""SMS entries of the catalog: every placeholder a field, the worst case within maxSegments, names unique."""

from __future__ import annotations

import pytest

from listrak_kit.catalog.model import Catalog, load_catalog
from listrak_kit.errors import ConfigurationError
from local_stack import TEMPLATE
from local_stack.check import catalog_problems
from local_stack.template import Template

EMAIL = {"order": {"listId": 1, "transactionalMessageId": 2}}


def sms(**overrides):
    entry = {
        "senderCodeId": 501,
        "phoneListId": 601,
        "transactionalMessageId": 701,
        "text": "Order {orderNumber} shipped",
        "fields": {"orderNumber": {"required": True, "maxLength": 20}},
        "maxSegments": 1,
    }
    return entry | overrides


def catalog(**entries):
    return Catalog.model_validate({"messages": EMAIL, "sms": entries})


def test_an_sms_entry_loads_with_its_fields_and_worst_case():
    spec = catalog(shipped=sms()).sms["shipped"]
    assert spec.fields["orderNumber"].required and spec.placeholders == ["orderNumber"]
    assert spec.worst_case().segments == 1
    assert spec.render({"orderNumber": "A-1 {orderNumber}"}) == "Order A-1 {orderNumber} shipped"


def test_fields_may_be_a_list_of_names_with_the_defaults():
    spec = catalog(shipped=sms(fields=["orderNumber"], maxSegments=2)).sms["shipped"]
    assert spec.fields["orderNumber"].maxLength == 100 and not spec.fields["orderNumber"].required


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"text": "Order {orderNumber} via {carrier}"}, "placeholders that are not fields: carrier"),
        ({"fields": {"orderNumber": {}, "carrier": {}}}, "fields the text never uses: carrier"),
        ({"fields": {"orderNumber": {"maxLength": 100}}}, "worst case takes 2 segments"),
        ({"text": "Order {orderNumber} {orderNumber} {orderNumber} shipped"}, "worst case takes 2 segments"),
        ({"maxSegments": 11}, "maxSegments"),
        ({"phoneListId": 0}, "phoneListId"),
        ({"fields": {"orderNumber": {"requird": True}}}, "requird"),
        (
            {"triggers": [{"detailType": "x", "phoneNumber": "a.b", "fields": {"carrier": "c"}}]},
            "triggers[0].fields names fields this SMS does not have: carrier",
        ),
    ],
)
def test_a_broken_entry_is_refused_by_name(overrides, problem):
    with pytest.raises(ValueError, match="sms.shipped") as refused:
        catalog(shipped=sms(**overrides))
    assert problem in str(refused.value)


def test_a_name_is_either_an_email_or_an_sms_message():
    with pytest.raises(ValueError, match="both an email and an SMS message: order"):
        catalog(order=sms())


def test_two_sms_on_one_trigger_value_are_ambiguous():
    trigger = {"detailType": "klaviyoEvent", "when": {"metric": "Shipping Update"}, "phoneNumber": "phone"}
    with pytest.raises(ValueError, match="triggers both a and b"):
        catalog(a=sms(triggers=[trigger]), b=sms(triggers=[trigger]))


def test_an_email_and_an_sms_may_share_a_trigger():
    trigger = {"detailType": "klaviyoEvent", "when": {"metric": "Shipping Update"}}
    email = EMAIL["order"] | {"triggers": [trigger | {"emailAddress": "email"}]}
    loaded = Catalog.model_validate(
        {"messages": {"order": email}, "sms": {"s": sms(triggers=[trigger | {"phoneNumber": "p"}])}}
    )
    assert loaded.triggers["klaviyoEvent"].by_value["Shipping Update"][0] == "order"
    assert loaded.sms_triggers["klaviyoEvent"].by_value["Shipping Update"][0] == "s"


def test_make_check_names_an_sms_entry_whose_worst_case_does_not_fit(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(
        "[messages.order]\nlistId = 1\ntransactionalMessageId = 2\n\n"
        "[sms.shipped]\nsenderCodeId = 5\nphoneListId = 6\ntransactionalMessageId = 7\n"
        'text = "Order {orderNumber}"\nmaxSegments = 1\nfields = { orderNumber = { maxLength = 200 } }\n',
        encoding="utf-8",
    )
    problems = catalog_problems(path, Template.load(TEMPLATE))
    assert (
        len(problems) == 1
        and "sms.shipped" in problems[0]
        and "worst case takes 4 segments (206 UCS-2 units" in problems[0]
    )
    with pytest.raises(ConfigurationError, match="sms.shipped"):
        load_catalog(path)


def test_the_sample_catalog_s_sms_fit_and_their_triggers_have_rules():
    from local_stack.config import USER_CATALOG

    assert catalog_problems(USER_CATALOG, Template.load(TEMPLATE)) == []
    assert set(load_catalog(USER_CATALOG).sms_triggers) == {"klaviyoEvent", "shopifyWebhook"}


def test_make_check_names_an_sms_trigger_no_rule_delivers_as_an_sms_entry(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(
        "[messages.order]\nlistId = 1\ntransactionalMessageId = 2\n\n"
        '[sms.shipped]\nsenderCodeId = 5\nphoneListId = 6\ntransactionalMessageId = 7\ntext = "Shipped"\n'
        'maxSegments = 1\n\n[[sms.shipped.triggers]]\ndetailType = "Parcel Scanned"\nphoneNumber = "phone"\n',
        encoding="utf-8",
    )
    problems = [p for p in catalog_problems(path, Template.load(TEMPLATE)) if "Parcel Scanned" in p]
    assert len(problems) == 1 and "sms.shipped has a trigger on detail-type 'Parcel Scanned'" in problems[0]
