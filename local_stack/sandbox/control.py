"""The /_sandbox/... control routes: no auth, not counted, no faults."""

from __future__ import annotations

import json
import socket
from typing import Any

from local_stack.sandbox.wire import (
    ApiError,
    Reply,
    Request,
    error_reply,
    invalid,
    malformed,
)

CONTROL_ROUTES: dict[str, dict[str, str]] = {
    "stats": {"GET": "_control_stats"},
    "counts": {"GET": "_control_counts"},
    "advance": {"POST": "_control_advance"},
    "sends": {"GET": "_control_sends"},
    "resends": {"GET": "_control_resends"},
    "data": {"GET": "_control_data"},
    "faults": {"POST": "_control_faults"},
    "revoke": {"POST": "_control_revoke"},
    "reset": {"POST": "_control_reset"},
    "clients": {"POST": "_control_clients"},
    "messages": {"POST": "_control_messages"},
    "contacts": {"GET": "_control_contacts"},
    "forgets": {"GET": "_control_forgets"},
    "sms": {"GET": "_control_sms_sent", "POST": "_control_sms"},
    "activity": {"POST": "_control_activity"},
}


class ControlRoutes:
    """Mixed into ListrakSandbox."""

    # -- control routes (no auth, not counted, no faults) --------------------------------------------------

    def _serve_control(self, request: Request) -> Reply:
        if request.body is None:
            return error_reply(404, "ERROR_UNKNOWN_ROUTE", "Not Found")
        name = request.path[len("/_sandbox/") :].strip("/")
        methods = CONTROL_ROUTES.get(name)
        if methods is None:
            return error_reply(404, "ERROR_UNKNOWN_ROUTE", "The requested route does not exist.")
        handler_name = methods.get(request.method)
        if handler_name is None:
            return error_reply(
                405,
                "ERROR_UNSUPPORTED_METHOD",
                f"The requested resource does not support the HTTP method '{request.method}'.",
                [("Allow", ", ".join(methods))],
            )
        try:
            return getattr(self, handler_name)(request)
        except ApiError as exc:
            return exc.reply

    @staticmethod
    def _control_json(request: Request) -> dict[str, Any]:
        try:
            payload = json.loads((request.body or b"{}").decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise malformed() from None
        if not isinstance(payload, dict):
            raise malformed("The request body must be a JSON object.")
        return payload

    def _control_stats(self, _request: Request) -> Reply:
        return Reply(200, self.stats)

    def _control_counts(self, _request: Request) -> Reply:
        return Reply(200, self.counts)

    def _control_advance(self, request: Request) -> Reply:
        payload = self._control_json(request)
        try:
            self.advance(payload.get("seconds", 0))
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return Reply(200, {"status": 200})

    def _control_sends(self, _request: Request) -> Reply:
        return Reply(200, self.sent_messages)

    def _control_resends(self, _request: Request) -> Reply:
        return Reply(200, self.resends)

    def _control_data(self, _request: Request) -> Reply:
        return Reply(200, self.data_imports)

    def _control_faults(self, request: Request) -> Reply:
        payload = self._control_json(request)
        try:
            self.inject(
                payload.get("route", ""),
                payload.get("fault", ""),
                times=payload.get("times", 1),
                delay=payload.get("delay", 0.0),
                retry_after=payload.get("retryAfter", payload.get("retry_after")),
            )
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return Reply(200, {"status": 200})

    def _control_revoke(self, _request: Request) -> Reply:
        self.revoke_tokens()
        return Reply(200, {"status": 200})

    def _control_reset(self, _request: Request) -> Reply:
        self.reset()
        return Reply(200, {"status": 200})

    def _control_clients(self, request: Request) -> Reply:
        payload = self._control_json(request)
        client_id, client_secret = payload.get("clientId"), payload.get("clientSecret")
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise invalid("clientId and clientSecret must be strings.")
        try:
            self.add_client(client_id, client_secret, payload.get("integration", ""))
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return Reply(200, {"status": 200})

    def _control_messages(self, request: Request) -> Reply:
        payload = self._control_json(request)
        list_id, message_id = payload.get("listId"), payload.get("transactionalMessageId")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (list_id, message_id)):
            raise invalid("listId and transactionalMessageId must be integers.")
        fields = payload.get("fields")  # optional {"segmentationFieldId": maxLength}
        try:
            checked = None if fields is None else {int(k): int(v) for k, v in dict(fields).items()}
            self.add_transactional_message(list_id, message_id, checked)
        except (TypeError, ValueError) as exc:
            raise invalid(f"fields must map segmentationFieldIds to positive maxLengths: {exc}") from None
        return Reply(200, {"status": 200})

    def _control_sms_sent(self, _request: Request) -> Reply:
        return Reply(200, self.sms_sent)

    def _control_sms(self, request: Request) -> Reply:
        """{senderCodeId, phoneListId, transactionalMessageId?, senderEnabled?, listActive?} adds or changes an SMS
        message's sender code and list; {senderCodeId, phoneListId, phoneNumber, state} sets a number's state."""
        payload = self._control_json(request)
        sender, phone_list = payload.get("senderCodeId"), payload.get("phoneListId")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (sender, phone_list)):
            raise invalid("senderCodeId and phoneListId must be integers.")
        try:
            if "phoneNumber" in payload:
                self.set_phone_state(sender, phone_list, str(payload["phoneNumber"]), str(payload.get("state")))
            else:
                message = payload.get("transactionalMessageId")
                if not isinstance(message, int) or isinstance(message, bool):
                    raise ValueError("transactionalMessageId must be an integer")
                self.add_sms_message(
                    sender,
                    phone_list,
                    message,
                    sender_enabled=payload.get("senderEnabled", True) is True,
                    list_active=payload.get("listActive", True) is True,
                )
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return Reply(200, {"status": 200})

    def _control_activity(self, request: Request) -> Reply:
        """{"emailAddress", "kind": bounce|open|click|unsubscribe|abuse, "bounceReason"?, "listId"?,
        "transactionalMessageId"?}: the latest such send to that address shows that activity from now on."""
        payload = self._control_json(request)
        email, kind = payload.get("emailAddress"), payload.get("kind")
        list_id, message_id = payload.get("listId"), payload.get("transactionalMessageId")
        reason = payload.get("bounceReason")
        if not isinstance(email, str) or not isinstance(kind, str):
            raise invalid("emailAddress and kind must be strings.")
        if any(v is not None and (not isinstance(v, int) or isinstance(v, bool)) for v in (list_id, message_id)):
            raise invalid("listId and transactionalMessageId must be integers.")
        if reason is not None and not isinstance(reason, str):
            raise invalid("bounceReason must be a string.")
        try:
            resend_key = self.mark_activity(
                email, kind, bounce_reason=reason, list_id=list_id, transactional_message_id=message_id
            )
        except ValueError as exc:
            raise invalid(str(exc)) from None
        return Reply(200, {"status": 200, "resendKey": resend_key})

    def _control_contacts(self, _request: Request) -> Reply:
        return Reply(200, self.contacts)  # JSON turns the integer keys (listId, fieldId) into strings

    def _control_forgets(self, _request: Request) -> Reply:
        return Reply(200, self.forget_requests)

    # -- connection bookkeeping ----------------------------------------------------------------------------

    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)
