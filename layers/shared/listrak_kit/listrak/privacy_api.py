"""Listrak's Privacy API: queue a forget request for an address and/or a phone number, and read its status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from listrak_kit.listrak.authorized import AuthorizedListrak
from listrak_kit.listrak.errors import ListrakError

PROCESSING = "PROCESSING"
COMPLETE = "COMPLETE"


@dataclass(frozen=True)
class ForgetStatus:
    request_id: str
    status: str  # PROCESSING or COMPLETE (anything else is kept as Listrak spelt it)
    submitted: str | None
    processed: str | None

    @property
    def complete(self) -> bool:
        return self.status.upper() == COMPLETE


class PrivacyApi:
    def __init__(self, listrak: AuthorizedListrak):
        self._listrak = listrak

    def forget(self, *, email_address: str | None, phone_number: str | None) -> str:
        """Queues a forget request; returns Listrak's requestId.

        Replay-safe: a repeated forget of the same person asks Listrak to forget what it has already forgotten,
        so an ambiguous answer (a read timeout, a 500) is retried rather than left unknown.
        """
        body: dict[str, Any] = {}
        if email_address is not None:
            body["emailAddress"] = email_address
        if phone_number is not None:
            body["phoneNumber"] = phone_number
        answer = self._listrak.call("POST", "/v1/Forget", json=body, replay_safe=True, what="forget request")
        data = answer.body if isinstance(answer.body, dict) else {}
        resource = data.get("resourceId")
        if not resource or resource == "null":
            raise ListrakError("forget request: Listrak answered without a requestId", status=answer.status)
        return str(resource)

    def status(self, request_id: str) -> ForgetStatus:
        answer = self._listrak.call(
            "GET", f"/v1/Forget/{quote(request_id, safe='')}", replay_safe=True, what="forget request status"
        )
        envelope = answer.body if isinstance(answer.body, dict) else {}
        found = envelope.get("data")
        data: dict[str, Any] = found if isinstance(found, dict) else {}
        return ForgetStatus(
            request_id=str(data.get("requestID") or request_id),
            status=str(data.get("status") or ""),
            submitted=data.get("submittedDate"),
            processed=data.get("processedDate"),
        )
