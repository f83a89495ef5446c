"""The SMS API's transactional send: sender codes, phone lists, each number's state on a list, and the SMS sent.

Listrak sends a transactional SMS only to a number subscribed to the phone list; every other state is refused
with its own error code, and nothing is sent. The SMS API has no Activity and no resend.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from local_stack.sandbox.wire import ApiError, Reply, Request, invalid, malformed, route_int

# The states a number may be in on a phone list (Banned is the sender code's, but is set per list here too).
PHONE_STATES = ("Subscribed", "Unsubscribed", "OptedOut", "Pending", "Banned", "Suspended")
# State -> Listrak's refusal of a transactional SMS to a number in it. A number the list does not know is refused
# as not subscribed, like an opted-out one.
PHONE_REFUSALS = {
    "Unsubscribed": ("ERROR_PHONE_NUMBER_NOT_SUBSCRIBED", "The phoneNumber is not subscribed to the list."),
    "OptedOut": ("ERROR_PHONE_NUMBER_NOT_SUBSCRIBED", "The phoneNumber is not subscribed to the list."),
    "Pending": ("ERROR_PENDING_PHONE_NUMBER", "The phoneNumber is pending double opt-in on the list."),
    "Banned": ("ERROR_BANNED_PHONE_NUMBER", "The phoneNumber is banned from the sender code."),
    "Suspended": ("ERROR_PHONE_NUMBER_SUSPENDED", "The phoneNumber's service is temporarily suspended."),
}
# Digits only, with the country code, as Listrak stores numbers: "15551234567".
PHONE_NUMBER = re.compile(r"^[1-9][0-9]{7,14}$")
SMS_CONTENT_MAX_CHARS = 1_600  # ten concatenated segments; a longer text is refused
SMS_NOT_FOUND_MESSAGE = (
    "Unable to locate a resource associated with the phoneListId, transactionalMessageId, and SenderCodeId supplied."
)


@dataclass
class SmsSend:
    seq: int
    sender_code_id: int
    phone_list_id: int
    message_id: int
    phone_number: str
    content: str
    resource_id: str
    sent_at: float

    def public(self) -> dict[str, Any]:
        return {
            "senderCodeId": self.sender_code_id,
            "phoneListId": self.phone_list_id,
            "transactionalMessageId": self.message_id,
            "phoneNumber": self.phone_number,
            "messageContent": self.content,
            "resourceId": self.resource_id,
        }


class SmsAccount:
    """What the SMS account holds: configuration (kept across reset) and the SMS sent (cleared by it)."""

    def __init__(self) -> None:
        self.sender_codes: dict[int, bool] = {}  # senderCodeId -> enabled
        self.phone_lists: dict[tuple[int, int], bool] = {}  # (senderCodeId, phoneListId) -> active
        self.messages: set[tuple[int, int, int]] = set()  # (senderCodeId, phoneListId, transactionalMessageId)
        self.numbers: dict[tuple[int, int], dict[str, str]] = {}  # (senderCodeId, phoneListId) -> number -> state
        self.sent: list[SmsSend] = []


class SmsRoutes:
    """Mixed into ListrakSandbox: its lock, clock, counters and SMS account."""

    # -- configuration -------------------------------------------------------------------------------------

    def add_sms_message(
        self,
        sender_code_id: int,
        phone_list_id: int,
        transactional_message_id: int,
        *,
        sender_enabled: bool = True,
        list_active: bool = True,
    ) -> None:
        """A sender code, a phone list on it and a transactional SMS message on the list (each created if new)."""
        with self._lock:
            account = self._sms
            account.sender_codes[int(sender_code_id)] = sender_enabled
            account.phone_lists[(int(sender_code_id), int(phone_list_id))] = list_active
            account.messages.add((int(sender_code_id), int(phone_list_id), int(transactional_message_id)))

    def set_phone_state(self, sender_code_id: int, phone_list_id: int, phone_number: str, state: str) -> None:
        """A number's state on a phone list (one of PHONE_STATES); the list must exist."""
        if state not in PHONE_STATES:
            raise ValueError(f"state must be one of {PHONE_STATES}, not {state!r}")
        key = (int(sender_code_id), int(phone_list_id))
        with self._lock:
            if key not in self._sms.phone_lists:
                raise ValueError(f"no phone list {phone_list_id} on sender code {sender_code_id}")
            self._sms.numbers.setdefault(key, {})[phone_number] = state

    # -- observation ---------------------------------------------------------------------------------------

    def sms_count(self, phone_number: str, transactional_message_id: int | None = None) -> int:
        """How many SMS Listrak sent to the number (of one message, if given)."""
        with self._lock:
            return sum(
                1
                for sms in self._sms.sent
                if sms.phone_number == phone_number
                and (transactional_message_id is None or sms.message_id == int(transactional_message_id))
            )

    @property
    def sms_sent(self) -> list[dict[str, Any]]:
        with self._lock:
            return [sms.public() for sms in self._sms.sent]

    def _sms_counts(self) -> list[dict[str, Any]]:
        """SMS sent per (senderCodeId, phoneListId, transactionalMessageId, phoneNumber); lock held."""
        rows: dict[tuple[int, int, int, str], int] = {}
        for sms in self._sms.sent:
            key = (sms.sender_code_id, sms.phone_list_id, sms.message_id, sms.phone_number)
            rows[key] = rows.get(key, 0) + 1
        return [
            {
                "senderCodeId": sender,
                "phoneListId": phone_list,
                "transactionalMessageId": message,
                "phoneNumber": number,
                "count": count,
            }
            for (sender, phone_list, message, number), count in sorted(rows.items())
        ]

    # -- the route -----------------------------------------------------------------------------------------

    # POST /sms/v1/ShortCode/{SenderCodeId}/PhoneList/{phoneListId}/TransactionalMessage/{transactionalMessageId}
    #      /Message
    def _handle_sms_send(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "SMS")
        payload = self._json_body(request)
        if not isinstance(payload, dict):
            raise malformed("The request body must be a JSON object.")
        unknown = sorted(set(payload) - {"phoneNumber", "messageContent"})
        if unknown:
            raise malformed(f"The request body has unknown field(s): {', '.join(unknown)}.")
        sender, phone_list, message = (route_int(p) for p in params)
        if sender is None or phone_list is None or message is None:
            raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", SMS_NOT_FOUND_MESSAGE)
        with self._lock:
            account = self._sms
            enabled = account.sender_codes.get(sender)
            if enabled is None:
                raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", SMS_NOT_FOUND_MESSAGE)
            active = account.phone_lists.get((sender, phone_list))
            if active is None:
                raise ApiError(400, "ERROR_INVALID_LIST_ID", "The listId does not exist on the senderCodeId supplied.")
            if (sender, phone_list, message) not in account.messages:
                raise ApiError(
                    400,
                    "ERROR_TRANSACTIONAL_MESSAGE_NOT_FOUND",
                    "The transactionalMessageId does not exist on the listId supplied.",
                )
            if not enabled:
                raise ApiError(400, "ERROR_SENDER_CODE_DISABLED", "The sender code is disabled.")
            if not active:
                raise ApiError(400, "ERROR_LIST_INACTIVE", "The list is inactive.")

        number = payload.get("phoneNumber")
        if not isinstance(number, str) or not PHONE_NUMBER.match(number):
            raise ApiError(400, "ERROR_INVALID_PHONE_NUMBER", "The phoneNumber is in an invalid format.")
        content = payload.get("messageContent")
        if content is not None and not isinstance(content, str):
            raise invalid("The messageContent parameter must be a string.")
        if not content or not content.strip():
            raise ApiError(
                400, "ERROR_TRANSACTIONAL_MESSAGE_EMPTY_MESSAGE", "The transactional message content is empty."
            )
        if len(content) > SMS_CONTENT_MAX_CHARS:
            raise invalid(f"The messageContent parameter is longer than {SMS_CONTENT_MAX_CHARS} characters.")

        with self._lock:
            state = self._sms.numbers.get((sender, phone_list), {}).get(number, "Unsubscribed")
            if state in PHONE_REFUSALS:
                self._counters["sms_refused"] += 1
                raise ApiError(400, *PHONE_REFUSALS[state])
            self._sms_seq += 1
            sms = SmsSend(
                seq=self._sms_seq,
                sender_code_id=sender,
                phone_list_id=phone_list,
                message_id=message,
                phone_number=number,
                content=content,
                resource_id=str(uuid.uuid4()),
                sent_at=self._now(),
            )
            self._sms.sent.append(sms)
            self._counters["sms_sends"] += 1
        return Reply(201, {"status": 201, "resourceId": sms.resource_id})
