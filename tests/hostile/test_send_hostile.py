"""POST /messages under hostile input: every refusal is a JSON 400 naming the field, and nothing reaches Listrak."""

from __future__ import annotations

import html
import json
import tracemalloc

import pytest

from tests.hostile.helpers import assert_error_body, field_values, invoke, send

BASE = {"emailAddress": "jane@example.com", "message": "password-reset", "fields": {"firstName": "Jane"}}
ORDER = {
    "emailAddress": "jane@example.com",
    "message": "order-confirmation",
    "fields": {"firstName": "Jane", "orderNumber": "1001"},
    "items": [{"ProductName": "Shirt", "Quantity": 1, "ItemPrice": "$9.00", "ImageURL": "https://x/s.jpg"}],
}
RAW = {
    "emailAddress": "jane@example.com",
    "listId": 300001,
    "transactionalMessageId": 7003,
    "segmentationFieldValues": [{"segmentationFieldId": 5109, "value": "https://r/1"}],
}
ORDER_ITEMS = 5105  # the order-confirmation item block's segmentationFieldId (tests/fixtures/catalog.toml)
FIRST_NAME = 5101
RESET_LINK = 5109
TWO_MB = 2 * 1024 * 1024


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- oversized ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**BASE, "fields": {"firstName": "x" * 4_001}}, "fields.firstName"),
        ({**ORDER, "items": [{**ORDER["items"][0], "ProductName": "x" * 4_001}]}, "items[0].ProductName"),
        (
            {**RAW, "segmentationFieldValues": [{"segmentationFieldId": 5109, "value": "x" * 4_001}]},
            "segmentationFieldValues[0].value",
        ),
    ],
    ids=["field-value", "item-value", "segmentation-value"],
)
def test_a_value_over_the_profile_field_limit_is_a_400_naming_the_setting(stack, sandbox, payload, field):
    answer = send(stack, payload)

    assert_error_body(answer, 400, field)
    message = next(e["message"] for e in answer.body["errors"] if e["field"] == field)
    assert "SEND_FIELD_MAX_CHARS" in message and "4000" in message
    assert sandbox.stats["sends"] == 0


def test_a_value_at_the_limit_is_sent_whole(stack, sandbox):
    answer = send(stack, {**BASE, "fields": {"firstName": "x" * 4_000}, "reference": "at-limit"})
    assert answer.status == 201, answer
    assert field_values(sandbox.sent_messages[0])[FIRST_NAME] == "x" * 4_000


def peak_memory_of(stack, body: str):
    tracemalloc.start()
    try:
        answer = send(stack, raw=body)
        return answer, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_amplifying_item_block_is_refused_at_its_limit_with_memory_bounded(stack, sandbox):
    # ~9.5 MB: every item at the value limit in quotes (10 characters each once escaped twice) and padded with
    # keys the template never reads. Unbounded, it would render into 20 million characters.
    item = {**ORDER["items"][0], "ProductName": '"' * 4_000, "pad": "p" * 11_000}
    body = json.dumps({**ORDER, "items": [item] * 500, "reference": "amplify-1"})
    assert 9_000_000 < len(body) < 10 * 1024 * 1024  # under API Gateway's 10 MB
    # the same request, refused before any rendering (one value one character over): what parsing costs
    baseline = body.replace('"' + '\\"' * 4_000 + '"', '"' + '\\"' * 4_001 + '"', 1)
    send(stack, ORDER)  # warm: the catalog, clients and email-validator are loaded before measuring

    refused_early, parsing = peak_memory_of(stack, baseline)
    answer, peak = peak_memory_of(stack, body)

    assert refused_early.status == 400 and "items[0].ProductName" in refused_early.fields()
    assert_error_body(answer, 400, "items")
    message = next(e["message"] for e in answer.body["errors"] if e["field"] == "items")
    assert "SEND_ITEM_BLOCK_MAX_CHARS" in message and "200000" in message
    assert sandbox.stats["sends"] == 1  # the warm-up only
    # rendering added no more than its limit's worth (200,000 characters), not the 20 million unbounded
    assert peak - parsing < 4 * 1024 * 1024, (peak, parsing)


