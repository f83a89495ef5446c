"""What a privacy request looks like at the door and in the answers. No event or HTTP types here."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, model_validator

from listrak_kit.core.fields import EmailAddress
from listrak_kit.core.forgotten import MIN_PHONE_DIGITS, normal_phone

_PHONE = re.compile(r"^\+?[0-9 ().-]+$")
Kind = Literal["forget", "export", "shop", "lift"]
# received -> erasing (own data, page by page) -> polling (Listrak's request) -> complete
Status = Literal["received", "erasing", "polling", "complete"]


def _phone(value: str) -> str:
    text = value.strip()
    if not _PHONE.match(text) or not MIN_PHONE_DIGITS <= len(normal_phone(text)) <= 15:
        raise ValueError("must be a phone number: 7 to 15 digits, optionally with +, spaces, dashes, dots, brackets")
    return text


def _request_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("must be a requestId (a UUID)") from None


PhoneNumber = Annotated[StrictStr, Field(max_length=40), AfterValidator(_phone)]
RequestId = Annotated[StrictStr, AfterValidator(_request_id)]


class ForgetBody(BaseModel):
    """`POST /privacy/forget`: the person to forget, by address, phone number, or both."""

    model_config = ConfigDict(extra="forbid")

    emailAddress: EmailAddress | None = None
    phoneNumber: PhoneNumber | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> ForgetBody:
        if self.emailAddress is None and self.phoneNumber is None:
            raise ValueError("give an emailAddress, a phoneNumber, or both")
        return self


class PrivacyView(BaseModel):
    """A request as the audit shows it: who asked, when, how far it is; never the person's identifiers."""

    requestId: str
    kind: Kind
    status: Status
    requestedBy: str
    requestedAt: str
    identifiers: list[str]  # which kinds were given: emailAddress, phoneNumber
    listrakRequestId: str | None = None
    listrakStatus: str | None = None
    erasure: dict[str, Any] | None = None  # phase reached and what was erased so far
    lastError: str | None = None
    completedAt: str | None = None
    exportKey: str | None = None
    source: dict[str, Any] | None = None  # Shopify: shop domain, customer id, the webhook's ids

    @classmethod
    def of(cls, item: dict[str, Any]) -> PrivacyView:
        return cls.model_validate({k: v for k, v in item.items() if k in cls.model_fields})
