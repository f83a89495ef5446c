"""Phone numbers as Listrak's SMS API takes them: the country code and the national number, digits only.

A number written with `+` or `00` is international; any other is national, in the default country (the
SMS_DEFAULT_COUNTRY setting), whose trunk prefix (a leading 0) is dropped. Spaces, dots, dashes and parentheses
are ignored; anything else (letters, an extension) makes the number unusable.
"""

from __future__ import annotations

import re

# Country -> (calling code, national number length; None: 6 to 13 digits, checked by E.164's 15-digit ceiling).
COUNTRIES: dict[str, tuple[str, int | None]] = {
    "US": ("1", 10),
    "CA": ("1", 10),
    "PR": ("1", 10),
    "GB": ("44", None),
    "IE": ("353", None),
    "AU": ("61", None),
    "NZ": ("64", None),
    "DE": ("49", None),
    "FR": ("33", None),
    "ES": ("34", None),
    "IT": ("39", None),
    "NL": ("31", None),
    "MX": ("52", None),
}
_SEPARATORS = re.compile(r"[\s().\-]")
_DIGITS = re.compile(r"^[0-9]+$")


class InvalidPhoneNumber(ValueError):
    """The text cannot be read as a phone number; the message says why, without repeating the number."""


def normalize_phone(text: str, default_country: str) -> str:
    """'(555) 123-4567' in the US -> '15551234567'; '+44 7700 900123' -> '447700900123'."""
    compact = _SEPARATORS.sub("", text.strip())
    if compact.startswith("+"):
        digits = compact[1:]
        international = True
    elif compact.startswith("00"):
        digits = compact[2:]
        international = True
    else:
        digits = compact
        international = False
    if not digits or not _DIGITS.match(digits):
        raise InvalidPhoneNumber("must be a phone number: digits, optionally with +, spaces, dots, dashes, brackets")
    if not international:
        if default_country not in COUNTRIES:
            raise InvalidPhoneNumber(
                f"must start with + and the country code (no national rules for {default_country})"
            )
        code, length = COUNTRIES[default_country]
        if code == "1" and len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]  # NANP numbers are often written with their country code but no +
        elif length is None and digits.startswith("0"):
            digits = digits[1:]  # the trunk prefix
        if length is not None and len(digits) != length:
            raise InvalidPhoneNumber(f"must have {length} digits in {default_country} (or start with +)")
        digits = code + digits
    if digits.startswith("0") or not 8 <= len(digits) <= 15:
        raise InvalidPhoneNumber("must be a country code and number of 8 to 15 digits in all")
    if digits.startswith("1") and (len(digits) != 11 or digits[1] in "01"):
        raise InvalidPhoneNumber("a +1 number has a 10-digit national number whose area code starts with 2-9")
    return digits
