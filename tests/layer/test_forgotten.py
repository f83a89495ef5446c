"""A forgotten person: matched and redacted in any text, kept as keyed hashes, checked by imports in memory."""

from __future__ import annotations

import hashlib

import pytest

from listrak_kit.aws.tombstones import RELOAD_SECONDS, TombstoneCheck
from listrak_kit.core.forgotten import REDACTED, Person, keyed_hash, record_identifiers

KEY = b"k" * 32


def test_an_address_is_matched_and_redacted_whatever_its_case():
    person = Person("Jane.Doe@Example.com")
    text = 'to JANE.DOE@example.com, cc jane.doe@example.com.au and "sam@example.com"'
    assert person.in_text(text)
    assert person.redact(text) == f'to {REDACTED}, cc {REDACTED}.au and "sam@example.com"'


@pytest.mark.parametrize("written", ["+1 (215) 555-0100", "215-555-0100", "12155550100", "215.555.0100"])
def test_a_phone_number_is_matched_however_it_is_written(written):
    person = Person(phone="+1 215 555 0100")
    assert person.in_text(f"call {written} now")
    assert person.redact(f"call {written} now") == f"call {REDACTED} now"
    assert not person.in_text("order 2155550199, sku 555-0100")


def test_nested_values_are_searched_and_redacted():
    person = Person("jane@example.com", "2155550100")
    value = {"payload": {"emailAddress": "jane@example.com", "fields": [{"value": "215 555 0100"}]}, "n": 3}
    assert person.in_value(value)
    assert person.redact_value(value) == {
        "payload": {"emailAddress": REDACTED, "fields": [{"value": REDACTED}]},
        "n": 3,
    }
    assert not person.in_value({"emailAddress": "sam@example.com"})


def test_the_hash_is_keyed_not_a_bare_sha256():
    hashed = keyed_hash(KEY, "email", "jane@example.com")
    assert hashed != hashlib.sha256(b"jane@example.com").hexdigest()
    assert hashed != keyed_hash(b"another key 0123456789abcdef", "email", "jane@example.com")
    assert Person(" Jane@Example.com ").hashes(KEY) == [hashed]


def test_an_import_record_s_identifiers_include_nested_ones_and_phone_fields():
    record = {"email": "A@B.co", "billingAddress": {"phone": "(215) 555-0100", "city": "Philadelphia"}, "zip": "19103"}
    assert sorted(record_identifiers(record)) == [("email", "a@b.co"), ("phone", "2155550100")]


class FakeTombstones:
    def __init__(self) -> None:
        self.hashes: set[str] = set()
        self.loads = 0

    def load(self) -> frozenset[str]:
        self.loads += 1
        return frozenset(self.hashes)


def test_a_running_import_sees_a_new_tombstone_within_the_reload_window():
    tombstones, now = FakeTombstones(), [0.0]
    check = TombstoneCheck(tombstones, lambda: KEY, monotonic=lambda: now[0])  # type: ignore[arg-type]
    record = {"email": "jane@example.com"}
    assert not check.holds(record)
    tombstones.hashes.update(Person("jane@example.com").hashes(KEY))
    now[0] = RELOAD_SECONDS / 2
    assert not check.holds(record) and tombstones.loads == 1  # within the window: memory only
    now[0] = RELOAD_SECONDS + 1
    assert check.holds(record) and not check.holds({"email": "sam@example.com"})
    assert tombstones.loads == 2
