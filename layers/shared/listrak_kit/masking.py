"""Keep personal data out of logs and records: addresses and phone numbers are masked or hashed, never stored
whole."""

from __future__ import annotations

import hashlib
import logging
import re

# Anything shaped like an address, wherever it sits in a line: plain, URL-encoded (`%40`, as in a query string,
# a path or a connection error's URL), with a quoted local part, with Unicode letters. It is masked whole: "/ ' = &
# ?" may all stand in a local part, so they do not end it before an "@" (a reference `x/y@example.com` is one
# address). Before a `%40` the address is URL-encoded, its own "/ = & ?" with it, so there they are the URL's and
# end the local part: `forwardAddress=j***%40example.com` keeps its name.
_ATEXT = r"[\w.!#$%*+^`{|}~'/=&?-]"
_ATEXT_ENCODED = r"[\w.!#$%*+^`{|}~'-]"
_QUOTED = r"\\?\"[^\"\r\n]{1,64}?\\?\""
_DOMAIN = r"(?P<domain>[\w-]+(?:\.[\w-]+)+)"
_LOCAL = rf"{_QUOTED}(?=@|%40)|{_ATEXT}+(?=@)|{_ATEXT_ENCODED}+(?=%40)"
# An unquoted local part is matched from the start of its run only (the lookbehinds), so a long run of such
# characters costs one scan, not one per position; ...
# An assumed role's ARN ends in its session name, often the person's address; neither the role nor the session
# name can hold a "/", so the address is whole after the role's, and the role stays readable for the audit.
_ROLE = r"(?P<role>:assumed-role/[\w+=,.@-]{1,128}/)"
ADDRESS = re.compile(
    rf"(?:{_ROLE}(?P<session>[\w+=,.*-]+(?=@))|(?P<local>{_QUOTED}(?=@|%40)|(?<!{_ATEXT}){_ATEXT}+(?=@)"
    rf"|(?<!{_ATEXT_ENCODED}){_ATEXT_ENCODED}+(?=%40)))(?P<at>@|%40){_DOMAIN}"
)
# ... or right where the previous address ends, as in `?to=a@example.com&cc=b@example.com`.
ADJACENT_ADDRESS = re.compile(rf"(?P<local>{_LOCAL})(?P<at>@|%40){_DOMAIN}")


def mask_email(address: str) -> str:
    """'jane.doe@example.com' -> 'j***@example.com'. Enough to recognise a typo, not to mail anyone."""
    local, sep, domain = address.rpartition("@")
    if not sep or not local:
        return "***"
    return f"{local[0]}***@{domain}"


# A phone number, wherever it sits in a line: `+` and 8 to 15 digits (single spaces, dots, dashes or brackets
# between them); a North American number written as one ("(555) 123-4567", "555-123-4567"); or a bare run of 11
# to 15 digits (a number with its country code, as Listrak takes it). No letter, digit, dot, dash or colon may
# touch a bare run, so dates, times, versions, identifiers and 32-bit limits (ten digits) are left alone.
PHONE = re.compile(
    r"(?<![\w+])\+\(?\d(?:[ .()-]{0,2}\d){7,14}(?!\w)"
    r"|(?<![\w.:-])\(?\d{3}\)?[ .-]{1,2}\d{3}[ .-]\d{4}(?![\w.:-])"
    r"|(?<![\w.:-])\d{11,15}(?![\w.:-])",
    re.ASCII,
)


def mask_phone(number: str) -> str:
    """'15551234567' -> '***67'. The last two digits tell two numbers of one customer apart, nothing more."""
    digits = [c for c in number if c.isdigit()]
    return "***" + "".join(digits[-2:]) if len(digits) >= 2 else "***"


def mask_addresses(text: str) -> str:
    """Every address in `text` masked as mask_email does, and every phone number as mask_phone does."""
    if "@" in text or "%40" in text:
        parts, pos = [], 0
        while match := ADDRESS.search(text, pos):
            parts += [text[pos : match.start()], _mask_match(match)]
            pos = match.end()
            while adjacent := ADJACENT_ADDRESS.match(text, pos):
                parts.append(_mask_match(adjacent))
                pos = adjacent.end()
        parts.append(text[pos:])
        text = "".join(parts)
    return PHONE.sub(lambda match: mask_phone(match.group(0)), text)


def _mask_match(match: re.Match[str]) -> str:
    if match.re is ADDRESS and match["role"]:
        return f"{match['role']}{match['session'][0]}***{match['at']}{match['domain']}"
    local = match["local"].lstrip('\\"') or "*"
    return f"{local[0]}***{match['at']}{match['domain']}"


def mask_exception(exc: BaseException) -> BaseException:
    """Masks the addresses in an exception's messages (and its causes'), in place, so that whoever logs it
    (Lambda's runtime logs an uncaught exception) logs no whole address."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(mask_addresses(a) if isinstance(a, str) else a for a in current.args)
        current = current.__cause__ or current.__context__
    return exc


def masked_error(exc: BaseException) -> BaseException:
    """`exc` with every address in its message masked: itself (masked in place) when its message comes from its
    args, else a stand-in of the same class name (pydantic's ValidationError renders its inputs itself)."""
    mask_exception(exc)
    text = str(exc)
    masked = mask_addresses(text)
    if masked == text:
        return exc
    stand_in = type(type(exc).__name__, (Exception,), {"__module__": type(exc).__module__})
    return stand_in(masked).with_traceback(exc.__traceback__)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """A standard-library log record with its rendered message and traceback masked (botocore, urllib3...)."""
    if isinstance(record.msg, str) or record.args:  # a dict message (structured) is left to the formatter
        record.msg = mask_addresses(record.getMessage())
        record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_addresses(record.exc_text)
    return record


def phone_fingerprint(number: str) -> str:
    """A stable SHA-256 of a normalised number (digits only), so that a record never holds the number itself."""
    return hashlib.sha256(f"tel:{number}".encode()).hexdigest()


def email_fingerprint(address: str) -> str:
    """A stable SHA-256 of the normalised address, used to match Listrak activity rows without storing it."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()
