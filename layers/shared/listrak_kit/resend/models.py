"""Resend requests and answers. No event or HTTP types here."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr

from listrak_kit.core.delivery import Delivery
from listrak_kit.core.fields import EmailAddress, Id, Reference, StoredReference
from listrak_kit.core.send_record import Attempt, Channel, ResendEntry, SendStatus


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("must be a resendKey (a UUID)") from None


ResendKey = Annotated[StrictStr, AfterValidator(_uuid)]


class ResendBody(BaseModel):
    """`POST /messages/{reference}/resend` (the storefront key): to the original address. An `emailAddress`
    is accepted when it is the original; another address needs the support route."""

    model_config = ConfigDict(extra="forbid")

    emailAddress: EmailAddress | None = None


class RedirectBody(BaseModel):
    """`POST /support/messages/{reference}/redirect` (IAM): resend to another address, or (without one) to the
    original address, which is not stored and so cannot be given."""

    model_config = ConfigDict(extra="forbid")

    emailAddress: EmailAddress | None = None


class ResendByKeyBody(BaseModel):
    """`POST /resends`: by a resendKey obtained elsewhere."""

    model_config = ConfigDict(extra="forbid")

    listId: Id
    transactionalMessageId: Id
    resendKey: ResendKey
    emailAddress: EmailAddress | None = None


class PreparedResend(BaseModel):
    """Exactly what goes to Listrak, plus what the answer and the record need."""

    idempotencyKey: str | None
    reference: str | None
    listId: int
    transactionalMessageId: int
    resendKey: str
    emailAddress: str | None  # where Listrak forwards it; None for the original address
    credential: str  # who asked (for the history and the audit)
    redirected: bool  # emailAddress is another address than the original: charged against the allowance


class ResendResult(BaseModel):
    reference: str | None
    status: Literal["resent", "unknown"]
    resendCount: int | None
    resentAt: str


class MessageView(BaseModel):
    """`GET /messages/{reference}`: what was sent, when, to whom (masked), and what became of it since.

    status: `sending` (Listrak is being called), `pending` (its answer was ambiguous: being confirmed from
    Activity), `sent`, or `failed` (`failure` says why). `attempts` lists each call and how it was resolved.
    """

    reference: str
    status: SendStatus
    # "sms": `to` is the masked number, `listId` the phone list; `skipped` means no consent (`failure` says which).
    channel: Channel = "email"
    message: str | None
    listId: int
    transactionalMessageId: int
    to: str
    sentAt: str
    resendableUntil: str
    resendable: bool
    hasResendKey: bool
    resendCount: int
    resends: list[ResendEntry]
    attempts: list[Attempt]
    failure: str | None
    # What Listrak's Activity showed became of the email: `status` by precedence (bounced > complained >
    # unsubscribed > clicked > opened > sent; `unknown` before it was sent), and when each was first seen.
    delivery: Delivery


__all__ = [
    "MessageView",
    "PreparedResend",
    "RedirectBody",
    "Reference",
    "ResendBody",
    "ResendByKeyBody",
    "ResendResult",
    "StoredReference",
]
