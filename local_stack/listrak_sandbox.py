"""A small, stateful stand-in for Listrak: the OAuth2 token endpoint and the Email and Data API routes this
project calls, with the error envelopes, status codes and quirks of the real service, plus fault injection.

In-process (tests, the local stack):

    with ListrakSandbox() as sandbox:
        sandbox.add_client("email-id", "email-secret", "Email")
        sandbox.add_transactional_message(1001, 2001)
        ...  # point the code under test at sandbox.auth_url / sandbox.email_api_url / sandbox.data_api_url
        sandbox.inject("send", "500", times=2)
        sandbox.add_list(1001, "Customers")
        sandbox.add_profile_field(1001, 10, "Account", 101, "FirstName", max_length=50)
        sandbox.set_contact(1001, "ann@example.com", "Unsubscribed", {101: "Ann"})

As a process (another process drives it through the /_sandbox/... control routes):

    python -m local_stack.listrak_sandbox --port 8025

Only the standard library is used. All state sits behind one lock; delays are slept outside it.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import csv
import io
import json
import math
import random
import re
import secrets
import signal
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

INTEGRATIONS = ("Email", "Data")
DATA_ENTITIES = ("Customer", "Order", "Product", "Review", "RatingSummary")
FAULT_ROUTES = ("token", "send", "resend", "activity", "data", "contacts", "*")
FAULT_KINDS = ("429", "500", "503", "slow", "drop", "drop_after", "revoke_token")
SUBSCRIPTION_STATES = ("Subscribed", "Unsubscribed")
PROFILE_FIELD_DATA_TYPES = ("Text", "Numeric", "RadioButton", "CheckBox", "CommentArea", "Date", "ContentBlock")
LIST_IMPORT_TYPES = ("AddSubscribers", "AddSubscribersAndSegmentationData", "RemoveSubscribers", "UpdateSubscribers")
SEGMENTATION_IMPORT_TYPES = ("Update", "Append", "Overwrite")
FILE_COLUMN_TYPES = ("Email", "SegmentationField", "Event", "ExternalContactID")
LIST_IMPORT_SUMMARY_COUNTS = (
    "alreadySubscribedCount",
    "alreadyUnsubscribedCount",
    "bannedCount",
    "invalidEmailCount",
    "previouslyUnsubscribedCount",
    "processedCount",
    "skippedCount",
    "subscribedCount",
    "suppressedCount",
    "unsubscribedCount",
)

# What `python -m local_stack.listrak_sandbox` seeds (and `seed_defaults()` adds).
SEED_CLIENTS = (
    ("sandbox-email-client", "sandbox-email-secret", "Email"),
    ("sandbox-data-client", "sandbox-data-secret", "Data"),
)
SEED_TRANSACTIONAL_MESSAGES = ((1001, 2001),)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
UNAUTHORIZED_MESSAGE = "Authorization was denied for this request."
SEND_NOT_FOUND_MESSAGE = "Unable to locate a resource associated with the listId and transactionalMessageId supplied."
RESEND_NOT_FOUND_MESSAGE = (
    "Unable to locate a resource associated with the listId, transactionalMessageId, and resendKey supplied."
)
LIST_NOT_FOUND_MESSAGE = "Unable to locate a resource associated with the listId supplied."
FIELD_GROUP_NOT_FOUND_MESSAGE = (
    "Unable to locate a resource associated with the listId and segmentationFieldGroupId supplied."
)
LIST_IMPORT_NOT_FOUND_MESSAGE = "Unable to locate a resource associated with the listId and importFileId supplied."
UNSUBSCRIBED_MESSAGE = "The emailAddress has already been unsubscribed from the list."
# Addresses Listrak refuses to subscribe, with its error codes (`refuse_address`) and the ListImport count each adds.
ADDRESS_REFUSALS = {
    "ERROR_BANNED_EMAIL_ADDRESS": ("The emailAddress is banned.", "bannedCount"),
    "ERROR_SUPPRESSED_EMAIL": ("The emailAddress is suppressed.", "suppressedCount"),
    "ERROR_PENDING_EMAIL_ADDRESS": ("The emailAddress is pending confirmation.", "skippedCount"),
}
ACTIVITY_MAX_COUNT = 5000
ACTIVITY_DEFAULT_COUNT = 1000
_DRAIN_CHUNK = 65_536
_COUNTERS = (
    "tokens_minted",
    "token_rejections",
    "sends",
    "resends",
    "activity_requests",
    "data_imports",
    "unauthorized",
    "requests",
    "faults_injected",
    "contact_upserts",
    "list_imports",
    "list_import_status_polls",
)
# Body properties the spec defines (readOnly ones included: they are accepted and ignored, as ASP.NET does).
_CONTACT_KEYS = frozenset(
    {
        "emailAddress",
        "emailKey",
        "universalEmailKey",
        "subscriptionState",
        "subscribeDate",
        "resubscribeDate",
        "subscribeMethod",
        "unsubscribeDate",
        "unsubscribeMethod",
        "externalContactID",
        "segmentationFieldValues",
    }
)
_IMPORT_FILE_KEYS = frozenset(
    {
        "fileDelimiter",
        "fileMappings",
        "fileName",
        "fileStream",
        "hasColumnNames",
        "importType",
        "segmentationImportType",
        "suppressEmailNotifications",
        "textQualifier",
        "triggerJourney",
        "includeUnsubscribed",
    }
)
_IMPORT_MAPPING_KEYS = frozenset({"fileColumn", "fileColumnType", "segmentationFieldId", "defaultValue"})


# ----------------------------------------------------------------------------------------------------
# Internal records


@dataclass
class _Client:
    secret: str
    integration: str


@dataclass
class _Token:
    integration: str
    expires_at: float


@dataclass
class _Send:
    seq: int
    list_id: int
    message_id: int
    email: str
    fields: list[dict[str, Any]]
    resend_key: str
    sent_at: float
    send_date: str

    def public(self) -> dict[str, Any]:
        return {
            "listId": self.list_id,
            "transactionalMessageId": self.message_id,
            "emailAddress": self.email,
            "segmentationFieldValues": copy.deepcopy(self.fields),
            "resendKey": self.resend_key,
            "sendDate": self.send_date,
        }


@dataclass
class _ProfileField:
    field_id: int
    group_id: int
    name: str
    data_type: str
    max_length: int
    position: int

    def public(self) -> dict[str, Any]:
        return {
            "segmentationFieldId": self.field_id,
            "segmentationFieldName": self.name,
            "segmentationFieldGroupId": self.group_id,
            "dataType": self.data_type,
            "maxLength": self.max_length,
            "position": self.position,
        }


@dataclass
class _FieldGroup:
    group_id: int
    name: str
    position: int
    fields: dict[int, _ProfileField] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "segmentationFieldGroupId": self.group_id,
            "segmentationFieldGroupName": self.name,
            "position": self.position,
        }


@dataclass
class _List:
    list_id: int
    name: str
    groups: dict[int, _FieldGroup] = field(default_factory=dict)
    fields: dict[int, _ProfileField] = field(default_factory=dict)  # every group's fields, by segmentationFieldId


@dataclass
class _FieldColumn:
    column: int
    field_id: int
    default: str | None


@dataclass
class _ListImport:
    import_id: int
    list_id: int
    file_name: str
    import_type: str
    segmentation_import_type: str
    include_unsubscribed: bool
    email_column: int
    field_columns: list[_FieldColumn]
    rows: list[list[str]]  # data rows only (no header), each at least as wide as the widest mapped column
    started_at: float
    polls_until_done: int
    polls: int = 0
    completed_at: float | None = None
    summary: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LIST_IMPORT_SUMMARY_COUNTS, 0))


@dataclass
class _Fault:
    seq: int
    kind: str
    delay: float
    retry_after: int | None


@dataclass
class _Reply:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Outcome:
    reply: _Reply | None  # None: close the connection without answering
    delay: float = 0.0  # seconds to wait (outside the lock) before answering or closing


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]  # lower-cased names, last value wins
    headers: Any  # http.client.HTTPMessage
    body: bytes | None  # None when the body was over max_body_bytes (and was drained, not kept)


class _ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.reply = _error(status, code, message, headers)


def _error(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> _Reply:
    return _Reply(status, {"status": status, "error": code, "message": message}, list(headers or []))


def _invalid(message: str) -> _ApiError:
    return _ApiError(400, "ERROR_INVALID_PARAMETER", message)


def _malformed(message: str = "The request body could not be parsed.") -> _ApiError:
    return _ApiError(400, "ERROR_MALFORMED_REQUEST_BODY", message)


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DIGITS = re.compile(r"^[0-9]+$")


def _parse_when(name: str, value: str, *, end: bool) -> float:
    """ISO-8601 date or date-time -> epoch seconds (naive means UTC); a date-only end covers its whole day."""
    text = value.strip()
    try:
        if _DATE_ONLY.match(text):
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            return start + 86_399 if end else start
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"The {name} parameter is not a valid ISO-8601 date or date-time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _route_int(value: str) -> int | None:
    return int(value) if _DIGITS.match(value) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice(value: Any, allowed: tuple[str, ...]) -> str | None:
    """The canonical spelling of `value` among `allowed` (ASP.NET binds enums case-insensitively), else None."""
    if not isinstance(value, str):
        return None
    return next((name for name in allowed if name.lower() == value.strip().lower()), None)


def _query_bool(query: dict[str, str], name: str, default: bool) -> bool:
    raw = query.get(name.lower())
    if raw is None:
        return default
    text = raw.strip().lower()
    if text not in ("true", "false"):
        raise _invalid(f"The {name} parameter must be true or false.")
    return text == "true"


def _body_bool(payload: dict[str, Any], name: str) -> bool:
    value = payload.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid(f"The {name} parameter must be a boolean.")
    return value


def _field_values(values: Any) -> list[tuple[int, str]]:
    """Validate a segmentationFieldValues array (shape, then duplicates) -> [(segmentationFieldId, value)]."""
    if not isinstance(values, list):
        raise _invalid("The segmentationFieldValues parameter is missing or is not an array.")
    pairs: list[tuple[int, str]] = []
    for index, entry in enumerate(values):
        where = f"segmentationFieldValues[{index}]"
        if not isinstance(entry, dict):
            raise _invalid(f"The {where} parameter must be an object.")
        extra = sorted(set(entry) - {"segmentationFieldId", "value"})
        if extra:
            raise _malformed(f"The {where} object has unknown field(s): {', '.join(extra)}.")
        field_id = entry.get("segmentationFieldId")
        if not _is_int(field_id):
            raise _invalid(f"The {where}.segmentationFieldId parameter must be an integer.")
        if not isinstance(entry.get("value"), str):
            raise _invalid(f"The {where}.value parameter must be a string.")
        pairs.append((field_id, entry["value"]))
    if len({field_id for field_id, _ in pairs}) != len(pairs):
        raise _ApiError(
            400,
            "ERROR_SEGMENTATION_FIELD_DEFINED_TWICE",
            "A segmentation field was defined more than once.",
        )
    return pairs


# ----------------------------------------------------------------------------------------------------
# Routes: (fault route, pattern, {method: handler name}). Matching is case-insensitive, as ASP.NET's is.

_EMAIL_PREFIX = r"^/email/v1/List/([^/]+)/TransactionalMessage/([^/]+)"
_LIST_PREFIX = r"^/email/v1/List/([^/]+)"
# Routes 1-3 (lists, profile fields) take only "*" faults: "lists" is not in FAULT_ROUTES.
_ROUTES: tuple[tuple[str, re.Pattern[str], dict[str, str]], ...] = (
    ("token", re.compile(r"^/OAuth2/Token/?$", re.IGNORECASE), {"POST": "_handle_token"}),
    ("send", re.compile(_EMAIL_PREFIX + r"/Message/?$", re.IGNORECASE), {"POST": "_handle_send"}),
    ("resend", re.compile(_EMAIL_PREFIX + r"/Resend/([^/]+)/?$", re.IGNORECASE), {"POST": "_handle_resend"}),
    ("activity", re.compile(_EMAIL_PREFIX + r"/Activity/?$", re.IGNORECASE), {"GET": "_handle_activity"}),
    ("data", re.compile(r"^/data/v1/([^/]+)/?$", re.IGNORECASE), {"POST": "_handle_data"}),
    ("lists", re.compile(r"^/email/v1/List/?$", re.IGNORECASE), {"GET": "_handle_lists"}),
    (
        "lists",
        re.compile(_LIST_PREFIX + r"/SegmentationFieldGroup/?$", re.IGNORECASE),
        {"GET": "_handle_field_groups"},
    ),
    (
        "lists",
        re.compile(_LIST_PREFIX + r"/SegmentationFieldGroup/([^/]+)/SegmentationField/?$", re.IGNORECASE),
        {"GET": "_handle_fields"},
    ),
    ("contacts", re.compile(_LIST_PREFIX + r"/Contact/?$", re.IGNORECASE), {"POST": "_handle_contact"}),
    ("contacts", re.compile(_LIST_PREFIX + r"/ListImport/?$", re.IGNORECASE), {"POST": "_handle_list_import"}),
    (
        "contacts",
        re.compile(_LIST_PREFIX + r"/ListImport/([^/]+)/Status/?$", re.IGNORECASE),
        {"GET": "_handle_list_import_status"},
    ),
    (
        "contacts",
        re.compile(_LIST_PREFIX + r"/ListImport/([^/]+)/Summary/?$", re.IGNORECASE),
        {"GET": "_handle_list_import_summary"},
    ),
)
_CONTROL_ROUTES: dict[str, dict[str, str]] = {
    "stats": {"GET": "_control_stats"},
    "sends": {"GET": "_control_sends"},
    "resends": {"GET": "_control_resends"},
    "data": {"GET": "_control_data"},
    "faults": {"POST": "_control_faults"},
    "revoke": {"POST": "_control_revoke"},
    "reset": {"POST": "_control_reset"},
    "clients": {"POST": "_control_clients"},
    "messages": {"POST": "_control_messages"},
    "contacts": {"GET": "_control_contacts"},
}


# ----------------------------------------------------------------------------------------------------
# The sandbox


class ListrakSandbox:
    """Listrak's token endpoint, Email API and Data API, in a background thread on 127.0.0.1."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token_ttl_seconds: int = 3599,
        clock: Callable[[], float] | Any = time.time,
        max_body_bytes: int = 262_144_000,
        resend_key_in_send_response: bool = True,
        activity_delay_seconds: float = 0.0,
        resend_window_seconds: float = 30 * 86400,
        keep_imported_records: bool = True,
    ):
        self.host = host
        self.port = port
        self.token_ttl_seconds = token_ttl_seconds
        # A plain callable (time.time), or an object with now() (listrak_kit.clock.Clock).
        self._clock: Callable[[], float] = clock if callable(clock) else clock.now
        self.max_body_bytes = max_body_bytes
        self.resend_key_in_send_response = resend_key_in_send_response
        self.activity_delay_seconds = activity_delay_seconds
        self.resend_window_seconds = resend_window_seconds
        # Benchmarks import millions of records: counting them is enough there, keeping them is not.
        self.keep_imported_records = keep_imported_records
        # How many Status reads of a list import answer "InProgress" before one applies it and answers "Completed"
        # (taken when the import is created).
        self.list_import_polls_until_done = 2
        # What a list import's Status answers instead of "Completed" when set ("Failed", or a value never seen),
        # and whether its creation answers without an id ({"resourceId": null}).
        self.list_import_final_status: str | None = None
        self.list_import_without_id = False
        # Refuse an Unsubscribed upsert that carries profile field values (ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA).
        self.refuse_unsubscribe_with_data = False

        self._lock = threading.RLock()
        self._clients: dict[str, _Client] = {}
        self._messages: set[tuple[int, int]] = set()
        self._lists: dict[int, _List] = {}  # lists and their profile fields survive reset(), like clients
        self._server: _SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._clear_state()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> ListrakSandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _SandboxServer((self.host, self.port), _SandboxHandler, self)
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

    # -- configuration -------------------------------------------------------------------------------------

    def add_client(self, client_id: str, client_secret: str, integration: str) -> None:
        if integration not in INTEGRATIONS:
            raise ValueError(f"integration must be one of {INTEGRATIONS}, not {integration!r}")
        with self._lock:
            self._clients[client_id] = _Client(client_secret, integration)

    def add_transactional_message(self, list_id: int, transactional_message_id: int) -> None:
        with self._lock:
            self._messages.add((int(list_id), int(transactional_message_id)))

    def add_list(self, list_id: int, name: str) -> None:
        """Add a list (or rename one); its profile fields and contacts are kept."""
        with self._lock:
            record = self._lists.get(int(list_id))
            if record is None:
                self._lists[int(list_id)] = _List(int(list_id), name)
            else:
                record.name = name

    def add_profile_field(
        self,
        list_id: int,
        group_id: int,
        group_name: str,
        field_id: int,
        field_name: str,
        data_type: str = "Text",
        max_length: int = 100,
    ) -> None:
        """Add (or redefine) a profile field of a list, creating its group on first use (add_list first)."""
        if data_type not in PROFILE_FIELD_DATA_TYPES:
            raise ValueError(f"data_type must be one of {PROFILE_FIELD_DATA_TYPES}, not {data_type!r}")
        if not _is_int(max_length) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, not {max_length!r}")
        list_id, group_id, field_id = int(list_id), int(group_id), int(field_id)
        with self._lock:
            record = self._lists.get(list_id)
            if record is None:
                raise ValueError(f"unknown list {list_id}: call add_list() first")
            existing = record.fields.get(field_id)
            if existing is not None and existing.group_id != group_id:
                raise ValueError(f"field {field_id} of list {list_id} already belongs to group {existing.group_id}")
            group = record.groups.get(group_id)
            if group is None:
                group = record.groups[group_id] = _FieldGroup(group_id, group_name, len(record.groups) + 1)
            else:
                group.name = group_name
            position = existing.position if existing is not None else len(group.fields) + 1
            profile_field = _ProfileField(field_id, group_id, field_name, data_type, max_length, position)
            group.fields[field_id] = profile_field
            record.fields[field_id] = profile_field

    def set_contact(
        self, list_id: int, email: str, state: str = "Subscribed", fields: dict[int, str] | None = None
    ) -> None:
        """Create or replace a contact of a list (its fields become exactly `fields`); nothing is counted."""
        if state not in SUBSCRIPTION_STATES:
            raise ValueError(f"state must be one of {SUBSCRIPTION_STATES}, not {state!r}")
        if not isinstance(email, str) or "@" not in email:
            raise ValueError(f"email must be an email address, not {email!r}")
        values = {int(field_id): str(value) for field_id, value in (fields or {}).items()}
        list_id = int(list_id)
        with self._lock:
            record = self._lists.get(list_id)
            if record is None:
                raise ValueError(f"unknown list {list_id}: call add_list() first")
            unknown = sorted(set(values) - set(record.fields))
            if unknown:
                raise ValueError(
                    f"unknown profile field(s) {unknown} of list {list_id}: call add_profile_field() first"
                )
            address = email.strip()
            self._contacts.setdefault(list_id, {})[address.lower()] = {
                "emailAddress": address,
                "subscriptionState": state,
                "fields": values,
            }

    def refuse_address(self, email: str, code: str) -> None:
        """Listrak refuses this address on every list: a Contact upsert answers 400 `code`; a list import counts it
        (banned, suppressed) and skips it. `code` is one of ADDRESS_REFUSALS."""
        if code not in ADDRESS_REFUSALS:
            raise ValueError(f"code must be one of {sorted(ADDRESS_REFUSALS)}, not {code!r}")
        with self._lock:
            self._refused_addresses[email.strip().lower()] = code

    def fail_at_random(
        self, rate: float, kinds: tuple[str, ...] = FAULT_KINDS, *, seed: int = 0, delay: float = 0.0
    ) -> None:
        """Fail this share of API requests (not control routes) with a kind drawn from `kinds`, reproducibly
        from `seed`; queued faults (`inject`) come first. `delay` is what a "slow" fault waits. rate 0 stops it."""
        unknown = sorted(set(kinds) - set(FAULT_KINDS))
        if unknown or not 0 <= rate <= 1 or not kinds:
            raise ValueError(f"rate must be within [0, 1] and kinds among {FAULT_KINDS}")
        with self._lock:
            self._fault_rate = (float(rate), tuple(kinds), float(delay), random.Random(seed)) if rate else None

    def seed_defaults(self) -> ListrakSandbox:
        """Add SEED_CLIENTS and SEED_TRANSACTIONAL_MESSAGES (what the command line serves)."""
        for client_id, client_secret, integration in SEED_CLIENTS:
            self.add_client(client_id, client_secret, integration)
        for list_id, message_id in SEED_TRANSACTIONAL_MESSAGES:
            self.add_transactional_message(list_id, message_id)
        return self

    def inject(
        self, route: str, fault: str, times: int = 1, delay: float = 0.0, retry_after: int | None = None
    ) -> None:
        """Queue `times` faults of one kind for the next requests to `route` ("*": any API route).

        `delay` is waited before the answer (or the close) for every kind; it is what makes "slow" slow.
        """
        fault = str(fault)
        if route not in FAULT_ROUTES:
            raise ValueError(f"route must be one of {FAULT_ROUTES}, not {route!r}")
        if fault not in FAULT_KINDS:
            raise ValueError(f"fault must be one of {FAULT_KINDS}, not {fault!r}")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be a positive integer, not {times!r}")
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError(f"delay must be a non-negative number of seconds, not {delay!r}")
        if retry_after is not None and (
            isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0
        ):
            raise ValueError(f"retry_after must be a non-negative integer or None, not {retry_after!r}")
        with self._lock:
            for _ in range(times):
                self._fault_seq += 1
                self._faults[route].append(_Fault(self._fault_seq, fault, float(delay), retry_after))

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def issue_token(self, integration: str, ttl_seconds: int | None = None) -> str:
        if integration not in INTEGRATIONS:
            raise ValueError(f"integration must be one of {INTEGRATIONS}, not {integration!r}")
        with self._lock:
            return self._new_token(integration, self.token_ttl_seconds if ttl_seconds is None else ttl_seconds)

    def reset(self) -> None:
        with self._lock:
            self._clear_state()

    # -- observation ---------------------------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, Any]:
        with self._lock:
            result: dict[str, Any] = dict(self._counters)
            result["tokens_minted_by_integration"] = dict(self._minted_by_integration)
            result["data_records"] = dict(self._data_records)
            result["faults_by_kind"] = dict(self._faults_by_kind)
            return result

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

    @property
    def contacts(self) -> dict[int, dict[str, dict[str, Any]]]:
        """listId -> lower-cased email -> {"emailAddress", "subscriptionState", "fields": {fieldId: value}}."""
        with self._lock:
            return {list_id: copy.deepcopy(self._contacts.get(list_id, {})) for list_id in sorted(self._lists)}

    # -- state (lock held) ---------------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._sends: list[_Send] = []
        self._sends_by_key: dict[str, _Send] = {}
        self._send_seq = 0
        self._resends: list[dict[str, Any]] = []
        self._imports: dict[str, list[list[dict[str, Any]]]] = {entity: [] for entity in DATA_ENTITIES}
        self._cursors: dict[str, tuple[int, int, tuple[float, int]]] = {}
        self._faults: dict[str, deque[_Fault]] = {route: deque() for route in FAULT_ROUTES}
        self._fault_seq = 0
        self._counters: dict[str, int] = dict.fromkeys(_COUNTERS, 0)
        self._minted_by_integration: dict[str, int] = dict.fromkeys(INTEGRATIONS, 0)
        self._data_records: dict[str, int] = dict.fromkeys(DATA_ENTITIES, 0)
        self._contacts: dict[int, dict[str, dict[str, Any]]] = {}
        self._refused_addresses: dict[str, str] = {}
        self._faults_by_kind: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        self._fault_rate: tuple[float, tuple[str, ...], float, Any] | None = None
        self._list_imports: dict[int, _ListImport] = {}
        self._list_import_seq = 0

    def _now(self) -> float:
        return float(self._clock())

    def _new_token(self, integration: str, ttl_seconds: float) -> str:
        value = secrets.token_urlsafe(96)  # 128 chars of [A-Za-z0-9_-]: opaque, no dots, so not a JWT
        self._tokens[value] = _Token(integration, self._now() + ttl_seconds)
        return value

    def _take_fault(self, route: str) -> _Fault | None:
        with self._lock:
            queues = [queue for queue in (self._faults.get(route), self._faults["*"]) if queue]
            if not queues:
                if self._fault_rate is None:
                    return None
                rate, kinds, delay, draw = self._fault_rate
                if draw.random() >= rate:
                    return None
                kind = draw.choice(kinds)
                self._counters["faults_injected"] += 1
                self._faults_by_kind[kind] += 1
                self._fault_seq += 1
                return _Fault(self._fault_seq, kind, delay if kind == "slow" else 0.0, None)
            fault = min(queues, key=lambda queue: queue[0].seq).popleft()
            self._counters["faults_injected"] += 1
            self._faults_by_kind[fault.kind] += 1
            return fault

    # -- request handling (called from the handler threads) ------------------------------------------------

    def _serve(self, request: _Request) -> _Outcome:
        if request.path == "/_sandbox" or request.path.startswith("/_sandbox/"):
            return _Outcome(self._serve_control(request))
        with self._lock:
            self._counters["requests"] += 1
        if request.body is None:
            # Listrak (IIS request filtering) answers an over-size body with a plain 404.
            return _Outcome(_error(404, "ERROR_UNKNOWN_ROUTE", "Not Found"))
        try:
            route, handler_name, params = self._route(request)
        except _ApiError as exc:
            return _Outcome(exc.reply)

        fault = self._take_fault(route)
        kind = fault.kind if fault else None
        delay = fault.delay if fault else 0.0
        if fault is not None and kind in ("429", "500", "503"):
            return _Outcome(self._fault_reply(fault), delay)
        if kind == "drop":
            return _Outcome(None, delay)
        if kind == "revoke_token":
            self.revoke_tokens()
        try:
            reply = getattr(self, handler_name)(request, params)
        except _ApiError as exc:
            reply = exc.reply
        if kind == "drop_after":
            return _Outcome(None, delay)
        return _Outcome(reply, delay)

    @staticmethod
    def _fault_reply(fault: _Fault) -> _Reply:
        if fault.kind == "429":
            headers = [] if fault.retry_after is None else [("Retry-After", str(fault.retry_after))]
            return _error(429, "ERROR_TOO_MANY_REQUESTS", "Too many requests.", headers)
        if fault.kind == "503":
            return _error(503, "ERROR_SERVICE_UNAVAILABLE", "The service is unavailable.")
        return _error(500, "ERROR_UNHANDLED_EXCEPTION", "An unhandled exception occurred.")

    def _route(self, request: _Request) -> tuple[str, str, tuple[str, ...]]:
        for route, pattern, methods in _ROUTES:
            match = pattern.match(request.path)
            if match is None:
                continue
            params = tuple(unquote(group) for group in match.groups())
            if route == "data":
                entity = next((name for name in DATA_ENTITIES if name.lower() == params[0].lower()), None)
                if entity is None:
                    raise _ApiError(404, "ERROR_UNKNOWN_ROUTE", "The requested route does not exist.")
                params = (entity,)
            handler_name = methods.get(request.method)
            if handler_name is None:
                raise _ApiError(
                    405,
                    "ERROR_UNSUPPORTED_METHOD",
                    f"The requested resource does not support the HTTP method '{request.method}'.",
                    [("Allow", ", ".join(methods))],
                )
            return route, handler_name, params
        raise _ApiError(404, "ERROR_UNKNOWN_ROUTE", "The requested route does not exist.")

    def _authorize(self, request: _Request, integration: str) -> None:
        scheme, _, value = (request.headers.get("Authorization") or "").strip().partition(" ")
        with self._lock:
            token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
            if token is None or token.integration != integration or self._now() >= token.expires_at:
                self._counters["unauthorized"] += 1
                raise _ApiError(401, "ERROR_UNAUTHORIZED", UNAUTHORIZED_MESSAGE, [("WWW-Authenticate", "Bearer")])

    @staticmethod
    def _json_body(request: _Request) -> Any:
        if _media_type(request.headers.get("Content-Type")) != "application/json":
            raise _ApiError(
                415,
                "ERROR_UNSUPPORTED_CONTENT_TYPE",
                "The request content type is not supported; send application/json.",
            )
        try:
            return json.loads((request.body or b"").decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _malformed() from None

    def _locate(self, params: tuple[str, ...], not_found_message: str) -> tuple[int, int]:
        list_id, message_id = _route_int(params[0]), _route_int(params[1])
        with self._lock:
            known = (list_id, message_id) in self._messages
        if list_id is None or message_id is None or not known:
            raise _ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", not_found_message)
        return list_id, message_id

    # POST /OAuth2/Token
    def _handle_token(self, request: _Request, _params: tuple[str, ...]) -> _Reply:
        form: dict[str, list[str]] = {}
        if _media_type(request.headers.get("Content-Type")) == "application/x-www-form-urlencoded":
            form = parse_qs((request.body or b"").decode("utf-8", "replace"), keep_blank_values=True)

        def first(name: str) -> str:
            values = form.get(name)
            return values[0] if values else ""

        if first("grant_type") != "client_credentials":
            return _Reply(400, {"error": "unsupported_grant_type"})
        client_id, client_secret = first("client_id"), first("client_secret")
        with self._lock:
            client = self._clients.get(client_id)
            if client is None or not secrets.compare_digest(
                client.secret.encode("utf-8"), client_secret.encode("utf-8")
            ):
                self._counters["token_rejections"] += 1
                return _Reply(400, {"error": "Invalid Credentials"})
            value = self._new_token(client.integration, self.token_ttl_seconds)
            self._counters["tokens_minted"] += 1
            self._minted_by_integration[client.integration] += 1
        return _Reply(
            200,
            {"access_token": value, "token_type": "bearer", "expires_in": self.token_ttl_seconds},
            [("Cache-Control", "no-cache"), ("Pragma", "no-cache")],
        )

    # POST /email/v1/List/{listId}/TransactionalMessage/{transactionalMessageId}/Message
    def _handle_send(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        payload = self._json_body(request)
        if not isinstance(payload, dict):
            raise _malformed("The request body must be a JSON object.")
        unknown = sorted(set(payload) - {"emailAddress", "segmentationFieldValues"})
        if unknown:
            raise _malformed(f"The request body has unknown field(s): {', '.join(unknown)}.")
        list_id, message_id = self._locate(params, SEND_NOT_FOUND_MESSAGE)

        email = payload.get("emailAddress")
        if not isinstance(email, str) or not email.strip() or "@" not in email:
            raise _invalid("The emailAddress parameter is missing or is not a valid email address.")
        fields = [
            {"segmentationFieldId": k, "value": v} for k, v in _field_values(payload.get("segmentationFieldValues"))
        ]

        with self._lock:
            now = self._now()
            self._send_seq += 1
            send = _Send(
                seq=self._send_seq,
                list_id=list_id,
                message_id=message_id,
                email=email,
                fields=fields,
                resend_key=str(uuid.uuid4()),
                sent_at=now,
                send_date=_iso(now),
            )
            self._sends.append(send)
            self._sends_by_key[send.resend_key] = send
            self._counters["sends"] += 1
        resource_id = send.resend_key if self.resend_key_in_send_response else "null"
        return _Reply(201, {"status": 201, "resourceId": resource_id})

    # POST /email/v1/List/{listId}/TransactionalMessage/{transactionalMessageId}/Resend/{resendKey}
    def _handle_resend(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        list_id, message_id = self._locate(params, RESEND_NOT_FOUND_MESSAGE)
        forward = request.query.get("forwardaddress")
        if forward is not None and "@" not in forward:
            raise _invalid("The forwardAddress parameter is not a valid email address.")
        with self._lock:
            now = self._now()
            send = self._sends_by_key.get(params[2].strip().lower())
            if (
                send is None
                or (send.list_id, send.message_id) != (list_id, message_id)
                or now - send.sent_at > self.resend_window_seconds
            ):
                raise _ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", RESEND_NOT_FOUND_MESSAGE)
            self._resends.append(
                {
                    "listId": list_id,
                    "transactionalMessageId": message_id,
                    "resendKey": send.resend_key,
                    "emailAddress": forward if forward is not None else send.email,
                    "resendDate": _iso(now),
                }
            )
            self._counters["resends"] += 1
        return _Reply(201, {"status": 201, "resourceId": str(uuid.uuid4())})

    # GET /email/v1/List/{listId}/TransactionalMessage/{transactionalMessageId}/Activity
    def _handle_activity(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        with self._lock:
            self._counters["activity_requests"] += 1
        list_id, message_id = self._locate(params, SEND_NOT_FOUND_MESSAGE)
        query = request.query

        email = query.get("emailaddress")
        email = email.strip().lower() if email and email.strip() else None
        start = _parse_when("startDate", query["startdate"], end=False) if query.get("startdate") else None
        end = _parse_when("endDate", query["enddate"], end=True) if query.get("enddate") else None
        date_type = (query.get("datetype") or "Send").strip().lower()
        if date_type not in ("send", "activity"):
            raise _invalid("The dateType parameter must be Send or Activity.")
        raw_count = (query.get("count") or str(ACTIVITY_DEFAULT_COUNT)).strip()
        count = int(raw_count) if _DIGITS.match(raw_count) else 0
        if not 1 <= count <= ACTIVITY_MAX_COUNT:
            raise _invalid(f"The count parameter must be an integer from 1 to {ACTIVITY_MAX_COUNT}.")
        cursor = (query.get("cursor") or "Start").strip()

        with self._lock:
            after: tuple[float, int] | None = None
            if cursor.lower() != "start":
                saved = self._cursors.get(cursor)
                if saved is None or saved[:2] != (list_id, message_id):
                    raise _invalid("The cursor parameter is invalid.")
                after = saved[2]
            now = self._now()
            rows = []
            for send in sorted(self._sends, key=lambda s: (s.sent_at, s.seq)):
                if (send.list_id, send.message_id) != (list_id, message_id):
                    continue
                if now < send.sent_at + self.activity_delay_seconds:
                    continue  # not visible yet
                if after is not None and (send.sent_at, send.seq) <= after:
                    continue
                if email is not None and send.email.lower() != email:
                    continue
                if date_type == "activity" and (start is not None or end is not None):
                    continue  # no send here has any activity, so none has an activityDate in range
                second = math.floor(send.sent_at)  # sendDate has whole seconds; filter on what is shown
                if (start is not None and second < start) or (end is not None and second > end):
                    continue
                rows.append(send)
            page = rows[:count]
            next_cursor = None
            if len(rows) > count:
                next_cursor = secrets.token_urlsafe(24)
                self._cursors[next_cursor] = (list_id, message_id, (page[-1].sent_at, page[-1].seq))
        data = [
            {
                "emailAddress": send.email,
                "sendDate": send.send_date,
                "resendKey": send.resend_key,
                "activityDate": None,
                "abuse": False,
                "bounce": False,
                "bounceReason": None,
                "click": False,
                "clickCount": 0,
                "open": False,
                "orderTotal": 0.0,
                "read": False,
                "unsubscribe": False,
                "externalContactID": None,
            }
            for send in page
        ]
        return _Reply(200, {"status": 200, "nextPageCursor": next_cursor, "data": data})

    # POST /data/v1/{entity}
    def _handle_data(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Data")
        entity = params[0]
        payload = self._json_body(request)
        if not isinstance(payload, list):
            raise _malformed("The request body must be a JSON array.")
        if not payload:
            raise _invalid("The request body must contain at least one record.")
        if not all(isinstance(record, dict) for record in payload):
            raise _malformed("Every element of the request body must be a JSON object.")
        with self._lock:
            if self.keep_imported_records:
                self._imports[entity].append(payload)
            self._counters["data_imports"] += 1
            self._data_records[entity] += len(payload)
        return _Reply(201, {"status": 201, "resourceId": None})

    # -- lists, profile fields, contacts, list imports -----------------------------------------------------

    def _known_list(self, raw_list_id: str) -> _List:
        list_id = _route_int(raw_list_id)
        with self._lock:
            record = self._lists.get(list_id) if list_id is not None else None
        if record is None:
            raise _ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", LIST_NOT_FOUND_MESSAGE)
        return record

    def _known_import(self, params: tuple[str, ...]) -> _ListImport:
        """The import at {listId}/ListImport/{importFileId} (call with the lock held)."""
        list_id, import_id = _route_int(params[0]), _route_int(params[1])
        found = self._list_imports.get(import_id) if import_id is not None else None
        if found is None or found.list_id != list_id:
            raise _ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", LIST_IMPORT_NOT_FOUND_MESSAGE)
        return found

    # GET /email/v1/List
    def _handle_lists(self, request: _Request, _params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        with self._lock:
            data = [{"listId": record.list_id, "listName": record.name} for _, record in sorted(self._lists.items())]
        return _Reply(200, {"status": 200, "data": data})

    # GET /email/v1/List/{listId}/SegmentationFieldGroup
    def _handle_field_groups(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        record = self._known_list(params[0])
        with self._lock:
            data = [group.public() for group in sorted(record.groups.values(), key=lambda g: g.position)]
        return _Reply(200, {"status": 200, "data": data})

    # GET /email/v1/List/{listId}/SegmentationFieldGroup/{segmentationFieldGroupId}/SegmentationField
    def _handle_fields(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        record = self._known_list(params[0])
        group_id = _route_int(params[1])
        with self._lock:
            group = record.groups.get(group_id) if group_id is not None else None
            if group is None:
                raise _ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", FIELD_GROUP_NOT_FOUND_MESSAGE)
            data = [f.public() for f in sorted(group.fields.values(), key=lambda f: f.position)]
        return _Reply(200, {"status": 200, "data": data})

    # POST /email/v1/List/{listId}/Contact
    def _handle_contact(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        payload = self._json_body(request)
        if not isinstance(payload, dict):
            raise _malformed("The request body must be a JSON object.")
        unknown = sorted(set(payload) - _CONTACT_KEYS)
        if unknown:
            raise _malformed(f"The request body has unknown field(s): {', '.join(unknown)}.")
        record = self._known_list(params[0])
        override = _query_bool(request.query, "overrideUnsubscribe", False)

        email = payload.get("emailAddress")
        if not isinstance(email, str) or not email.strip() or "@" not in email:
            raise _invalid("The emailAddress parameter is missing or is not a valid email address.")
        email = email.strip()
        raw_state = payload.get("subscriptionState")
        state = "Subscribed" if raw_state is None else _choice(raw_state, SUBSCRIPTION_STATES)
        if state is None:
            raise _invalid("The subscriptionState parameter must be Subscribed or Unsubscribed.")
        if "segmentationFieldValues" not in payload:
            raise _invalid("The segmentationFieldValues parameter is missing or is not an array.")
        values = payload["segmentationFieldValues"]
        pairs = _field_values([] if values is None else values)  # null is accepted as "none"

        with self._lock:
            for field_id, _ in pairs:
                if field_id not in record.fields:
                    raise _invalid(
                        f"The segmentationFieldId {field_id} is not a profile field of list {record.list_id}."
                    )
            for field_id, value in pairs:
                profile_field = record.fields[field_id]
                if len(value) > profile_field.max_length:
                    raise _ApiError(
                        400,
                        "ERROR_SEGMENTATION_MAX_LENGTH",
                        f"The value of profile field {field_id} ({profile_field.name}) is longer than its "
                        f"maximum length of {profile_field.max_length}.",
                    )
            refusal = self._refused_addresses.get(email.lower())
            if refusal is not None and state == "Subscribed":
                raise _ApiError(400, refusal, ADDRESS_REFUSALS[refusal][0])
            if state == "Unsubscribed" and pairs and self.refuse_unsubscribe_with_data:
                raise _ApiError(
                    400,
                    "ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA",
                    "A contact cannot be unsubscribed with profile field values.",
                )
            contacts = self._contacts.setdefault(record.list_id, {})
            contact = contacts.get(email.lower())
            if (
                contact is not None
                and contact["subscriptionState"] == "Unsubscribed"
                and state == "Subscribed"
                and not override
            ):
                raise _ApiError(400, "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS", UNSUBSCRIBED_MESSAGE)
            if contact is None:
                contact = contacts[email.lower()] = {"emailAddress": email, "subscriptionState": state, "fields": {}}
            contact["subscriptionState"] = state
            contact["fields"].update(pairs)
            self._counters["contact_upserts"] += 1
        return _Reply(201, {"status": 201, "resourceId": email})

    # POST /email/v1/List/{listId}/ListImport
    def _handle_list_import(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        payload = self._json_body(request)
        if not isinstance(payload, dict):
            raise _malformed("The request body must be a JSON object.")
        unknown = sorted(set(payload) - _IMPORT_FILE_KEYS)
        if unknown:
            raise _malformed(f"The request body has unknown field(s): {', '.join(unknown)}.")
        record = self._known_list(params[0])

        delimiter = payload.get("fileDelimiter")
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise _invalid("The fileDelimiter parameter is missing or is not a single character.")
        file_name = payload.get("fileName")
        if not isinstance(file_name, str) or not file_name.strip():
            raise _invalid("The fileName parameter is missing or empty.")
        import_type = _choice(payload.get("importType"), LIST_IMPORT_TYPES)
        if import_type is None:
            raise _invalid(f"The importType parameter is missing or is not one of {', '.join(LIST_IMPORT_TYPES)}.")
        segmentation_import_type = _choice(payload.get("segmentationImportType"), SEGMENTATION_IMPORT_TYPES)
        if segmentation_import_type is None:
            raise _invalid(
                "The segmentationImportType parameter is missing or is not one of "
                f"{', '.join(SEGMENTATION_IMPORT_TYPES)}."
            )
        has_column_names = _body_bool(payload, "hasColumnNames")
        _body_bool(payload, "suppressEmailNotifications")
        _body_bool(payload, "triggerJourney")
        include_unsubscribed = _body_bool(payload, "includeUnsubscribed")
        qualifier = payload.get("textQualifier", '"')
        qualifier = '"' if qualifier is None else qualifier
        if not isinstance(qualifier, str) or len(qualifier) > 1 or qualifier == delimiter:
            raise _invalid("The textQualifier parameter must be one character other than the fileDelimiter.")

        email_column, field_columns, widest = self._import_mappings(record, payload.get("fileMappings"))
        rows = self._import_rows(payload.get("fileStream"), delimiter, qualifier)
        for number, row in enumerate(rows, 1):
            if widest >= len(row):
                raise _invalid(
                    f"The fileMappings parameter maps column {widest}, outside row {number} of the file "
                    f"({len(row)} column(s))."
                )
        data_rows = rows[1:] if has_column_names else rows
        if not data_rows:
            raise _invalid("The fileStream parameter has no rows to import.")

        with self._lock:
            self._list_import_seq += 1
            list_import = _ListImport(
                import_id=self._list_import_seq,
                list_id=record.list_id,
                file_name=file_name,
                import_type=import_type,
                segmentation_import_type=segmentation_import_type,
                include_unsubscribed=include_unsubscribed,
                email_column=email_column,
                field_columns=field_columns,
                rows=data_rows,
                started_at=self._now(),
                polls_until_done=max(0, int(self.list_import_polls_until_done)),
            )
            self._list_imports[list_import.import_id] = list_import
            self._counters["list_imports"] += 1
        resource_id = None if self.list_import_without_id else str(list_import.import_id)
        return _Reply(201, {"status": 201, "resourceId": resource_id})

    def _import_mappings(self, record: _List, mappings: Any) -> tuple[int, list[_FieldColumn], int]:
        """Validate fileMappings -> (the Email column, the profile field columns, the widest mapped column)."""
        if not isinstance(mappings, list) or not mappings:
            raise _invalid("The fileMappings parameter is missing or is not a non-empty array.")
        email_columns: list[int] = []
        field_columns: list[_FieldColumn] = []
        widest = 0
        for index, mapping in enumerate(mappings):
            where = f"fileMappings[{index}]"
            if not isinstance(mapping, dict):
                raise _invalid(f"The {where} parameter must be an object.")
            extra = sorted(set(mapping) - _IMPORT_MAPPING_KEYS)
            if extra:
                raise _malformed(f"The {where} object has unknown field(s): {', '.join(extra)}.")
            column = mapping.get("fileColumn")
            if not _is_int(column) or column < 0:
                raise _invalid(f"The {where}.fileColumn parameter must be a non-negative integer.")
            column_type = _choice(mapping.get("fileColumnType"), FILE_COLUMN_TYPES)
            if column_type is None:
                raise _invalid(f"The {where}.fileColumnType parameter must be one of {', '.join(FILE_COLUMN_TYPES)}.")
            default = mapping.get("defaultValue")
            if default is not None and not isinstance(default, str):
                raise _invalid(f"The {where}.defaultValue parameter must be a string.")
            widest = max(widest, column)
            if column_type == "Email":
                email_columns.append(column)
            elif column_type == "SegmentationField":
                field_id = mapping.get("segmentationFieldId")
                if not _is_int(field_id):
                    raise _invalid(f"The {where}.segmentationFieldId parameter must be an integer.")
                with self._lock:
                    known = field_id in record.fields
                if not known:
                    raise _invalid(
                        f"The {where}.segmentationFieldId {field_id} is not a profile field of list {record.list_id}."
                    )
                if any(existing.field_id == field_id for existing in field_columns):
                    raise _invalid(f"The {where}.segmentationFieldId {field_id} is mapped more than once.")
                field_columns.append(_FieldColumn(column, field_id, default))
            # Event and ExternalContactID columns are accepted and not applied.
        if len(email_columns) != 1:
            raise _invalid("The fileMappings parameter must map exactly one column of fileColumnType Email.")
        return email_columns[0], field_columns, widest

    @staticmethod
    def _import_rows(stream: Any, delimiter: str, qualifier: str) -> list[list[str]]:
        """Decode fileStream (base64 of UTF-8 text) and split it into CSV rows, blank lines left out."""
        if not isinstance(stream, str):
            raise _invalid("The fileStream parameter is missing or is not a base64 string.")
        try:
            text = base64.b64decode(stream, validate=True).decode("utf-8-sig")
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            raise _invalid("The fileStream parameter is not base64-encoded UTF-8 text.") from None
        options: dict[str, Any] = {"delimiter": delimiter}
        if qualifier:
            options["quotechar"] = qualifier
        else:
            options["quoting"] = csv.QUOTE_NONE
        try:
            return [row for row in csv.reader(io.StringIO(text, newline=""), **options) if row]
        except csv.Error as exc:
            raise _invalid(f"The fileStream parameter could not be read as delimited text: {exc}.") from None

    # GET /email/v1/List/{listId}/ListImport/{importFileId}/Status
    def _handle_list_import_status(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        with self._lock:
            self._counters["list_import_status_polls"] += 1
            list_import = self._known_import(params)
            if list_import.completed_at is None:
                if list_import.polls < list_import.polls_until_done:
                    list_import.polls += 1
                else:
                    self._apply_import(list_import)
            done = list_import.completed_at
            final = self.list_import_final_status or "Completed"
            data = {
                "startDate": _iso(list_import.started_at),
                "endDate": None if done is None else _iso(done),
                "status": "InProgress" if done is None else final,
            }
        return _Reply(200, {"status": 200, "data": data})

    # GET /email/v1/List/{listId}/ListImport/{importFileId}/Summary
    def _handle_list_import_summary(self, request: _Request, params: tuple[str, ...]) -> _Reply:
        self._authorize(request, "Email")
        with self._lock:
            data = dict(self._known_import(params).summary)
        return _Reply(200, {"status": 200, "data": data})

    def _apply_import(self, list_import: _ListImport) -> None:
        """Apply a list import to the list's contacts and fill its summary (lock held; once per import)."""
        record = self._lists[list_import.list_id]
        contacts = self._contacts.setdefault(list_import.list_id, {})
        counts = list_import.summary
        import_type = list_import.import_type

        def field_updates(contact: dict[str, Any] | None, row: list[str]) -> dict[int, str] | None:
            """The row's profile field values as they would be stored; None when one is over its maxLength."""
            updates: dict[int, str] = {}
            for column in list_import.field_columns:
                value = row[column.column]
                if value == "" and column.default is not None:
                    value = column.default
                if list_import.segmentation_import_type == "Append" and contact is not None:
                    value = contact["fields"].get(column.field_id, "") + value
                if len(value) > record.fields[column.field_id].max_length:
                    return None  # what Listrak does here is undocumented: skip the row, apply nothing
                updates[column.field_id] = value
            return updates

        for row in list_import.rows:
            counts["processedCount"] += 1
            email = row[list_import.email_column].strip()
            if "@" not in email:
                counts["invalidEmailCount"] += 1
                continue
            contact = contacts.get(email.lower())
            subscribed = contact is not None and contact["subscriptionState"] == "Subscribed"
            refusal = self._refused_addresses.get(email.lower())
            if refusal is not None and import_type != "RemoveSubscribers":
                counts[ADDRESS_REFUSALS[refusal][1]] += 1
                continue

            if import_type == "RemoveSubscribers":
                if contact is None:
                    counts["skippedCount"] += 1
                elif subscribed:
                    contact["subscriptionState"] = "Unsubscribed"
                    counts["unsubscribedCount"] += 1
                else:
                    counts["alreadyUnsubscribedCount"] += 1
                continue

            if import_type == "UpdateSubscribers":
                if contact is None:
                    counts["skippedCount"] += 1
                    continue
                if subscribed or list_import.include_unsubscribed:
                    updates = field_updates(contact, row)
                    if updates is None:
                        counts["skippedCount"] += 1
                        continue
                    contact["fields"].update(updates)
                counts["alreadySubscribedCount" if subscribed else "previouslyUnsubscribedCount"] += 1
                continue

            # AddSubscribers, AddSubscribersAndSegmentationData: nobody unsubscribed is subscribed again.
            updates = field_updates(contact, row) if import_type == "AddSubscribersAndSegmentationData" else {}
            if updates is None:
                counts["skippedCount"] += 1
                continue
            if contact is None:
                contacts[email.lower()] = {"emailAddress": email, "subscriptionState": "Subscribed", "fields": updates}
                counts["subscribedCount"] += 1
                continue
            contact["fields"].update(updates)
            counts["alreadySubscribedCount" if subscribed else "previouslyUnsubscribedCount"] += 1
        list_import.completed_at = self._now()

    # -- control routes (no auth, not counted, no faults) --------------------------------------------------

    def _serve_control(self, request: _Request) -> _Reply:
        if request.body is None:
            return _error(404, "ERROR_UNKNOWN_ROUTE", "Not Found")
        name = request.path[len("/_sandbox/") :].strip("/")
        methods = _CONTROL_ROUTES.get(name)
        if methods is None:
            return _error(404, "ERROR_UNKNOWN_ROUTE", "The requested route does not exist.")
        handler_name = methods.get(request.method)
        if handler_name is None:
            return _error(
                405,
                "ERROR_UNSUPPORTED_METHOD",
                f"The requested resource does not support the HTTP method '{request.method}'.",
                [("Allow", ", ".join(methods))],
            )
        try:
            return getattr(self, handler_name)(request)
        except _ApiError as exc:
            return exc.reply

    @staticmethod
    def _control_json(request: _Request) -> dict[str, Any]:
        try:
            payload = json.loads((request.body or b"{}").decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise _malformed() from None
        if not isinstance(payload, dict):
            raise _malformed("The request body must be a JSON object.")
        return payload

    def _control_stats(self, _request: _Request) -> _Reply:
        return _Reply(200, self.stats)

    def _control_sends(self, _request: _Request) -> _Reply:
        return _Reply(200, self.sent_messages)

    def _control_resends(self, _request: _Request) -> _Reply:
        return _Reply(200, self.resends)

    def _control_data(self, _request: _Request) -> _Reply:
        return _Reply(200, self.data_imports)

    def _control_faults(self, request: _Request) -> _Reply:
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
            raise _invalid(str(exc)) from None
        return _Reply(200, {"status": 200})

    def _control_revoke(self, _request: _Request) -> _Reply:
        self.revoke_tokens()
        return _Reply(200, {"status": 200})

    def _control_reset(self, _request: _Request) -> _Reply:
        self.reset()
        return _Reply(200, {"status": 200})

    def _control_clients(self, request: _Request) -> _Reply:
        payload = self._control_json(request)
        client_id, client_secret = payload.get("clientId"), payload.get("clientSecret")
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise _invalid("clientId and clientSecret must be strings.")
        try:
            self.add_client(client_id, client_secret, payload.get("integration", ""))
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        return _Reply(200, {"status": 200})

    def _control_messages(self, request: _Request) -> _Reply:
        payload = self._control_json(request)
        list_id, message_id = payload.get("listId"), payload.get("transactionalMessageId")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (list_id, message_id)):
            raise _invalid("listId and transactionalMessageId must be integers.")
        self.add_transactional_message(list_id, message_id)
        return _Reply(200, {"status": 200})

    def _control_contacts(self, _request: _Request) -> _Reply:
        return _Reply(200, self.contacts)  # JSON turns the integer keys (listId, fieldId) into strings

    # -- connection bookkeeping ----------------------------------------------------------------------------

    def _track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)


# ----------------------------------------------------------------------------------------------------
# HTTP plumbing


class _BadFraming(Exception):
    """The request body's framing (Content-Length, chunks) could not be read."""


class _SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: ListrakSandbox):
        self.sandbox = sandbox
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a machine without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # a client that went away; nothing to report
            return
        super().handle_error(request, client_address)


class _SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ListrakSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait on delayed ACKs
    server: _SandboxServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        pass

    def setup(self) -> None:
        super().setup()
        self.server.sandbox._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sandbox._untrack(self.connection)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        try:
            body = self._read_body(sandbox.max_body_bytes)
        except _BadFraming:
            self.close_connection = True
            self._write(_error(400, "ERROR_MALFORMED_REQUEST_BODY", "The request body could not be read."))
            return
        except OSError:
            self.close_connection = True
            return
        split = urlsplit(self.path)
        query = {name.lower(): values[-1] for name, values in parse_qs(split.query, keep_blank_values=True).items()}
        request = _Request(self.command, split.path, query, self.headers, body)
        try:
            outcome = sandbox._serve(request)
        except Exception:  # a sandbox bug should look like Listrak's 500, not a hung client
            outcome = _Outcome(_error(500, "ERROR_UNHANDLED_EXCEPTION", "An unhandled exception occurred."))
        if outcome.delay > 0:
            sandbox._stopping.wait(outcome.delay)
        if outcome.reply is None:
            self.close_connection = True  # the socket is closed with no answer at all
            return
        self._write(outcome.reply)

    def _write(self, reply: _Reply) -> None:
        data = json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", JSON_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    # -- request bodies: always read to the end, so the connection stays usable ----------------------------

    def _read_body(self, limit: int) -> bytes | None:
        """The body, or None when it was over `limit` (then it is read and discarded, never held)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        if not _DIGITS.match(raw_length.strip()):
            raise _BadFraming
        length = int(raw_length)
        if length > limit:  # decided from the header alone, before reading anything
            self._discard(length)
            return None
        data = self.rfile.read(length)
        if len(data) < length:
            raise OSError("the client closed the connection mid-body")
        return data

    def _discard(self, length: int) -> None:
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(_DRAIN_CHUNK, remaining))
            if not chunk:
                raise OSError("the client closed the connection mid-body")
            remaining -= len(chunk)

    def _read_chunked(self, limit: int) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise OSError("the client closed the connection mid-body")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadFraming from None
            if size == 0:
                break
            total += size
            if total > limit:
                parts = []
                self._discard(size)
            else:
                data = self.rfile.read(size)
                if len(data) < size:
                    raise OSError("the client closed the connection mid-body")
                parts.append(data)
            self.rfile.readline(1024)  # the CRLF after each chunk
        while True:  # trailers, up to the blank line
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                break
        return None if total > limit else b"".join(parts)


# ----------------------------------------------------------------------------------------------------
# Command line


def _parse_client(text: str) -> tuple[str, str, str]:
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or parts[2] not in INTEGRATIONS:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:CLIENT_SECRET:Email|Data")
    return parts[0], parts[1], parts[2]


def _parse_message(text: str) -> tuple[int, int]:
    try:
        list_id, message_id = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected LIST_ID:TRANSACTIONAL_MESSAGE_ID (integers)") from None
    return list_id, message_id


def _parse_list(text: str) -> tuple[int, str]:
    raw_id, _, name = text.partition(":")
    if not _DIGITS.match(raw_id.strip()) or not name:
        raise argparse.ArgumentTypeError("expected LIST_ID:LIST_NAME")
    return int(raw_id), name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack.listrak_sandbox", description="Serve a local Listrak stand-in."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025, help="0 picks a free port (default 8025)")
    parser.add_argument("--token-ttl", type=int, default=3599, help="expires_in of minted tokens, in seconds")
    parser.add_argument("--activity-delay", type=float, default=0.0, help="seconds before a send shows up")
    parser.add_argument("--resource-id-null", action="store_true", help='answer sends with resourceId "null"')
    parser.add_argument("--client", action="append", type=_parse_client, default=[], metavar="ID:SECRET:Email|Data")
    parser.add_argument("--message", action="append", type=_parse_message, default=[], metavar="LIST:MESSAGE")
    parser.add_argument("--list", action="append", type=_parse_list, default=[], metavar="ID:NAME", dest="lists")
    args = parser.parse_args(argv)

    sandbox = ListrakSandbox(
        args.host,
        args.port,
        token_ttl_seconds=args.token_ttl,
        activity_delay_seconds=args.activity_delay,
        resend_key_in_send_response=not args.resource_id_null,
    )
    sandbox.seed_defaults()
    for client_id, client_secret, integration in args.client:
        sandbox.add_client(client_id, client_secret, integration)
    for list_id, message_id in args.message:
        sandbox.add_transactional_message(list_id, message_id)
    for list_id, name in args.lists:
        sandbox.add_list(list_id, name)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sandbox.start()
    except OSError as exc:
        print(f"listrak_sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    with sandbox._lock:
        clients = sorted(sandbox._clients.items())
        messages = sorted(sandbox._messages)
        lists = sorted((list_id, record.name) for list_id, record in sandbox._lists.items())
    lines = [
        f"Listrak sandbox serving on {sandbox.url}",
        f"  auth_url       {sandbox.auth_url}",
        f"  email_api_url  {sandbox.email_api_url}",
        f"  data_api_url   {sandbox.data_api_url}",
        f"  control        {sandbox.url}/_sandbox/stats (also /sends, /contacts, /faults, /revoke, /reset)",
        "Clients (integration  client_id  client_secret):",
        *(f"  {client.integration:<5}  {client_id}  {client.secret}" for client_id, client in clients),
        "Transactional messages (listId  transactionalMessageId):",
        *(f"  {list_id}  {message_id}" for list_id, message_id in messages),
        *(["Lists (listId  listName):"] if lists else []),
        *(f"  {list_id}  {name}" for list_id, name in lists),
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
