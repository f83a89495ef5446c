"""Data Import records are checked one by one against Listrak's rules; one bad record refuses the request."""

from __future__ import annotations

import pytest

from local_stack.sandbox.data_rules import MAX_PROBLEMS, record_problems, rules
from tests.sandbox.conftest import assert_envelope
from tests.sandbox.test_listrak_sandbox import import_data, make_sandbox  # noqa: F401 - the sandbox fixture's base

REVIEW = {
    "featured": False,
    "provider": "Yotpo",
    "providerProductID": "A-1",
    "providerReviewID": "R-1",
    "recommended": True,
    "title": "Good",
}


@pytest.mark.parametrize(
    ("entity", "record", "named"),
    [
        ("Customer", {"foo": 1}, "[0].foo: is not a property of Customer"),
        ("Order", {"orderNumber": "x" * 51}, "[0].orderNumber: is longer than 50"),
        ("Order", {"orderNumber": "1", "status": "Bogus"}, "[0].status: must be one of"),
        ("Order", {"orderNumber": "1", "status": "shipped"}, "[0].status: must be one of"),
        ("Order", {"orderNumber": "1", "orderTotal": "abc"}, "[0].orderTotal: must be a number"),
        ("Order", {"orderTotal": 1.5}, "[0].orderNumber: is required"),
        ("Order", {"orderNumber": "1", "items": [{"orderNumber": "1"}]}, "[0].items[0].sku: is required"),
        ("Order", {"orderNumber": "1", "dateEntered": "yesterday"}, "[0].dateEntered: must be an ISO-8601"),
        ("Order", {"orderNumber": "1", "shippingAddress": {"city": "c" * 101}}, "shippingAddress.city"),
        ("Customer", {"email": "a@example.com", "loyalty": {"availablePoints": 2**31}}, "32-bit"),
        ("Customer", {"email": "a@example.com", "registered": "yes"}, "[0].registered: must be true or false"),
        ("Product", {"sku": "A", "qoh": 1.5}, "[0].qoh: must be an integer"),
        ("Review", {}, "[0].featured: is required"),
        ("Review", {**REVIEW, "ratings": [{"type": "Overall"}]}, "[0].ratings[0].ratingValue: is required"),
        ("RatingSummary", {"ratingSummaries": [{"rating": 4}]}, "providerRatingSummaryID: is required"),
    ],
)
def test_a_record_the_spec_forbids_refuses_the_request(http, sandbox, entity, record, named):
    good = {"Customer": {"email": "ok@example.com"}, "Order": {"orderNumber": "ok"}}.get(entity)
    body = [record] if good is None else [record, good]

    answer = import_data(http, sandbox, sandbox.issue_token("Data"), entity, body)

    assert named in assert_envelope(answer, 400, "ERROR_INVALID_PARAMETER")["message"]
    assert sandbox.stats["data_imports"] == 0 and sandbox.data_imports[entity] == []


def test_records_the_spec_allows_are_imported(http, sandbox):
    order = {
        "orderNumber": "A-1",
        "email": "ann@example.com",
        "dateEntered": "2026-11-22T15:00:00Z",
        "orderTotal": 12,
        "status": "Shipped",
        "items": [{"orderNumber": "A-1", "sku": "S-1", "quantity": 2, "price": 6.0, "status": "Shipped"}],
        "shippingAddress": {"city": "Lancaster", "zipCode": "17601"},
    }
    access_token = sandbox.issue_token("Data")

    assert import_data(http, sandbox, access_token, "Order", [order]).status_code == 201
    assert import_data(http, sandbox, access_token, "Review", [REVIEW]).status_code == 201
    assert sandbox.counts["dataImports"]["Order"] == {"requests": 1, "records": 1}


def test_a_refusal_names_at_most_a_bounded_number_of_problems():
    problems = record_problems("Order", [{"orderNumber": 1}] * (MAX_PROBLEMS + 5))

    assert len(problems) == MAX_PROBLEMS and problems[0] == "[0].orderNumber: must be a string"


def test_every_route_entity_and_every_reference_has_rules():
    types = rules()["types"]
    for entity in ("Customer", "Order", "Product", "Review", "RatingSummary"):
        assert entity in types
    for spec in types.values():
        for kind in spec["properties"].values():
            if "@" in kind:
                assert kind.strip("[]@") in types, kind
            if kind.startswith("enum:"):
                assert kind[5:] in rules()["enums"], kind
