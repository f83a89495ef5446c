"""Email addresses: the plain ones pass as they are, and never where email-validator would refuse or change them."""

from __future__ import annotations

import random

import pytest
from email_validator import EmailNotValidError, validate_email

from listrak_kit.core import fields

PIECES = ["a", "Z", "0", "9", "_", "+", "-", ".", "..", "@", "--", "x" * 63, "y" * 64, "é", " ", "'", '"', "xn--"]
DOMAINS = [
    "example.com",
    "Example.com",
    "ex-ample.co",
    "e.c",
    "mail.xn--p1ai",
    "ab--cd.com",
    "x.test",
    "sub.onion",
    "localhost",
    "ex.123",
    "a.b.c.d.museum",
    "-ex.com",
    "ex-.com",
    "ex..com",
    f"{'d' * 63}.com",
    f"{'d' * 64}.com",
    ".".join(["abcdefghi"] * 26) + ".com",
    "xn--ls8h.la",
    "1.com",
]


def reference(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False, allow_quoted_local=True, strict=True).normalized
    except EmailNotValidError:
        return None


def addresses() -> list[str]:
    rng = random.Random(7)
    found = [f"customer{n}@example.com" for n in range(5)]
    for _ in range(4000):
        local = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 4)))
        found.append(f"{local}@{rng.choice(DOMAINS)}")
    return found


@pytest.mark.parametrize("chunk", range(4))
def test_a_plain_address_passes_as_email_validator_would_normalise_it(chunk):
    plain = 0
    for value in addresses()[chunk::4]:
        if fields._PLAIN_EMAIL.fullmatch(value) and len(value) <= 254:
            plain += 1
            assert reference(value) == value, value
        expected = reference(value)
        if expected is None:
            with pytest.raises(ValueError, match="not a valid email address"):
                fields.normalized_email(value)
        else:
            assert fields.normalized_email(value) == expected
    assert plain > 50
