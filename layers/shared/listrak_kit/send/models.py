"""What callers send and what they get back. No event or HTTP types here."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    model_validator,
)

RESEND_WINDOW_SECONDS = 30 * 24 * 3600
MESSAGE_NAME = r"^[a-z0-9][a-z0-9-]{0,63}$"
REFERENCE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces: safe in URLs and keys
INT32_MAX = 2_147_483_647


def _email(value: str) -> str:
    # email-validator implements the RFCs (quoted local parts, IDNA domains, the 64-character local part);
    # DNS checks are off.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False, allow_quoted_local=True, strict=True).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None


def _reference(value: str) -> str:
    if not REFERENCE.match(value):
        raise ValueError("must be 1 to 200 printable ASCII characters without spaces")
    return value


MAX_VALUE_CHARS = 100_000  # one profile field value; far above any Listrak field's maxLength


def text_problem(value: str) -> str | None:
    """Why a string cannot be sent to Listrak as it is, or None."""
    if len(value) > MAX_VALUE_CHARS:
        return f"at most {MAX_VALUE_CHARS} characters (got {len(value)})"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (it holds a lone surrogate)"
    return None


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


EmailAddress = Annotated[StrictStr, Field(max_length=254), AfterValidator(_email)]
Reference = Annotated[StrictStr, AfterValidator(_reference)]
FieldValue = Annotated[
    Any,
    BeforeValidator(_scalar),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
]
Id = Annotated[StrictInt, Field(gt=0, le=INT32_MAX)]


class SegmentationFieldValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segmentationFieldId: Id
    value: Annotated[StrictStr, AfterValidator(_text)]


class SendRequest(BaseModel):
    """A send, by catalog message name (`message`) or by raw Listrak IDs (`listId` + `transactionalMessageId`)."""

    model_config = ConfigDict(extra="forbid")

    emailAddress: EmailAddress
    message: Annotated[StrictStr, Field(pattern=MESSAGE_NAME)] | None = None
    listId: Id | None = None
    transactionalMessageId: Id | None = None
    fields: Annotated[dict[Annotated[str, Field(min_length=1, max_length=100)], FieldValue], Field(max_length=200)] = {}
    segmentationFieldValues: Annotated[list[SegmentationFieldValue], Field(max_length=200)] = []
    items: Annotated[list[dict[str, Any]], Field(max_length=500)] = []
    reference: Reference | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SendRequest:
        raw = (self.listId, self.transactionalMessageId)
        if self.message is not None and any(v is not None for v in raw):
            raise ValueError("give either message or listId + transactionalMessageId, not both")
        if self.message is None and not all(v is not None for v in raw):
            raise ValueError("give message (a catalog name) or both listId and transactionalMessageId")
        return self


class PreparedSend(BaseModel):
    """A send resolved against the catalog: exactly what goes to Listrak, plus the caller's reference."""

    reference: str
    message: str | None
    listId: int
    transactionalMessageId: int
    emailAddress: str
    segmentationFieldValues: list[dict[str, Any]]


class SendResult(BaseModel):
    reference: str
    status: Literal["sent", "unknown"]
    message: str | None
    listId: int
    transactionalMessageId: int
    resendKey: str | None
    sentAt: str
    resendableUntil: str


class ResendEntry(BaseModel):
    at: str
    toMasked: str
    status: Literal["resent", "unknown"]


class SendRecord(BaseModel):
    reference: str
    status: Literal["sent", "unknown"]
    message: str | None = None
    listId: int
    transactionalMessageId: int
    resendKey: str | None = None
    emailMasked: str
    emailFingerprint: str
    sentAt: str
    resendableUntil: str
    resendCount: int = 0
    resends: list[ResendEntry] = []
