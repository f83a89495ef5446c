"""A send as it is kept for resends: written by the send path, read and extended by the resend path."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

RESEND_WINDOW_SECONDS = 30 * 24 * 3600  # Listrak resends a transactional email for 30 days


class ResendEntry(BaseModel):
    at: str
    toMasked: str
    status: Literal["resent", "unknown"]
    credential: str | None = None  # who asked: an API key's id, or the support principal's ARN (masked)
    redirected: bool = False  # to an address other than the original


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
    # Whether a resend may go to another address: the catalog's `redirect` flag when the send was made.
    # A record without it (made before the flag) is never redirected.
    redirectAllowed: bool = False
