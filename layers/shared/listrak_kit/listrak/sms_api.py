"""The SMS API call this project makes: one transactional SMS, with Listrak's refusals as typed errors.

The SMS API has no Activity and no resend: a send whose answer did not come back (ListrakOutcomeUnknown) cannot be
looked up afterwards, so the caller must never repeat it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from listrak_kit.listrak.authorized import AuthorizedListrak
from listrak_kit.listrak.errors import ListrakRejected

ConsentReason = Literal["not-subscribed", "pending", "banned", "suspended"]

# Listrak's answers for a number that may not be sent to: the number's own state on the list, never a fault.
CONSENT_CODES: dict[str, ConsentReason] = {
    "ERROR_PHONE_NUMBER_NOT_SUBSCRIBED": "not-subscribed",  # never subscribed, unsubscribed, or opted out
    "ERROR_PENDING_PHONE_NUMBER": "pending",  # double opt-in not confirmed
    "ERROR_BANNED_PHONE_NUMBER": "banned",
    "ERROR_PHONE_NUMBER_SUSPENDED": "suspended",
}
# Refusals of the target, not of the number: the catalog's (or caller's) IDs or the account need fixing.
TARGET_CODES = frozenset(
    {
        "ERROR_SENDER_CODE_DISABLED",
        "ERROR_LIST_INACTIVE",
        "ERROR_INVALID_LIST_ID",
        "ERROR_TRANSACTIONAL_MESSAGE_NOT_FOUND",
        "ERROR_UNABLE_TO_LOCATE_RESOURCE",
    }
)


class SmsNoConsent(ListrakRejected):
    """The number is not subscribed to the phone list (or is pending, banned or suspended): nothing was sent."""

    def __init__(self, error: ListrakRejected, reason: ConsentReason):
        super().__init__(str(error), status=error.status, code=error.code, detail=error.detail)
        self.reason = reason


class SmsInvalidNumber(ListrakRejected):
    """Listrak refused the phone number's format: nothing was sent."""


class SmsTargetRefused(ListrakRejected):
    """The sender code is disabled, the list inactive, or the list or message unknown: nothing was sent."""


@dataclass(frozen=True)
class SmsReceipt:
    resource_id: str | None


class SmsApi:
    def __init__(self, listrak: AuthorizedListrak):
        self._listrak = listrak

    def send_transactional(
        self,
        *,
        sender_code_id: int,
        phone_list_id: int,
        transactional_message_id: int,
        phone_number: str,
        message_content: str,
    ) -> SmsReceipt:
        """One SMS. ListrakOutcomeUnknown: it may have gone (never repeat); typed ListrakRejected: it did not."""
        try:
            answer = self._listrak.call(
                "POST",
                f"/v1/ShortCode/{sender_code_id}/PhoneList/{phone_list_id}/TransactionalMessage/"
                f"{transactional_message_id}/Message",
                json={"phoneNumber": phone_number, "messageContent": message_content},
                replay_safe=False,
                what="transactional SMS",
            )
        except ListrakRejected as exc:
            raise classified(exc) from exc
        body = answer.body if isinstance(answer.body, dict) else {}
        resource = body.get("resourceId")
        return SmsReceipt(resource_id=str(resource) if resource is not None else None)


def classified(exc: ListrakRejected) -> ListrakRejected:
    """Listrak's refusal as the typed error its code stands for (unchanged when the code is not an SMS one)."""
    code = exc.code or ""
    if code in CONSENT_CODES:
        return SmsNoConsent(exc, CONSENT_CODES[code])
    if code == "ERROR_INVALID_PHONE_NUMBER":
        return SmsInvalidNumber(str(exc), status=exc.status, code=code, detail=exc.detail)
    if code in TARGET_CODES:
        return SmsTargetRefused(str(exc), status=exc.status, code=code, detail=exc.detail)
    return exc
