"""The sandbox itself: configuration, observation, routing and faults; the routes live in their own modules."""

from __future__ import annotations

import contextlib
import copy
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from local_stack.sandbox.contacts import ContactRoutes
from local_stack.sandbox.control import ControlRoutes
from local_stack.sandbox.data_routes import DataRoutes
from local_stack.sandbox.email_routes import EmailRoutes
from local_stack.sandbox.faults import FAULT_KINDS, FaultQueues
from local_stack.sandbox.list_imports import ListImportRoutes
from local_stack.sandbox.privacy_routes import PrivacyRoutes
from local_stack.sandbox.records import Client, ContactList, ForgetRequest, ListImport, Send, Token
from local_stack.sandbox.routing import route_of
from local_stack.sandbox.server import SandboxHandler, SandboxServer
from local_stack.sandbox.sms_routes import SmsAccount, SmsRoutes
from local_stack.sandbox.tokens import TokenRoutes
from local_stack.sandbox.wire import (
    ACTIVITY_LAG_SECONDS,
    COUNTERS,
    DATA_ENTITIES,
    FORGET_DELAY_SECONDS,
    INTEGRATIONS,
    SEED_CLIENTS,
    SEED_SMS_MESSAGES,
    SEED_TRANSACTIONAL_MESSAGES,
    ApiError,
    Outcome,
    Reply,
    Request,
    error_reply,
)

# ----------------------------------------------------------------------------------------------------
# The sandbox


