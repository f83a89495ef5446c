"""What callers send for an SMS and what they get back. No event or HTTP types here."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from listrak_kit.core.fields import MESSAGE_NAME, FieldValue, Id, Reference, Text
from listrak_kit.core.send_record import SendStatus


class SmsRequest(BaseModel):
    """An SMS, by catalog message name (`message` and `fields`), or raw (`senderCodeId`, `phoneListId`,
    `transactionalMessageId` and the `messageContent` itself)."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal["sms"] | None = None
    phoneNumber: Annotated[StrictStr, Field(min_length=1, max_length=40)]
    message: Annotated[StrictStr, Field(pattern=MESSAGE_NAME)] | None = None
    fields: Annotated[dict[Annotated[str, Field(min_length=1, max_length=100)], FieldValue], Field(max_length=50)] = {}
    senderCodeId: Id | None = None
    phoneListId: Id | None = None
    transactionalMessageId: Id | None = None
    messageContent: Annotated[Text, Field(min_length=1, max_length=1600)] | None = None
    reference: Reference | None = None

    @model_validator(mode="after")
    def _one_target(self) -> SmsRequest:
        raw = (self.senderCodeId, self.phoneListId, self.transactionalMessageId, self.messageContent)
        if self.message is not None and any(v is not None for v in raw):
            raise ValueError("give either message or senderCodeId + phoneListId + transactionalMessageId, not both")
        if self.message is None and not all(v is not None for v in raw):
            raise ValueError(
                "give message (a catalog SMS name) or all of senderCodeId, phoneListId, transactionalMessageId and "
                "messageContent"
            )
        return self


class PreparedSms(BaseModel):
    """An SMS resolved against the catalog: exactly what goes to Listrak, plus the caller's reference."""

    reference: str
    message: str | None
    senderCodeId: int
    phoneListId: int
    transactionalMessageId: int
    phoneNumber: str  # normalised: country code and digits
    messageContent: str
    segments: int


class SmsResult(BaseModel):
    """`sent`; `skipped` (no consent: `reason`); `unconfirmed` (Listrak's answer did not say, and the SMS API cannot
    be asked: it is never sent again); `sending` (another request holds it right now)."""

    reference: str
    channel: Literal["sms"] = "sms"
    status: SendStatus
    message: str | None
    senderCodeId: int | None
    phoneListId: int
    transactionalMessageId: int
    to: str | None
    segments: int | None
    sentAt: str | None
    reason: str | None = None
    failure: str | None = None
