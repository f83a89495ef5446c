"""The Privacy API: a forget request is queued (201 with its id), then reads PROCESSING until the sandbox's clock
has moved `forget_delay_seconds` past its submission, and COMPLETE (with its processedDate) after."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from local_stack.sandbox.records import ForgetRequest
from local_stack.sandbox.wire import ApiError, Reply, Request, invalid, malformed

FORGET_KEYS = frozenset({"emailAddress", "phoneNumber"})
FORGET_NOT_FOUND_MESSAGE = "Unable to locate a resource associated with the requestId supplied."
_PHONE = re.compile(r"^\+?[0-9 ().-]{7,24}$")


def dotnet_date(epoch_seconds: float) -> str:
    """The spec's date-time as its examples spell it: no zone, no fraction (0001-01-01T00:00:00)."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


class PrivacyRoutes:
    """Mixed into ListrakSandbox: its lock, clock, counters and forget requests."""

    # POST /privacy/v1/Forget
    def _handle_forget(self, request: Request, _params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Privacy")
        payload = self._json_body(request)
        if not isinstance(payload, dict):
            raise malformed("The request body must be a JSON object.")
        unknown = sorted(set(payload) - FORGET_KEYS)
        if unknown:
            raise malformed(f"The request body has unknown field(s): {', '.join(unknown)}.")
        email, phone = payload.get("emailAddress"), payload.get("phoneNumber")
        if email is None and phone is None:
            raise invalid(
                "An invalid value was supplied for emailAddress; an emailAddress or a phoneNumber is required."
            )
        if email is not None and (not isinstance(email, str) or "@" not in email.strip()[1:-1]):
            raise invalid("An invalid value was supplied for emailAddress.")
        if phone is not None and (
            not isinstance(phone, str) or not _PHONE.match(phone.strip()) or sum(c.isdigit() for c in phone) < 7
        ):
            raise invalid("An invalid value was supplied for phoneNumber.")
        with self._lock:
            now = self._now()
            forget = ForgetRequest(str(uuid.uuid4()), email, phone, now, now + self.forget_delay_seconds)
            self._forgets[forget.request_id] = forget
            self._counters["forget_requests"] += 1
        return Reply(201, {"status": 201, "resourceId": forget.request_id})

    # GET /privacy/v1/Forget/{requestId}
    def _handle_forget_status(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Privacy")
        with self._lock:
            self._counters["forget_polls"] += 1
            forget = self._forgets.get(params[0].strip().lower())
            if forget is None:
                raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", FORGET_NOT_FOUND_MESSAGE)
            done = self._now() >= forget.completes_at
        data: dict[str, Any] = {
            "requestID": forget.request_id,
            "status": "COMPLETE" if done else "PROCESSING",
            "submittedDate": dotnet_date(forget.submitted_at),
            "processedDate": dotnet_date(forget.completes_at) if done else None,
        }
        return Reply(200, {"status": 200, "data": data})

    @property
    def forget_requests(self) -> list[dict[str, Any]]:
        """Every forget request Listrak received, with what it was asked to forget."""
        with self._lock:
            return [forget.public(self._now()) for forget in self._forgets.values()]
