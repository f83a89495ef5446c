"""Who has been forgotten, as every feature sees it: a person's identifiers, matched and redacted in any text,
and the check an import makes before it sends a record (`ForgottenCheck`).

A forgotten person is kept only as keyed hashes (HMAC-SHA256 with a secret of the stack), never as a bare
SHA-256: a bare hash of an address is reversed by hashing a list of addresses, a keyed one needs the key too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

FORGOTTEN_REASON = "forgotten"
REDACTED = "[forgotten]"
# A run of digits and the separators people write phone numbers with; its digits decide a match.
_PHONE_RUN = re.compile(r"\+?\d[\d\s().-]{5,22}\d")
MIN_PHONE_DIGITS = 7
NATIONAL_DIGITS = 9


def normal_email(address: str) -> str:
    return address.strip().lower()


def normal_phone(number: str) -> str:
    """The digits alone: "+1 (215) 555-0100" and "12155550100" are one number."""
    return "".join(c for c in number if c.isdigit())


def keyed_hash(key: bytes, kind: str, normalized: str) -> str:
    return hmac.new(key, f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


class ForgottenCheck(Protocol):
    def holds(self, record: Mapping[str, Any]) -> bool:
        """True when the record names a forgotten person (an address or a phone number in any of its values)."""


@dataclass(frozen=True)
class Person:
    """The identifiers of one person to forget or export: an address, a phone number, or both."""

    email: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        if self.email is None and self.phone is None:
            raise ValueError("a person needs an address or a phone number")

    @property
    def _digits(self) -> str:
        return normal_phone(self.phone) if self.phone else ""

    def hashes(self, key: bytes) -> list[str]:
        found = []
        if self.email:
            found.append(keyed_hash(key, "email", normal_email(self.email)))
        if self.phone:
            found.append(keyed_hash(key, "phone", self._digits))
        return found

    def _phone_spans(self, text: str) -> Iterator[tuple[int, int]]:
        digits = self._digits
        if len(digits) < MIN_PHONE_DIGITS:
            return
        for match in _PHONE_RUN.finditer(text):
            found = normal_phone(match.group())
            # "+1 215 555 0100" and "215-555-0100" are one number: a national number (9 digits or more) matches
            # with a country code of up to 3 digits before it; a shorter run of digits is something else.
            shorter, longer = sorted((found, digits), key=len)
            if shorter == longer or (
                len(shorter) >= NATIONAL_DIGITS and len(longer) - len(shorter) <= 3 and longer.endswith(shorter)
            ):
                yield match.span()

    def in_text(self, text: str) -> bool:
        if self.email and normal_email(self.email) in text.lower():
            return True
        return self.phone is not None and next(self._phone_spans(text), None) is not None

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the person's identifiers replaced by REDACTED."""
        if self.email:
            text = re.sub(re.escape(normal_email(self.email)), REDACTED, text, flags=re.IGNORECASE)
        if self.phone:
            for start, end in reversed(list(self._phone_spans(text))):
                text = text[:start] + REDACTED + text[end:]
        return text

    def in_value(self, value: Any) -> bool:
        """Whether any string anywhere in a JSON-like value holds the person."""
        if isinstance(value, str):
            return self.in_text(value)
        if isinstance(value, Mapping):
            return any(self.in_text(str(k)) or self.in_value(v) for k, v in value.items())
        if isinstance(value, (list, tuple, set, frozenset)):
            return any(self.in_value(v) for v in value)
        return False

    def redact_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, Mapping):
            return {k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_value(v) for v in value]
        return value


def record_identifiers(record: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, normalized) for every address-shaped or phone-named value of an import record, nested objects too."""
    stack: list[Any] = [record]
    while stack:
        current = stack.pop()
        if isinstance(current, Mapping):
            for name, value in current.items():
                if isinstance(value, str):
                    if "@" in value:
                        yield "email", normal_email(value)
                    elif "phone" in str(name).lower() and len(normal_phone(value)) >= MIN_PHONE_DIGITS:
                        yield "phone", normal_phone(value)
                elif isinstance(value, (Mapping, list)):
                    stack.append(value)
        elif isinstance(current, list):
            stack.extend(current)
