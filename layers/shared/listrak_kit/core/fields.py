"""Field types and text rules shared by every path: what a valid address, reference, ID and value are."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, StrictStr, WithJsonSchema

from listrak_kit.errors import FieldProblem

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
MESSAGE_NAME = r"^[a-z0-9][a-z0-9-]{0,63}$"
# Printable ASCII without spaces: safe in keys, and in a URL once percent-encoded ("/" as %2F). "." and ".."
# are refused: clients and gateways resolve them as path segments, so no URL could reach them.
REFERENCE = re.compile(r"^(?!\.{1,2}$)[\x21-\x7e]{1,200}$")  # used with fullmatch
STORED_REFERENCE = re.compile(r"[\x21-\x7e]{1,200}\n?")
REFERENCE_FORM = "must be 1 to 200 printable ASCII characters without spaces (not '.' or '..')"
MAX_VALUE_CHARS = 100_000  # one profile field value; far above any Listrak field's maxLength
# The everyday address, which email-validator accepts and leaves exactly as it is: a dot-atom of letters, digits
# and _+- before the @; lower-case labels without "--" after it, ending in a top-level domain of letters that is
# not reserved (RFC 6761's and the like). Anything else goes to email-validator to decide and normalise.
_PLAIN_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?=.{1,253}$)(?:(?!-)(?:(?!--)[a-z0-9-]){1,63}(?<!-)\.)+"
    r"(?!(?:arpa|invalid|local|localhost|onion|test)$)[a-z]{2,63}"
)


def normalized_email(value: str) -> str:
    """The address as email-validator normalises it; ValueError says why it is not one."""
    # email-validator implements the RFCs (quoted local parts, IDNA domains, the 64-character local part);
    # DNS checks are off. It takes some tens of microseconds an address: the plain ones skip it.
    if len(value) <= 254 and _PLAIN_EMAIL.fullmatch(value):
        return value
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False, allow_quoted_local=True, strict=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None


def text_problem(value: str) -> str | None:
    """Why a string cannot be sent to Listrak as it is, or None."""
    if len(value) > MAX_VALUE_CHARS:
        return f"at most {MAX_VALUE_CHARS} characters (got {len(value)})"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (it holds a lone surrogate)"
    return None


MAX_NESTING = 64  # levels of objects and arrays in one event: far more than any Klaviyo or Shopify payload holds


def nesting_problem(value: Any, limit: int = MAX_NESTING) -> str | None:
    """Why a JSON document is too deep to be handled (every recursive walker would fail on it), or None."""
    level = [value]
    for _ in range(limit + 1):
        level = [
            child
            for node in level
            if isinstance(node, (dict, list))
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        if not level:
            return None
    return f"nested deeper than {limit} levels"


def reference_of(reference: str | None, idempotency_key: str | None, problems: list[FieldProblem]) -> str:
    """A send's reference: the body's, else the Idempotency-Key header's, else a new one. A header that differs
    from the body's reference, or is not a valid reference, is added to `problems` (as a FieldProblem)."""
    if reference and idempotency_key and reference != idempotency_key:
        problems.append(FieldProblem("reference", "differs from the Idempotency-Key header"))
    elif idempotency_key is not None and not REFERENCE.fullmatch(idempotency_key):
        problems.append(FieldProblem("Idempotency-Key", REFERENCE_FORM))
    return reference or idempotency_key or f"auto-{uuid.uuid4()}"


def as_text(value: Any) -> str:
    """A scalar as Listrak reads it in a text field: booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _reference(value: str) -> str:
    if not REFERENCE.fullmatch(value):
        raise ValueError(REFERENCE_FORM)
    return value


def _stored_reference(value: str) -> str:
    if not STORED_REFERENCE.fullmatch(value):
        raise ValueError(f"no send can have this reference: it {REFERENCE_FORM}")
    return value


def _scalar(value: Any) -> Any:
    if not isinstance(value, (str, int, float, bool)):
        raise ValueError("must be a string, a number or a boolean")
    if isinstance(value, str) and (problem := text_problem(value)):
        raise ValueError(problem)
    return value


def _text(value: str) -> str:
    if problem := text_problem(value):
        raise ValueError(problem)
    return value


EmailAddress = Annotated[StrictStr, Field(max_length=254), AfterValidator(normalized_email)]
Reference = Annotated[StrictStr, AfterValidator(_reference)]
# A reference as the read and resend routes take it: whatever could have been stored. The send-time rule was
# once checked with `match`, which let a trailing newline through; such records stay reachable.
StoredReference = Annotated[StrictStr, AfterValidator(_stored_reference)]
Text = Annotated[StrictStr, AfterValidator(_text)]
FieldValue = Annotated[
    Any,
    BeforeValidator(_scalar),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
]
Id = Annotated[StrictInt, Field(gt=0, le=INT32_MAX)]