def test_the_item_block_limit_is_a_setting(stack, sandbox):
    stack.env_overrides["SEND_ITEM_BLOCK_MAX_CHARS"] = "1000"
    stack.cold_start()
    one = ORDER["items"][0]  # one row of the sample template renders into about 700 characters
    assert send(stack, {**ORDER, "items": [one], "reference": "small-1"}).status == 201
    answer = send(stack, {**ORDER, "items": [one, one], "reference": "small-2"})
    assert_error_body(answer, 400, "items")
    assert "over 1000 characters (SEND_ITEM_BLOCK_MAX_CHARS) at items[1]" in answer.body["errors"][0]["message"]
    assert sandbox.stats["sends"] == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({**BASE, "fields": {"firstName": "x" * TWO_MB}}, "fields.firstName"),
        pytest.param(
            {**ORDER, "items": [{**ORDER["items"][0], "ProductName": "x" * TWO_MB}]},
            "items[0].ProductName",
        ),
        ({**RAW, "segmentationFieldValues": [{"segmentationFieldId": 5109, "value": "x" * TWO_MB}]}, None),
        ({**ORDER, "items": [ORDER["items"][0]] * 5000}, "items"),
        ({**RAW, "segmentationFieldValues": [{"segmentationFieldId": n, "value": "v"} for n in range(1, 5001)]}, None),
        ({**BASE, "fields": {f"f{n}": "v" for n in range(5000)}}, "fields"),
        ({**BASE, "fields": {"x" * 5000: "v"}}, None),
        ({**BASE, "reference": "r" * 300}, "reference"),
        ({**BASE, "emailAddress": "a" * TWO_MB + "@example.com"}, "emailAddress"),
        ({**BASE, "message": "m" * 100_000}, "message"),
    ],
    ids=[
        "2MB-field-value",
        "2MB-item-value",
        "2MB-segmentation-value",
        "5000-items",
        "5000-segmentation-values",
        "5000-fields",
        "5000-char-field-name",
        "300-char-reference",
        "2MB-email",
        "100k-message-name",
    ],
)
def test_an_oversized_send_is_a_400_naming_the_field_and_nothing_is_sent(stack, sandbox, payload, field):
    answer = send(stack, payload)

    body = assert_error_body(answer, 400)
    named = answer.fields()
    if field is not None:
        assert field in named, answer
    else:  # the field name is the caller's, possibly huge: name the collection it is in
        assert any(f.startswith(("fields", "segmentationFieldValues")) for f in named), answer
    assert len(json.dumps(body)) < 200_000  # the refusal does not echo the oversized value back
    assert sandbox.stats["sends"] == 0


# -- content types and body shapes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        pytest.param(json.dumps(BASE), "text/plain", id="json-as-text/plain"),
        pytest.param("hello", "text/plain", id="text/plain"),
        pytest.param(json.dumps(BASE), "application/xml", id="application/xml"),
        pytest.param(
            "emailAddress=jane%40example.com&message=password-reset&fields=firstName",
            "application/x-www-form-urlencoded",
            id="form-encoded",
        ),
        pytest.param("whatever", "multipart/form-data", id="multipart-without-boundary"),
        pytest.param(
            '--b\r\nContent-Disposition: form-data; name="emailAddress"\r\n\r\n€\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
            id="multipart-non-latin-1",
        ),
    ],
)
def test_a_body_that_is_not_json_is_refused_with_a_json_error(stack, sandbox, raw, content_type):
    answer = send(stack, raw=raw, content_type=content_type)

    assert answer.status in (400, 415), answer
    assert_error_body(answer, answer.status)
    assert sandbox.stats["sends"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="no-body"),
        pytest.param("null", id="null"),
        pytest.param("[]", id="empty-array"),
        pytest.param(json.dumps([BASE, {**BASE, "reference": "r2"}]), id="array-of-sends"),
        pytest.param('"hello"', id="json-string"),
        pytest.param("42", id="json-number"),
        pytest.param("true", id="json-true"),
        pytest.param("{not json", id="broken-json"),
        pytest.param(json.dumps(BASE)[:-1], id="truncated-json"),
        pytest.param(json.dumps(BASE) + "garbage", id="trailing-garbage"),
        pytest.param("\ufeff" + json.dumps(BASE), id="utf8-bom"),
        pytest.param('{"emailAddress": "jane@example.com", "emailAddress": 1}', id="duplicate-key"),
    ],
)
def test_a_body_that_is_not_one_send_object_is_a_400_on_the_body(stack, sandbox, raw):
    answer = send(stack, raw=raw)

    assert_error_body(answer, 400)
    assert sandbox.stats["sends"] == 0


