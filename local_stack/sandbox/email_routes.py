"""The Email API's transactional routes: send, resend and Activity."""

from __future__ import annotations

import math
import secrets
import uuid

from local_stack.sandbox.records import Send
from local_stack.sandbox.wire import (
    ACTIVITY_DEFAULT_COUNT,
    ACTIVITY_MAX_COUNT,
    DIGITS,
    LIST_NOT_FOUND_MESSAGE,
    RESEND_NOT_FOUND_MESSAGE,
    SEND_NOT_FOUND_MESSAGE,
    UNAUTHORIZED_MESSAGE,
    ApiError,
    Reply,
    Request,
    field_values,
    invalid,
    iso,
    local_iso,
    malformed,
    parse_when,
    route_int,
)

# Activity's flags, as its rows name them; `activityType` takes one of them (Listrak does not document its values:
# the sandbox takes the row's own names, any case, and refuses others).
ACTIVITY_KINDS = ("abuse", "bounce", "click", "open", "read", "unsubscribe")


class EmailRoutes:
    """Mixed into ListrakSandbox: its lock, clock, counters and sends."""

    def mark_activity(
        self,
        email: str,
        kind: str,
        *,
        bounce_reason: str | None = None,
        list_id: int | None = None,
        transactional_message_id: int | None = None,
    ) -> str:
        """The latest send to `email` (of that message, if given) shows `kind` from now on (its first time is kept;
        a click counts again). Returns the send's resendKey."""
        if kind not in ACTIVITY_KINDS:
            raise ValueError(f"kind must be one of {', '.join(ACTIVITY_KINDS)}, not {kind!r}")
        with self._lock:
            matching = [
                s
                for s in self._sends
                if s.email.lower() == email.strip().lower()
                and list_id in (None, s.list_id)
                and transactional_message_id in (None, s.message_id)
            ]
            if not matching:
                raise ValueError("no send to that address (of that message) is known")
            send = max(matching, key=lambda s: (s.sent_at, s.seq))
            send.activity.setdefault(kind, self._now())
            if kind == "click":
                send.click_count += 1
            if kind == "bounce":
                send.bounce_reason = send.bounce_reason or bounce_reason or "Unknown"
            return send.resend_key

    def _locate(self, params: tuple[str, ...], not_found_message: str) -> tuple[int, int]:
        list_id, message_id = route_int(params[0]), route_int(params[1])
        with self._lock:
            known = (list_id, message_id) in self._messages
        if list_id is None or message_id is None or not known:
            raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", not_found_message)
        return list_id, message_id

    # GET /email/v1/List/{listId}/TransactionalMessage
    def _handle_messages(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        list_id = route_int(params[0])
        with self._lock:
            ids = sorted(m for (lid, m) in self._messages if lid == list_id)
            known = list_id is not None and (bool(ids) or list_id in self._lists)
        if not known:
            raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", LIST_NOT_FOUND_MESSAGE)
        return Reply(200, {"status": 200, "data": [_message_view(m) for m in ids]})

    # GET /email/v1/List/{listId}/TransactionalMessage/{transactionalMessageId}
    def _handle_message(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        _, message_id = self._locate(params, SEND_NOT_FOUND_MESSAGE)
        return Reply(200, {"status": 200, "data": _message_view(message_id)})

    # POST /email/v1/List/{listId}/TransactionalMessage/{transactionalMessageId}/Message
    def _handle_send(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        payload = self._json_body(request)
        if not isinstance(payload, dict):
            raise malformed("The request body must be a JSON object.")
        unknown = sorted(set(payload) - {"emailAddress", "segmentationFieldValues"})
        if unknown:
            raise malformed(f"The request body has unknown field(s): {', '.join(unknown)}.")
        list_id, message_id = self._locate(params, SEND_NOT_FOUND_MESSAGE)

        email = payload.get("emailAddress")
        if not isinstance(email, str) or not email.strip() or "@" not in email:
            raise invalid("The emailAddress parameter is missing or is not a valid email address.")
        pairs = field_values(payload.get("segmentationFieldValues", []))  # optional in the spec
        with self._lock:
            known_fields = self._messages.get((list_id, message_id))
        if known_fields is not None:
            for field_id, value in pairs:
                if field_id not in known_fields:
                    raise invalid(f"The segmentationFieldId {field_id} is not a profile field of list {list_id}.")
                if len(value) > known_fields[field_id]:
                    raise invalid(
                        f"The value of profile field {field_id} is longer than its maximum length of "
                        f"{known_fields[field_id]}."
                    )
        fields = [{"segmentationFieldId": k, "value": v} for k, v in pairs]

        with self._lock:
            now = self._now()
            self._send_seq += 1
            dated_at = now + self.send_date_lag_seconds + self.clock_offset_seconds
            delay = self.activity_delay_draw() if self.activity_delay_draw else self.activity_delay_seconds
            send = Send(
                seq=self._send_seq,
                list_id=list_id,
                message_id=message_id,
                email=email,
                fields=fields,
                resend_key=str(uuid.uuid4()),
                sent_at=now,
                send_date=local_iso(dated_at, self.send_date_zone),
                dated_at=dated_at,
                visible_at=now + delay,
            )
            self._sends.append(send)
            self._sends_by_key[send.resend_key] = send
            self._counters["sends"] += 1
        resource_id = send.resend_key if self.resend_key_in_send_response else "null"
        return Reply(201, {"status": 201, "resourceId": resource_id})

    # POST /email/v1/List/{listId}/TransactionalMessage/{transactionalMessageId}/Resend/{resendKey}
    def _handle_resend(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        list_id, message_id = self._locate(params, RESEND_NOT_FOUND_MESSAGE)
        forward = request.query.get("forwardAddress")
        if forward is not None and "@" not in forward:
            raise invalid("The forwardAddress parameter is not a valid email address.")
        with self._lock:
            now = self._now()
            send = self._sends_by_key.get(params[2].strip().lower())
            if (
                send is None
                or (send.list_id, send.message_id) != (list_id, message_id)
                or now - send.sent_at > self.resend_window_seconds
            ):
                raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", RESEND_NOT_FOUND_MESSAGE)
            self._resends.append(
                {
                    "listId": list_id,
                    "transactionalMessageId": message_id,
                    "resendKey": send.resend_key,
                    "emailAddress": forward if forward is not None else send.email,
                    "resendDate": iso(now),
                }
            )
            self._counters["resends"] += 1
        return Reply(201, {"status": 201, "resourceId": str(uuid.uuid4())})

    # GET /email/v1/List/{listId}/TransactionalMessage/{transactionalMessageId}/Activity
    def _handle_activity(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        with self._lock:
            self._counters["activity_requests"] += 1
        if self.activity_refused_status is not None:
            raise ApiError(self.activity_refused_status, "ERROR_UNAUTHORIZED", UNAUTHORIZED_MESSAGE)
        list_id, message_id = self._locate(params, SEND_NOT_FOUND_MESSAGE)
        query = request.query

        email = query.get("emailAddress")
        email = email.strip().lower() if email and email.strip() else None
        start = parse_when("startDate", query["startDate"], end=False) if query.get("startDate") else None
        end = parse_when("endDate", query["endDate"], end=True) if query.get("endDate") else None
        date_type = (query.get("dateType") or "Send").strip().lower()
        if (query.get("dateType") or "Send") not in ("Send", "Activity"):
            raise invalid("The dateType parameter must be Send or Activity.")
        activity_type = (query.get("activityType") or "").strip().lower() or None
        if activity_type is not None and activity_type not in ACTIVITY_KINDS:
            raise invalid(f"The activityType parameter must be one of {', '.join(ACTIVITY_KINDS)}.")
        raw_count = (query.get("count") or str(ACTIVITY_DEFAULT_COUNT)).strip()
        count = int(raw_count) if DIGITS.match(raw_count) else 0
        if not 1 <= count <= ACTIVITY_MAX_COUNT:
            raise invalid(f"The count parameter must be an integer from 1 to {ACTIVITY_MAX_COUNT}.")
        cursor = (query.get("cursor") or "Start").strip()

        with self._lock:
            after: tuple[float, int] | None = None
            if cursor != "Start":
                saved = self._cursors.get(cursor)
                if saved is None or saved[:2] != (list_id, message_id):
                    raise invalid("The cursor parameter is invalid.")
                after = saved[2]
            now = self._now()
            rows = []
            for send in sorted(self._sends, key=lambda s: (s.sent_at, s.seq)):
                if (send.list_id, send.message_id) != (list_id, message_id):
                    continue
                if now < send.visible_at:
                    continue  # not visible yet
                if after is not None and (send.sent_at, send.seq) <= after:
                    continue
                if email is not None and send.email.lower() != email:
                    continue
                if activity_type is not None and not self._shows(send, activity_type, now):
                    continue
                if date_type == "activity":
                    first = self._first_activity(send, now)
                    if first is None and (start is not None or end is not None):
                        continue  # no activity, so no activityDate in range
                    dated = first + self.clock_offset_seconds if first is not None else send.dated_at
                else:
                    dated = send.dated_at
                second = math.floor(dated)  # dates have whole seconds; filter on what is shown
                if (start is not None and second < start) or (end is not None and second > end):
                    continue
                rows.append(send)
            page = rows[:count]
            next_cursor = None
            if len(rows) > count:
                next_cursor = secrets.token_urlsafe(24)
                self._cursors[next_cursor] = (list_id, message_id, (page[-1].sent_at, page[-1].seq))
        data = [self._activity_row(send, now) for send in page]
        return Reply(200, {"status": 200, "nextPageCursor": next_cursor, "data": data})

    def _shows(self, send: Send, kind: str, now: float) -> bool:
        at = send.activity.get(kind)
        if kind == "read":  # an open is a read in Listrak's terms too
            at = min((t for k, t in send.activity.items() if k in ("open", "read")), default=None)
        return at is not None and at <= now

    def _first_activity(self, send: Send, now: float) -> float | None:
        return min((at for at in send.activity.values() if at <= now), default=None)

    def _activity_row(self, send: Send, now: float) -> dict[str, object]:
        first = self._first_activity(send, now)
        bounced, zone = self._shows(send, "bounce", now), self.send_date_zone
        return {
            "emailAddress": send.email,
            "sendDate": send.send_date,
            "resendKey": send.resend_key,
            "activityDate": None if first is None else local_iso(first + self.clock_offset_seconds, zone),
            "abuse": self._shows(send, "abuse", now),
            "bounce": bounced,
            "bounceReason": send.bounce_reason if bounced else None,
            "click": self._shows(send, "click", now),
            "clickCount": send.click_count if self._shows(send, "click", now) else 0,
            "open": self._shows(send, "open", now),
            "orderTotal": 0.0,
            "read": self._shows(send, "read", now),
            "unsubscribe": self._shows(send, "unsubscribe", now),
            "externalContactID": None,
        }


def _message_view(message_id: int) -> dict[str, object]:
    """The TransactionalMessage schema's properties (the sandbox keeps no names or subjects of its own)."""
    return {
        "transactionalMessageId": message_id,
        "transactionalMessageName": f"Transactional message {message_id}",
        "campaignId": 0,
        "externalCampaignId": None,
        "subject": None,
    }
