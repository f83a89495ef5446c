"""What callers send and what they get back. No event or HTTP types here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from listrak_kit.core.fields import MESSAGE_NAME, EmailAddress, FieldValue, Id, Reference, Text


class SegmentationFieldValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segmentationFieldId: Id
    value: Text


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
    """`sent`; `pending` (Listrak's answer did not say; it is being reconciled); `failed` (with why)."""

    reference: str
    status: Literal["sending", "pending", "unconfirmed", "sent", "failed"]
    message: str | None
    listId: int
    transactionalMessageId: int
    resendKey: str | None
    sentAt: str | None
    resendableUntil: str | None
    attempts: int = 1
    failure: str | None = None