def test_invalid_utf8_bytes_are_a_400_not_a_crash(stack, sandbox):
    body = json.dumps(BASE)[:-1].encode("utf-8") + b"\xff\xfe}"  # bytes that are not UTF-8, where JSON syntax goes
    answer = invoke(stack, "SendApiFunction", "POST", "/messages", "/messages", body=body)

    assert_error_body(answer, 400, "(body)")
    assert sandbox.stats["sends"] == 0


def test_a_missing_content_type_is_read_as_json(stack, sandbox):
    answer = send(stack, BASE, content_type=None)
    assert answer.status == 201, answer
    assert sandbox.stats["sends"] == 1


# -- deep nesting and huge numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(nested(100_000), id="100k-deep-body"),
        pytest.param(json.dumps(BASE).replace('"Jane"', nested(100_000)), id="100k-deep-field-value"),
        pytest.param(json.dumps(RAW).replace("300001", "9" * 5000), id="5000-digit-listId"),
        pytest.param(json.dumps(BASE).replace('"Jane"', nested(500)), id="500-deep-field-value"),
        pytest.param(json.dumps({**ORDER, "items": [json.loads(nested(500))]}), id="500-deep-item"),
        pytest.param(json.dumps(RAW).replace("300001", "1e400"), id="listId-1e400"),
        pytest.param(json.dumps(RAW).replace("300001", "NaN"), id="listId-NaN"),
        pytest.param(json.dumps(RAW).replace("300001", "3000010000000000000000"), id="listId-over-int32"),
    ],
)
def test_deep_nesting_and_huge_numbers_are_a_400_not_a_crash(stack, sandbox, raw):
    answer = send(stack, raw=raw)

    assert_error_body(answer, 400)
    assert sandbox.stats["sends"] == 0


# -- unicode in every string field ---------------------------------------------------------------------------

RTL = "مرحبا‏שלום"
EMOJI = "🎉👩‍👩‍👧"
NUL = "a\x00b"
CONTROLS = "a\x07\x1b[31m\x7f\x85\u2028b"
SURROGATE = "a\ud800b"  # json.dumps writes it as the \ud800 escape, as a hostile client would
SAMPLES = {"rtl": RTL, "emoji": EMOJI, "nul": NUL, "controls": CONTROLS, "lone-surrogate": SURROGATE}
# email-validator refuses bidi marks and zero-width joiners as unsafe; a plain RTL word and emoji are fine.
EMAIL_LOCAL_PARTS = {RTL: "مرحبا", EMOJI: "🎉"}


def _case(where: str, sample: str, marks=()):
    return pytest.param(where, SAMPLES[sample], marks=marks, id=f"{where}-{sample}")


@pytest.mark.parametrize(
    ("where", "value"),
    [_case(w, s) for w in ("message", "reference", "field-name") for s in SAMPLES]
    + [_case("emailAddress", s) for s in SAMPLES]  # bidi marks and joiners are refused as unsafe
    + [_case("segmentation-value", "lone-surrogate")],
)
def test_unicode_that_cannot_be_used_is_a_400_naming_the_field(stack, sandbox, where, value):
    payloads = {
        "message": ({**BASE, "message": value}, "message"),
        "reference": ({**BASE, "reference": value}, "reference"),
        "field-name": ({**BASE, "fields": {value: "x"}}, "fields."),
        "emailAddress": ({**BASE, "emailAddress": f"{value}@example.com"}, "emailAddress"),
        "segmentation-value": (
            {**RAW, "segmentationFieldValues": [{"segmentationFieldId": RESET_LINK, "value": value}]},
            "segmentationFieldValues[0].value",
        ),
    }
    payload, field = payloads[where]

    answer = send(stack, payload)

    assert_error_body(answer, 400)
    assert any(f.startswith(field) for f in answer.fields()), answer
    assert sandbox.stats["sends"] == 0


