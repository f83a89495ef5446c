"""POST /imports under hostile records: 200 with a rejection per bad record, 400 for a bad envelope, never a 5xx."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REVIEW
from tests.hostile.helpers import assert_error_body, post_import

LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024  # a synchronous Lambda answer larger than this fails the invocation (502)
SCRIPT = "<script>alert(1)</script>"


def imported(sandbox, route):
    return [record for body in sandbox.data_imports.get(route, []) for record in body]


def outcome(answer, received):
    assert answer.crash is None, answer
    assert answer.status == 200, answer
    body = answer.body
    assert body["received"] == received
    assert body["accepted"] + len({r["index"] for r in body["rejected"]}) == received
    for rejection in body["rejected"]:
        assert isinstance(rejection["field"], str) and rejection["field"], rejection
        assert isinstance(rejection["reason"], str) and rejection["reason"], rejection
    return body


@pytest.mark.parametrize(
    ("entity", "record", "route"),
    [
        ("products", {"sku": SCRIPT, "title": "<b>bold</b> & co", "description": "<img src=x onerror=1>"}, "Product"),
        ("customers", {"email": "jane@example.com", "firstName": '"><svg onload=alert(1)>'}, "Customer"),
        ("reviews", {**REVIEW, "text": "<iframe src=javascript:alert(1)>", "title": "مرحبا 🎉"}, "Review"),
        ("products", {"sku": "RTL-‏שלום", "title": "👩‍👩‍👧 emoji", "tags": "a\x00b,\x07\x1b[31m"}, "Product"),
        ("orders", {"orderNumber": "1", "items": [{"sku": "<b>A</b>", "meta1": "\u2028\u2029"}]}, "Order"),
    ],
    ids=["html-product", "html-customer", "html-and-unicode-review", "unicode-and-controls", "html-order-item"],
)
def test_markup_and_unicode_in_records_are_data_imported_as_given(stack, sandbox, entity, record, route):
    body = outcome(post_import(stack, {"entity": entity, "records": [record]}), received=1)

    assert (body["accepted"], body["rejected"]) == (1, [])
    [sent] = imported(sandbox, route)
    for key, value in record.items():
        if key != "items":
            assert sent[key] == value  # data, not markup: nothing is escaped or dropped on the way


@pytest.mark.parametrize(
    ("entity", "records", "rejected_fields"),
    [
        ("customers", [1, "x", None, [], True, 2.5], ["(record)"] * 6),
        ("products", [{"sku": "A" * 1_000_000}], ["sku"]),
        ("products", [{"sku": "A", "title": "t" * 100_000, "price": "cheap"}], ["price", "title"]),
        ("orders", [{"orderNumber": {"a": [1, {"b": None}]}, "items": {"x": 1}}], ["items", "orderNumber"]),
        ("orders", [{"orderNumber": "1", "items": [1, "x", {"sku": "A"}]}], ["items[0]", "items[1]"]),
        ("products", [{"sku": "A", "x\ud800": 1}], ["(record)"]),
        ("products", [{"sku": "A\ud800"}], ["sku"]),
        ("products", [{"sku": "A", "price": 1e400}, {"sku": "B", "qoh": 10**30}], ["price", "qoh"]),
        ("products", [{"sku": "A", "relatedProducts": [[[[[{"sku": "deep"}]]]]]}], ["relatedProducts[0]"]),
        ("rating-summaries", [{"ratingSummaries": [{"rating": {"$gt": 0}}]}], None),
        ("customers", [{"__proto__": {"admin": True}, "constructor": "x"}], ["__proto__", "constructor"]),
    ],
    ids=[
        "non-objects",
        "1MB-sku",
        "100k-title-and-bad-price",
        "nested-junk",
        "non-object-items",
        "surrogate-in-field-name",
        "surrogate-in-bounded-string",
        "infinite-and-huge-numbers",
        "nested-lists",
        "operator-injection",
        "prototype-pollution-keys",
    ],
)
def test_hostile_records_are_rejected_one_by_one_and_nothing_invalid_is_sent(
    stack, sandbox, entity, records, rejected_fields
):
    body = outcome(post_import(stack, {"entity": entity, "records": records}), received=len(records))

    assert body["accepted"] == 0
    fields = [r["field"] for r in body["rejected"]]
    if rejected_fields is None:
        assert fields
    else:
        for field in rejected_fields:
            assert field in fields or any(f.startswith(field) for f in fields), (field, body["rejected"])
    assert sandbox.stats["data_imports"] == 0


def test_valid_records_go_through_beside_the_hostile_ones(stack, sandbox):
    records = [{"sku": "OK-1"}, "junk", {"sku": ["x"]}, {"sku": "OK-2", "title": SCRIPT}, None]
    body = outcome(post_import(stack, {"entity": "products", "records": records}), received=5)

    assert body["accepted"] == 2
    assert sorted({r["index"] for r in body["rejected"]}) == [1, 2, 4]
    assert [p["sku"] for p in imported(sandbox, "Product")] == ["OK-1", "OK-2"]


@pytest.mark.parametrize(
    ("payload", "raw", "field"),
    [
        ({"entity": "customers", "records": {"a": 1}}, None, "records"),
        ({"entity": "customers", "records": "[{}]"}, None, "records"),
        ({"entity": SCRIPT, "records": [{}]}, None, "entity"),
        ({"entity": "Customers", "records": [{}]}, None, "entity"),
        ({"entity": "customers", "records": []}, None, "records"),
        ({"entity": "customers", "records": [{}] * 1001}, None, "records"),
        ({"entity": "customers", "records": [{}], "extra": 1}, None, "extra"),
        ({"records": [{}]}, None, "entity"),
        (None, "", "(body)"),
        (None, "null", "(body)"),
        (None, '"customers"', "(body)"),
        (None, "{not json", "(body)"),
        (None, "[]", "(body)"),
    ],
    ids=[
        "records-object",
        "records-string",
        "entity-html",
        "entity-case",
        "no-records",
        "1001-records",
        "extra-key",
        "no-entity",
        "no-body",
        "null",
        "json-string",
        "broken-json",
        "empty-array",
    ],
)
def test_a_malformed_envelope_is_a_400_naming_the_field(stack, sandbox, payload, raw, field):
    answer = post_import(stack, payload, raw=raw)

    assert_error_body(answer, 400, field)
    assert sandbox.stats["data_imports"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            '{"entity": "products", "records": [' + "[" * 100_000 + "]" * 100_000 + "]}",
            id="100k-deep-record",
        ),
        pytest.param(
            '{"entity": "products", "records": [{"sku": "A", "qoh": ' + "9" * 5000 + "}]}",
            id="5000-digit-number",
        ),
        pytest.param(
            '{"entity": "products", "records": [{"sku": "A", "price": NaN}, {"sku": "B", "price": -Infinity}]}',
            id="nan-and-infinity",
        ),
    ],
)
def test_unreadable_numbers_and_nesting_are_refused_without_a_crash(stack, sandbox, raw):
    answer = post_import(stack, raw=raw)

    assert answer.crash is None, answer
    assert answer.status in (200, 400), answer
    if answer.status == 400:
        assert_error_body(answer, 400)
    else:
        assert answer.body["accepted"] == 0
    assert sandbox.stats["data_imports"] == 0


@pytest.mark.parametrize(
    ("entity", "record"),
    [("reviews", {**REVIEW, "text": "a\ud800b"}), ("products", {"sku": "A", "tags": "\udfff"})],
    ids=["review-text", "product-tags"],
)
def test_a_lone_surrogate_in_an_unbounded_string_is_a_rejection_not_a_crash(stack, sandbox, entity, record):
    body = outcome(post_import(stack, {"entity": entity, "records": [record]}), received=1)

    assert body["accepted"] == 0
    assert sandbox.stats["data_imports"] == 0


def test_the_rejection_report_stays_within_lambdas_response_limit(stack, sandbox):
    record = {"sku": "S" * 20_000, **{f"junk{n}": n for n in range(30)}}
    payload = {"entity": "products", "records": [record] * 100}
    assert len(json.dumps(payload)) < 10 * 1024 * 1024  # within API Gateway's request limit

    answer = post_import(stack, payload)

    assert answer.status == 200, answer
    assert len(answer.text.encode("utf-8")) <= LAMBDA_RESPONSE_LIMIT


def test_a_lone_surrogate_in_a_dropped_file_is_a_reject_not_a_poisoned_part(stack, sandbox):
    good, bad = {**REVIEW, "providerReviewID": "R-ok"}, {**REVIEW, "providerReviewID": "R-bad", "text": "a\ud800b"}
    body = (json.dumps(good) + "\n" + json.dumps(bad) + "\n").encode()
    [(_, planned)] = stack.drop_file("ImportBucket", "reviews/day.jsonl", body)
    assert planned.error is None, planned.error

    stack.drain("ImportQueue")

    assert [r["providerReviewID"] for r in imported(sandbox, "Review")] == ["R-ok"]
    dead = stack.client("sqs").receive_message(QueueUrl=stack.refs["ImportDeadLetterQueue"]).get("Messages", [])
    assert dead == []


@pytest.mark.parametrize(
    ("key", "lines"),
    [
        ("reviews/long.jsonl", lambda ok, long: [json.dumps(ok), json.dumps({**REVIEW, "text": long})]),
        (
            "reviews/long.csv",
            lambda ok, long: [
                "providerReviewID,provider,providerProductID,title,featured,recommended,text",
                "R-ok,Yotpo,A-1,Great,false,true,x",
                f"R-long,Yotpo,A-1,Great,false,true,{long}",
            ],
        ),
    ],
    ids=["jsonl", "csv"],
)
def test_a_record_over_the_bound_in_a_dropped_file_is_a_reject_naming_it(stack, sandbox, key, lines):
    stack.env_overrides["IMPORT_RECORD_MAX_CHARS"] = "10000"
    stack.cold_start()
    ok = {**REVIEW, "providerReviewID": "R-ok"}
    body = ("\n".join(lines(ok, "y" * 3_000_000)) + "\n").encode()
    [(_, planned)] = stack.drop_file("ImportBucket", key, body)
    assert planned.error is None, planned.error

    stack.drain("ImportQueue")

    assert [r["providerReviewID"] for r in imported(sandbox, "Review")] == ["R-ok"]
    rejects = stack.client("s3").get_object(Bucket=stack.refs["ImportBucket"], Key=f"results/{key}.rejects.jsonl")
    [reject] = [json.loads(line) for line in rejects["Body"].read().decode().splitlines()]
    assert "IMPORT_RECORD_MAX_CHARS" in reject["reason"] and "10000" in reject["reason"]


def test_a_direct_record_over_the_bound_is_a_rejection_naming_it(stack, sandbox):
    stack.env_overrides["IMPORT_RECORD_MAX_CHARS"] = "5000"
    stack.cold_start()
    items = [{"sku": f"S{n}", "quantity": 1, "price": 1.0} for n in range(200)]  # ~8,000 characters
    small = {"orderNumber": "1", "items": items[:2]}
    body = outcome(
        post_import(stack, {"entity": "orders", "records": [small, {"orderNumber": "2", "items": items}]}), 2
    )

    assert body["accepted"] == 1
    [rejection] = body["rejected"]
    assert rejection["index"] == 1 and "IMPORT_RECORD_MAX_CHARS" in rejection["reason"]
    assert [r["orderNumber"] for r in imported(sandbox, "Order")] == ["1"]
