"""Shopify's webhook signature and detail, on their own."""

from __future__ import annotations

from listrak_kit.send.shopify import is_signed, signature_of, webhook_detail

BODY = b'{"id":1,"email":"jane@example.com"}'
SECRET = "shpss_example"
# openssl dgst -sha256 -hmac shpss_example -binary | base64, over BODY: an answer computed apart from the code
EXPECTED = "17NFc207uQ7hsLdst8jNf6PmnOHA1+hg8WkPoK+I42A="


def test_the_signature_is_the_base64_hmac_sha256_of_the_raw_body():
    assert signature_of(BODY, SECRET) == EXPECTED
    assert is_signed(BODY, EXPECTED, SECRET)
    assert is_signed(BODY, f" {EXPECTED}\n", SECRET)  # header whitespace


def test_anything_but_that_signature_of_that_body_is_refused():
    assert not is_signed(BODY + b" ", EXPECTED, SECRET)  # the same JSON, one byte more
    assert not is_signed(BODY, EXPECTED, "another-secret")
    assert not is_signed(BODY, None, SECRET)
    assert not is_signed(BODY, "", SECRET)
    assert not is_signed(BODY, EXPECTED.lower(), SECRET)
    assert not is_signed(
        BODY, "d7b345736d3bb90ee1b0b76cb7c8cd7fa3e69ce1c0d7e860f1690fa0af88e360", SECRET
    )  # hex, not base64
    assert not is_signed(BODY, "✓" * 44, SECRET)  # non-ASCII: refused, not an exception


def test_the_detail_is_what_shopify_s_eventbridge_source_emits_without_the_signature():
    headers = {
        "content-type": "application/json",
        "x-shopify-topic": "orders/create",
        "X-Shopify-Event-Id": "e-1",
        "X-Shopify-Hmac-Sha256": EXPECTED,
        "User-Agent": "Shopify-Captain-Hook",
    }
    detail = webhook_detail(headers, {"id": 1})
    assert detail == {
        "payload": {"id": 1},
        "metadata": {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Event-Id": "e-1",
        },
    }
