"""Resends and GET /messages/{reference} under hostile references and bodies: JSON 4xx naming the field, no resend."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from tests.hostile.helpers import assert_error_body, invoke, send

SENT = {"emailAddress": "jane@example.com", "message": "password-reset", "reference": "hostile-1"}
KEY = "0b9f4c1e-3c1a-4c9e-9d4e-3f1f2a6b7c8d"


def get_message(stack, reference):
    return invoke(
        stack,
        "ResendFunction",
        "GET",
        f"/messages/{reference}",
        "/messages/{reference}",
        body=None,
        content_type=None,
        path_params={"reference": reference},
    )


def resend(stack, reference, *, body=None, raw=None):
    return invoke(
        stack,
        "ResendFunction",
        "POST",
        f"/messages/{reference}/resend",
        "/messages/{reference}/resend",
        body=raw if raw is not None else (json.dumps(body) if body is not None else None),
        path_params={"reference": reference},
    )


def resend_by_key(stack, body=None, *, raw=None):
    data = raw if raw is not None else json.dumps(body)
    return invoke(stack, "ResendFunction", "POST", "/resends", "/resends", body=data)


@pytest.mark.parametrize(
    "reference",
    ["r" * 300, "has space", "bücher", " ", "'%20OR%201=1--", "a%0Ab"],
    ids=["300-chars", "space", "non-ascii", "blank", "encoded-space", "encoded-newline-inside"],
)
def test_a_reference_that_cannot_exist_is_a_400_naming_it(stack, sandbox, reference):
    for answer in (get_message(stack, reference), resend(stack, reference)):
        assert_error_body(answer, 400, "reference")
    assert sandbox.stats["resends"] == 0


@pytest.mark.parametrize(
    "reference",
    ["a\x00b", "\u202egnp", "a\ud800b", "a/b", "<script>alert(1)</script>"],
    ids=["nul", "rtl-override", "lone-surrogate", "slash", "script-tag-with-slash"],
)
def test_a_reference_no_route_matches_is_a_json_4xx_with_a_message(stack, sandbox, reference):
    # Powertools' router does not match these path segments: its own JSON 404 answers before any validation.
    for answer in (get_message(stack, reference), resend(stack, reference)):
        assert answer.status in (400, 404), answer
        assert_error_body(answer, answer.status)
    assert sandbox.stats["resends"] == 0


@pytest.mark.parametrize("reference", ["<script>alert(1)", "'OR'1'='1--", "..%2F..%2Fetc", "${7*7}"])
def test_a_well_formed_but_unknown_reference_is_a_404_naming_it(stack, sandbox, reference):
    for answer in (get_message(stack, reference), resend(stack, reference)):
        body = assert_error_body(answer, 404)
        assert repr(unquote(reference)) in body["message"]  # the path parameter decoded: ../../etc
    assert sandbox.stats["resends"] == 0


@pytest.mark.parametrize(
    ("body", "raw", "field"),
    [
        ({"emailAddress": "<script>@example.com"}, None, "emailAddress"),
        ({"emailAddress": "a" * 300 + "@example.com"}, None, "emailAddress"),
        ({"emailAddress": "jane@example.com\r\nBcc: x@example.com"}, None, "emailAddress"),
        ({"emailAddress": ["jane@example.com"]}, None, "emailAddress"),
        ({"emailAddress": "jane@example.com", "resendKey": KEY}, None, "resendKey"),
        (None, '"jane@example.com"', "(body)"),
        (None, "{not json", "(body)"),
        (None, "[]", "(body)"),
    ],
    ids=["markup", "too-long", "header-injection", "list", "extra-field", "json-string", "broken-json", "empty-array"],
)
def test_a_hostile_resend_body_is_a_400_and_nothing_is_resent(stack, sandbox, body, raw, field):
    assert send(stack, SENT).status == 201

    answer = resend(stack, SENT["reference"], body=body, raw=raw)

    assert_error_body(answer, 400, field)
    assert sandbox.stats["resends"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"listId": 300001, "transactionalMessageId": 7003, "resendKey": "<script>"}, "resendKey"),
        ({"listId": 300001, "transactionalMessageId": 7003, "resendKey": KEY + "\x00"}, "resendKey"),
        ({"listId": 0, "transactionalMessageId": 7003, "resendKey": KEY}, "listId"),
        ({"listId": "300001", "transactionalMessageId": 7003, "resendKey": KEY}, "listId"),
        ({"listId": 2**31, "transactionalMessageId": 7003, "resendKey": KEY}, "listId"),
        ({"listId": 300001, "transactionalMessageId": True, "resendKey": KEY}, "transactionalMessageId"),
        ({"listId": 300001, "transactionalMessageId": 7003, "resendKey": {"$ne": ""}}, "resendKey"),
    ],
    ids=["markup-key", "nul-in-key", "zero-list", "string-list", "int32-overflow", "bool-message", "operator-key"],
)
def test_a_hostile_resend_by_key_is_a_400_and_nothing_is_resent(stack, sandbox, body, field):
    answer = resend_by_key(stack, body)

    assert_error_body(answer, 400, field)
    assert sandbox.stats["resends"] == 0


def test_a_5000_digit_number_is_a_400_not_a_crash(stack, sandbox):
    raw = '{"listId": ' + "9" * 5000 + ', "transactionalMessageId": 7003, "resendKey": "' + KEY + '"}'

    answer = resend_by_key(stack, raw=raw)

    assert_error_body(answer, 400)
    assert sandbox.stats["resends"] == 0