@pytest.mark.parametrize(
    ("where", "value"),
    [_case("emailAddress", s) for s in ("rtl", "emoji")]
    + [_case(w, s) for w in ("field-value", "item-value") for s in ("rtl", "emoji", "nul", "controls")]
    + [_case(w, "lone-surrogate") for w in ("field-value", "item-value")]
    + [_case("segmentation-value", s) for s in ("rtl", "emoji", "nul", "controls")],
)
def test_unicode_that_is_usable_text_is_sent_as_given(stack, sandbox, where, value):
    if where == "emailAddress":
        address = EMAIL_LOCAL_PARTS[value] + "@example.com"  # an internationalized local part (SMTPUTF8)
        answer = send(stack, {**BASE, "emailAddress": address})
        assert answer.status == 201, answer
        assert sandbox.sent_messages[0]["emailAddress"] == address
        return
    if where == "field-value":
        answer = send(stack, {**BASE, "fields": {"firstName": value}})
    elif where == "item-value":
        answer = send(stack, {**ORDER, "items": [{**ORDER["items"][0], "ProductName": value}]})
    else:
        answer = send(stack, {**RAW, "segmentationFieldValues": [{"segmentationFieldId": RESET_LINK, "value": value}]})

    if value == SURROGATE:  # what a fixed service answers
        assert_error_body(answer, 400)
        assert sandbox.stats["sends"] == 0
        return
    assert answer.status == 201, answer
    [sent] = sandbox.sent_messages
    values = field_values(sent)
    if where == "field-value":
        assert values[FIRST_NAME] == value
    elif where == "item-value":
        assert html.escape(value) in html.unescape(values[ORDER_ITEMS])
    else:
        assert values[RESET_LINK] == value


# -- HTML and script in every string field ---------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**BASE, "emailAddress": f"{SCRIPT}@example.com"}, "emailAddress"),
        ({**BASE, "emailAddress": 'jane@example.com"><script>'}, "emailAddress"),
        ({**BASE, "message": SCRIPT}, "message"),
        ({**BASE, "reference": "<script>alert(1) </script>"}, "reference"),
        ({**BASE, "fields": {SCRIPT: "x"}}, f"fields.{SCRIPT}"),
        ({**ORDER, "fields": {"orderItems": SCRIPT}}, "fields.orderItems"),  # the block only comes from items
        ({**ORDER, "items": [{**ORDER["items"][0], "ProductName": {"html": SCRIPT}}]}, "items[0].ProductName"),
    ],
    ids=["email", "email-breaking-out", "message", "reference-space", "field-name", "item-block-field", "item-obj"],
)
def test_markup_where_no_markup_can_be_is_a_400(stack, sandbox, payload, field):
    answer = send(stack, payload)

    assert_error_body(answer, 400, field)
    assert sandbox.stats["sends"] == 0