class ListrakSandbox(
    TokenRoutes, EmailRoutes, DataRoutes, SmsRoutes, ContactRoutes, ListImportRoutes, PrivacyRoutes, ControlRoutes
):
    """Listrak's token endpoint, Email, Data, SMS and Privacy APIs, in a background thread on 127.0.0.1."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token_ttl_seconds: int = 3599,
        clock: Callable[[], float] | Any = time.time,
        max_body_bytes: int = 262_144_000,
        resend_key_in_send_response: bool = False,
        activity_delay_seconds: float = ACTIVITY_LAG_SECONDS,
        slow_after_seconds: float = 30.0,
        resend_window_seconds: float = 30 * 86400,
        keep_imported_records: bool = True,
        forget_delay_seconds: float = FORGET_DELAY_SECONDS,
    ):
        self.host = host
        self.port = port
        self.token_ttl_seconds = token_ttl_seconds
        # A plain callable (time.time), or an object with now() (listrak_kit.clock.Clock).
        self._clock: Callable[[], float] = clock if callable(clock) else clock.now
        self.max_body_bytes = max_body_bytes
        self.resend_key_in_send_response = resend_key_in_send_response
        # Listrak answers a send with resourceId "null"; True puts the resendKey there instead.
        # A send shows in Activity only this many seconds (of the sandbox's clock) after it was recorded.
        self.activity_delay_seconds = activity_delay_seconds
        # How long a "slow_after" fault without a delay holds its answer back: past any client's read timeout.
        self.slow_after_seconds = slow_after_seconds
        # Activity's model of time, per send: `activity_delay_draw` (when set) draws each send's delay instead of
        # `activity_delay_seconds` (float("inf"): never shown); `send_date_lag_seconds` is how long after the send
        # its row is dated (the email leaving Listrak's queue); `clock_offset_seconds` is Listrak's clock against
        # the true time (negative: behind); `send_date_zone` (an IANA zone) writes sendDate without a zone, in that
        # zone's local time, as some Listrak accounts show it.
        self.activity_delay_draw: Callable[[], float] | None = None
        self.send_date_lag_seconds = 0.0
        self.clock_offset_seconds = 0.0
        self.send_date_zone: str | None = None
        # An Email integration without its Reporting area (the Report scope): Activity answers 401 (or 403) to
        # every token, while sends still go.
        self.activity_refused_status: int | None = None
        self._offset = 0.0  # advance() moves the sandbox's clock forward
        # A forget request reads PROCESSING for this many seconds of the sandbox's clock, then COMPLETE.
        self.forget_delay_seconds = forget_delay_seconds
        self.resend_window_seconds = resend_window_seconds
        # Benchmarks import millions of records: counting them is enough there, keeping them is not.
        self.keep_imported_records = keep_imported_records
        # How many Status reads of a list import answer "InProgress" before one applies it and answers "Completed"
        # (taken when the import is created).
        self.list_import_polls_until_done = 2
        # How many of the next list imports end "Failed" (their Status says so; nothing is applied).
        self.list_import_failures = 0
        # What every list import's Status answers instead of "Completed" when set ("Failed", or a value Listrak's
        # client has never seen; nothing is applied), and whether a list import's creation answers without an id
        # ({"resourceId": null}).
        self.list_import_final_status: str | None = None
        self.list_import_without_id = False
        # Listrak refuses to unsubscribe a contact with profile data (ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA);
        # False lets such an unsubscribe through (its values are stored).
        self.refuse_unsubscribe_with_data = True

        self._lock = threading.RLock()
        self._clients: dict[str, Client] = {}
        # (listId, transactionalMessageId) -> its profile fields {segmentationFieldId: maxLength}, or None: unchecked
        self._messages: dict[tuple[int, int], dict[int, int] | None] = {}
        self._lists: dict[int, ContactList] = {}  # lists and their profile fields survive reset(), like clients
        self._sms = SmsAccount()  # sender codes, phone lists and numbers' states survive reset(); SMS sent do not
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._clear_state()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> ListrakSandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = SandboxServer((self.host, self.port), SandboxHandler, self)
        self.port = server.server_address[1]
        self._server = server
        # A short poll interval lets stop() (server.shutdown) return within ~10 ms.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name=f"listrak-sandbox-{self.port}"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping on a "slow" fault
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
            self._connections.clear()
        for connection in connections:  # idle keep-alive connections would otherwise keep being served
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> ListrakSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None and not self.port:
            raise RuntimeError("the sandbox has no port yet: call start() first")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def auth_url(self) -> str:
        return self.url + "/OAuth2/Token"

    @property
    def email_api_url(self) -> str:
        return self.url + "/email"

    @property
    def data_api_url(self) -> str:
        return self.url + "/data"

    @property
    def privacy_api_url(self) -> str:
        return self.url + "/privacy"

    @property
    def sms_api_url(self) -> str:
        return self.url + "/sms"

    # -- configuration -------------------------------------------------------------------------------------

    def add_client(self, client_id: str, client_secret: str, integration: str) -> None:
        if integration not in INTEGRATIONS:
            raise ValueError(f"integration must be one of {INTEGRATIONS}, not {integration!r}")
        with self._lock:
            self._clients[client_id] = Client(client_secret, integration)

    def add_transactional_message(
        self, list_id: int, transactional_message_id: int, fields: dict[int, int] | None = None
    ) -> None:
        """Add a transactional message; with `fields` ({segmentationFieldId: maxLength}), a send naming another
        field, or a value longer than its field's maxLength, is refused with ERROR_INVALID_PARAMETER."""
        checked = None
        if fields is not None:
            checked = {int(field_id): int(max_length) for field_id, max_length in fields.items()}
            if any(max_length < 1 for max_length in checked.values()):
                raise ValueError("every field's maxLength must be a positive integer")
        with self._lock:
            self._messages[(int(list_id), int(transactional_message_id))] = checked

    def seed_defaults(self) -> ListrakSandbox:
        """Add SEED_CLIENTS and SEED_TRANSACTIONAL_MESSAGES (what the command line serves)."""
        for client_id, client_secret, integration in SEED_CLIENTS:
            self.add_client(client_id, client_secret, integration)
        for list_id, message_id in SEED_TRANSACTIONAL_MESSAGES:
            self.add_transactional_message(list_id, message_id)
        for sender_code_id, phone_list_id, message_id in SEED_SMS_MESSAGES:
            self.add_sms_message(sender_code_id, phone_list_id, message_id)
        return self

    def inject(
        self, route: str, fault: str, times: int = 1, delay: float = 0.0, retry_after: int | None = None
    ) -> None:
        """Queue `times` faults of one kind for the next requests to `route` ("*": any API route).

        `delay` is waited before the answer (or the close) for every kind; it is what makes "slow" slow.
        """
        self._faults.add(route, fault, times, delay, retry_after)

    def fail_at_random(
        self, rate: float, kinds: tuple[str, ...] = FAULT_KINDS, *, seed: int = 0, delay: float = 0.0
    ) -> None:
        """Fail this share of API requests (not control routes) with a kind drawn from `kinds`, reproducibly
        from `seed`; queued faults (`inject`) come first. `delay` is what a "slow" or "slow_after" fault waits
        (give one: "slow_after" would otherwise wait `slow_after_seconds`). rate 0 stops it."""
        self._faults.at_random(rate, kinds, seed=seed, delay=delay)

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def issue_token(self, integration: str, ttl_seconds: int | None = None) -> str:
        if integration not in INTEGRATIONS:
            raise ValueError(f"integration must be one of {INTEGRATIONS}, not {integration!r}")
        with self._lock:
            return self._new_token(integration, self.token_ttl_seconds if ttl_seconds is None else ttl_seconds)

    def reset(self) -> None:
        """Forget every token, send, SMS, import, contact and fault, and undo advance(); configuration stays."""
        with self._lock:
            self._clear_state()
            self._offset = 0.0

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock forward (Activity lag, token expiry, resend window) without sleeping."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"seconds must be a non-negative number, not {seconds!r}")
        with self._lock:
            self._offset += float(seconds)

    # -- observation ---------------------------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, Any]:
        with self._lock:
            result: dict[str, Any] = dict(self._counters)
            result["tokens_minted_by_integration"] = dict(self._minted_by_integration)
            result["data_records"] = dict(self._data_records)
            result["faults"] = self._faults.counts()
            result["faults_by_kind"] = self._faults.by_kind()
            return result

    def send_count(self, list_id: int, transactional_message_id: int, email: str) -> int:
        """How many sends of the message to the address Listrak holds (addresses match case-insensitively)."""
        with self._lock:
            return sum(
                1
                for send in self._sends
                if (send.list_id, send.message_id) == (int(list_id), int(transactional_message_id))
                and send.email.strip().lower() == email.strip().lower()
            )

    @property
    def counts(self) -> dict[str, Any]:
        """What Listrak holds: sends and resends per (listId, transactionalMessageId, address), Data Import
        requests and records per entity, and the faults that struck, per route and kind."""
        with self._lock:
            sends: dict[tuple[int, int, str], int] = {}
            for send in self._sends:
                key = (send.list_id, send.message_id, send.email.strip().lower())
                sends[key] = sends.get(key, 0) + 1
            resends: dict[tuple[int, int, str], int] = {}
            for resend in self._resends:
                key = (resend["listId"], resend["transactionalMessageId"], resend["emailAddress"].strip().lower())
                resends[key] = resends.get(key, 0) + 1
            return {
                "sends": _count_rows(sends),
                "resends": _count_rows(resends),
                "dataImports": {
                    entity: {"requests": self._data_requests[entity], "records": self._data_records[entity]}
                    for entity in DATA_ENTITIES
                },
                "listImports": len(self._list_imports),
                "sms": self._sms_counts(),
                "faults": self._faults.counts(),
            }

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [send.public() for send in self._sends]

    @property
    def resends(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._resends)

    @property
    def issued_tokens(self) -> list[str]:
        """Every token value issued since the last reset (tests scan logs for them)."""
        with self._lock:
            return list(self._tokens)

    @property
    def data_imports(self) -> dict[str, list[list[dict[str, Any]]]]:
        with self._lock:
            return copy.deepcopy(self._imports)

    # -- state (lock held) ---------------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._sends: list[Send] = []
        self._sends_by_key: dict[str, Send] = {}
        self._send_seq = 0
        self._resends: list[dict[str, Any]] = []
        self._imports: dict[str, list[list[dict[str, Any]]]] = {entity: [] for entity in DATA_ENTITIES}
        self._cursors: dict[str, tuple[int, int, tuple[float, int]]] = {}
        self._faults = FaultQueues()
        self._counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self._minted_by_integration: dict[str, int] = dict.fromkeys(INTEGRATIONS, 0)
        self._data_records: dict[str, int] = dict.fromkeys(DATA_ENTITIES, 0)
        self._data_requests: dict[str, int] = dict.fromkeys(DATA_ENTITIES, 0)
        self._contacts: dict[int, dict[str, dict[str, Any]]] = {}
        self._refused_addresses: dict[str, str] = {}  # lower-cased address -> the state it has on every list
        self._list_imports: dict[int, ListImport] = {}
        self._list_import_seq = 0
        self._forgets: dict[str, ForgetRequest] = {}
        self._sms.sent = []
        self._sms_seq = 0

    def _now(self) -> float:
        return float(self._clock()) + self._offset

    # -- request handling (called from the handler threads) ------------------------------------------------

    def _serve(self, request: Request) -> Outcome:
        if request.path == "/_sandbox" or request.path.startswith("/_sandbox/"):
            return Outcome(self._serve_control(request))
        with self._lock:
            self._counters["requests"] += 1
        if request.body is None:
            # Listrak (IIS request filtering) answers an over-size body with a plain 404.
            return Outcome(error_reply(404, "ERROR_UNKNOWN_ROUTE", "Not Found"))
        try:
            route, handler_name, params = route_of(request)
        except ApiError as exc:
            return Outcome(exc.reply)

        fault = self._faults.take(route)
        if fault is None:
            return Outcome(self._handle(handler_name, request, params))
        with self._lock:
            self._counters["faults_injected"] += 1
        if not fault.acts_first:
            return Outcome(None if fault.kind == "drop" else fault.reply(), fault.delay)
        if fault.kind == "revoke_token":
            self.revoke_tokens()
        reply = self._handle(handler_name, request, params)
        if fault.kind == "drop_after":
            return Outcome(None, fault.delay)
        if fault.kind.endswith("_after") and fault.kind != "slow_after":
            return Outcome(fault.reply(), fault.delay)
        if fault.kind == "slow_after" and not fault.delay:
            return Outcome(reply, self.slow_after_seconds)
        return Outcome(reply, fault.delay)

    def _handle(self, handler_name: str, request: Request, params: tuple[str, ...]) -> Reply:
        try:
            return getattr(self, handler_name)(request, params)
        except ApiError as exc:
            return exc.reply


def _count_rows(counts: dict[tuple[int, int, str], int]) -> list[dict[str, Any]]:
    return [
        {"listId": list_id, "transactionalMessageId": message_id, "emailAddress": email, "count": count}
        for (list_id, message_id, email), count in sorted(counts.items())
    ]
