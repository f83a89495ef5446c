"""A send as it is kept: one item per reference, written before Listrak is called and settled after.

The send path writes it (`sending`, then `sent`, `pending` or `failed`); the resend path reads and extends it.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel

from listrak_kit.errors import SendRecordUncertain

RESEND_WINDOW_SECONDS = 30 * 24 * 3600  # Listrak resends a transactional email for 30 days

# `unconfirmed`: Listrak's answer was ambiguous and Activity can neither confirm the send nor be trusted to show
# its absence. Alarmed, looked at again, settled by later Activity evidence or by an operator; never guessed.
# `skipped` (SMS only): the number has no consent (not subscribed, pending, banned, suspended); nothing was sent.
SendStatus = Literal["sending", "pending", "unconfirmed", "sent", "failed", "skipped"]
Channel = Literal["email", "sms"]
UNSETTLED = ("sending", "pending", "unconfirmed")


class ResendEntry(BaseModel):
    at: str
    toMasked: str
    status: Literal["resent", "unknown"]
    credential: str | None = None  # who asked: an API key's id, or the support principal's ARN (masked)
    redirected: bool = False  # to an address other than the original


class Attempt(BaseModel):
    """One call to Listrak's send route for this reference, and what became of it.

    outcome: `accepted` (Listrak answered 201), `ambiguous` (it may have acted: 500/502/504, no answer),
    `refused` (it proved it did nothing: 429/503 after retries), `in-flight` (no outcome recorded: the
    invocation ended first). resolvedBy, for an attempt whose answer did not settle it: `activity` (Listrak's
    Activity showed the send), `resend` (Activity did not show it, so the next attempt sent it), or `answer`.
    """

    n: int
    startedAt: str
    outcome: Literal["in-flight", "accepted", "ambiguous", "refused"] = "in-flight"
    detail: str | None = None
    resolvedBy: Literal["activity", "resend", "answer", "operator"] | None = None


class SendRecord(BaseModel):
    reference: str
    status: SendStatus
    message: str | None = None
    listId: int
    transactionalMessageId: int
    resendKey: str | None = None
    emailMasked: str
    emailFingerprint: str
    sentAt: str  # when the (latest) attempt was made
    resendableUntil: str
    resendCount: int = 0
    resends: list[ResendEntry] = []
    # Whether a resend may go to another address: the catalog's `redirect` flag when the send was made.
    # A record without it (made before the flag) is never redirected.
    redirectAllowed: bool = False
    # The catalog's `ambiguous = "send-again"` when the send was made: an unconfirmable outcome is sent once more.
    sendAgainIfUnsure: bool = False
    attempts: list[Attempt] = []
    failure: str | None = None
    # What Activity showed became of the email (listrak_kit.core.delivery): status -> first seen; only added to.
    deliverySeen: dict[str, str] = {}
    bounceReason: str | None = None
    deliveryNotified: dict[str, str] = {}  # status -> when the store's event for it was put on the bus
    # The state machine's own fields (never shown to callers):
    payloadHash: str | None = None
    payload: dict[str, Any] | None = None  # the address and values, kept only while the outcome is unknown
    attemptToken: str | None = None
    reconcileAt: int | None = None  # epoch seconds; present only while the send is sending or pending
    sendAgain: bool = False  # an operator said an unconfirmed send never went: the reconciler sends it once more
    # An SMS (channel "sms") keeps its number masked here (emailMasked is empty, emailFingerprint is the number's),
    # listId is its phone list, and it is never reconciled: the SMS API has no Activity (see sms/service.py).
    channel: Channel = "email"
    senderCodeId: int | None = None
    phoneMasked: str | None = None
    segments: int | None = None


class RecordWrites(Protocol):
    def begin(self, record: SendRecord) -> bool: ...

    def get(self, reference: str) -> SendRecord | None: ...


def begin_once(records: RecordWrites, record: SendRecord, *, what: str, left_behind: str) -> bool:
    """Write 1, for an email or an SMS alike. Its answer may be lost after DynamoDB applied it, so the record is
    read back before anything is said: a record left behind is acted on later ("nothing was sent" would be false).
    True: the record is this request's own; False: another request's; raises when nothing was written.
    `left_behind` says what becomes of a record whose write could not be confirmed (an email's is reconciled and
    may still go out once; an SMS's never goes)."""
    try:
        return records.begin(record)
    except Exception as exc:
        try:
            existing = records.get(record.reference)
        except Exception:
            raise SendRecordUncertain(
                f"storage did not confirm the record of {what} {record.reference!r}: {left_behind}; repeat the "
                "request with the same reference to learn its state"
            ) from exc
        if existing is None:
            raise  # not written: nothing was sent
        return existing.attemptToken == record.attemptToken  # ours: write 1 applied