@pytest.mark.parametrize(
    ("slot", "value", "forbidden"),
    [
        ("ProductName", SCRIPT, "<script"),
        ("ProductName", "</td></tr></table><script>alert(1)</script>", "<script"),
        ("ImageURL", 'x" onerror="alert(1)', '" onerror="'),
        ("ImageURL", "x' onerror='alert(1)", "' onerror='"),
        ("Quantity", "<img src=x onerror=alert(1)>", "<img src=x"),
        ("ItemPrice", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script"),  # pre-escaped: stays text
        ("ProductName", "<!-- Item END -->", "<!-- Item END -->\n<!-- Item END -->"),
    ],
)
def test_markup_in_an_item_is_accepted_and_arrives_escaped_in_the_block(stack, sandbox, slot, value, forbidden):
    answer = send(stack, {**ORDER, "items": [{**ORDER["items"][0], slot: value}]})

    assert answer.status == 201, answer
    block = field_values(sandbox.sent_messages[0])[ORDER_ITEMS]
    assert "<" not in block and ">" not in block  # the block as a whole is escaped once more, as Listrak asks
    rendered = html.unescape(block)  # what Listrak puts in the email
    assert forbidden not in rendered
    assert "<script" not in rendered
    assert html.escape(value) in rendered


@pytest.mark.parametrize(
    ("payload", "field_id"),
    [
        ({**BASE, "fields": {"firstName": SCRIPT}}, FIRST_NAME),
        ({**BASE, "reference": SCRIPT}, None),  # printable ASCII without spaces: a valid reference
        ({**RAW, "segmentationFieldValues": [{"segmentationFieldId": RESET_LINK, "value": SCRIPT}]}, RESET_LINK),
    ],
    ids=["field-value", "reference", "segmentation-value"],
)
def test_markup_in_a_plain_text_value_is_accepted_and_passed_on_unchanged(stack, sandbox, payload, field_id):
    answer = send(stack, payload)

    assert answer.status == 201, answer
    if field_id is None:
        assert answer.body["reference"] == SCRIPT
        assert json.loads(answer.text)["reference"] == SCRIPT  # JSON-escaped in transit, never rendered
    else:
        assert field_values(sandbox.sent_messages[0])[field_id] == SCRIPT  # plain text: Listrak merges it as text


# -- email addresses ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        pytest.param('"quoted local"@example.com', id="quoted-local-part"),
        pytest.param("user+tag@sub.example.co.uk", id="plus-tag-and-subdomains"),
        pytest.param("o'brien@example.com", id="apostrophe"),
        pytest.param("user@bücher.example", id="idn-domain"),
        pytest.param("a" * 64 + "@example.com", id="64-char-local-part"),
        pytest.param("first.last@example.com", id="dotted-local-part"),
    ],
)
def test_odd_but_valid_addresses_are_accepted(stack, sandbox, address):
    answer = send(stack, {**BASE, "emailAddress": address})

    assert answer.status == 201, answer
    assert sandbox.sent_messages[0]["emailAddress"] == address


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("jane.example.com", id="no-at"),
        pytest.param("jane@doe@example.com", id="two-at"),
        pytest.param("jane@example.com.", id="trailing-dot"),
        pytest.param("a" * 65 + "@example.com", id="65-char-local-part"),
        pytest.param("jane doe@example.com", id="space-in-local-part"),
        pytest.param("jane@exa mple.com", id="space-in-domain"),
        pytest.param(" jane@example.com", id="leading-space"),
        pytest.param("jane@example.com\n", id="trailing-newline"),
        pytest.param("jane@example.com\r\nBcc: victim@example.com", id="header-injection"),
        pytest.param(".jane@example.com", id="leading-dot"),
        pytest.param("jane..doe@example.com", id="double-dot"),
        pytest.param("jane@", id="no-domain"),
        pytest.param("@example.com", id="no-local-part"),
        pytest.param("jane@localhost", id="no-tld"),
        pytest.param("", id="empty"),
    ],
)
def test_invalid_addresses_are_a_400_naming_email_address(stack, sandbox, address):
    answer = send(stack, {**BASE, "emailAddress": address})

    assert_error_body(answer, 400, "emailAddress")
    assert sandbox.stats["sends"] == 0


# -- the Idempotency-Key header --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("has spaces", id="spaces"),
        pytest.param("k" * 300, id="300-chars"),
        pytest.param("bücher", id="non-ascii"),
        pytest.param("a\x01b", id="control-char"),
    ],
)
def test_an_idempotency_key_that_is_no_valid_reference_is_a_400(stack, sandbox, key):
    answer = send(stack, BASE, headers={"Idempotency-Key": key})

    assert_error_body(answer, 400)
    assert sandbox.stats["sends"] == 0
