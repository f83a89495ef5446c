"""Listrak's wire types: constants, error envelopes, requests and replies, and the value checks shared by
every route."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

INTEGRATIONS = ("Email", "Data", "Privacy", "SMS")
DATA_ENTITIES = ("Customer", "Order", "Product", "Review", "RatingSummary")
SUBSCRIPTION_STATES = ("Subscribed", "Unsubscribed")  # what a request may set
CONTACT_STATES = (*SUBSCRIPTION_STATES, "Banned", "Suppressed", "Pending")  # what a contact may be in
# The error code Listrak refuses to subscribe an address with -> the state it stands for (refuse_address).
ADDRESS_REFUSALS = {
    "ERROR_BANNED_EMAIL_ADDRESS": "Banned",
    "ERROR_SUPPRESSED_EMAIL": "Suppressed",
    "ERROR_PENDING_EMAIL_ADDRESS": "Pending",
}
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

# What `python -m local_stack.sandbox` seeds (and `seed_defaults()` adds).
SEED_CLIENTS = (
    ("sandbox-email-client", "sandbox-email-secret", "Email"),
    ("sandbox-data-client", "sandbox-data-secret", "Data"),
    ("sandbox-privacy-client", "sandbox-privacy-secret", "Privacy"),
    ("sandbox-sms-client", "sandbox-sms-secret", "SMS"),
)
SEED_TRANSACTIONAL_MESSAGES = ((1001, 2001),)
SEED_SMS_MESSAGES = ((501, 601, 701),)  # (senderCodeId, phoneListId, transactionalMessageId)

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
ACTIVITY_MAX_COUNT = 5000
ACTIVITY_DEFAULT_COUNT = 1000
# Seconds after a send before Transactional Message Activity shows it, by default.
ACTIVITY_LAG_SECONDS = 60.0
COUNTERS = (
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
    "forget_requests",
    "forget_polls",
    "sms_sends",
    "sms_refused",
)
# Seconds of the sandbox's clock a forget request stays PROCESSING before it reads COMPLETE, by default.
FORGET_DELAY_SECONDS = 600.0
# Body properties the spec defines (readOnly ones included: they are accepted and ignored, as ASP.NET does).
CONTACT_KEYS = frozenset(
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
IMPORT_FILE_KEYS = frozenset(
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
IMPORT_MAPPING_KEYS = frozenset({"fileColumn", "fileColumnType", "segmentationFieldId", "defaultValue"})


@dataclass
class Reply:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    reply: Reply | None  # None: close the connection without answering
    delay: float = 0.0  # seconds to wait (outside the lock) before answering or closing


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]  # names as sent, last value wins
    headers: Any  # http.client.HTTPMessage
    body: bytes | None  # None when the body was over max_body_bytes (and was drained, not kept)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.reply = error_reply(status, code, message, headers)


def error_reply(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, {"status": status, "error": code, "message": message}, list(headers or []))


def invalid(message: str) -> ApiError:
    return ApiError(400, "ERROR_INVALID_PARAMETER", message)


def malformed(message: str = "The request body could not be parsed.") -> ApiError:
    return ApiError(400, "ERROR_MALFORMED_REQUEST_BODY", message)


def iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_iso(epoch_seconds: float, zone: str | None) -> str:
    """Listrak's sendDate: UTC with a Z, or (`zone` given) that zone's local time without any zone."""
    if zone is None:
        return iso(epoch_seconds)
    return datetime.fromtimestamp(epoch_seconds, ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")


def media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DIGITS = re.compile(r"^[0-9]+$")


def parse_when(name: str, value: str, *, end: bool) -> float:
    """ISO-8601 date or date-time -> epoch seconds (naive means UTC); a date-only end covers its whole day."""
    text = value.strip()
    try:
        if DATE_ONLY.match(text):
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
            return start + 86_399 if end else start
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"The {name} parameter is not a valid ISO-8601 date or date-time.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def route_int(value: str) -> int | None:
    return int(value) if DIGITS.match(value) else None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def choice(value: Any, allowed: tuple[str, ...]) -> str | None:
    """`value` when it is one of `allowed`, spelt exactly (case included), else None."""
    return value if isinstance(value, str) and value in allowed else None


def query_bool(query: dict[str, str], name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None:
        return default
    text = raw.strip().lower()  # .NET parses booleans case-insensitively ("True" is its own spelling)
    if text not in ("true", "false"):
        raise invalid(f"The {name} parameter must be true or false.")
    return text == "true"


def body_bool(payload: dict[str, Any], name: str) -> bool:
    value = payload.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(f"The {name} parameter must be a boolean.")
    return value


def field_values(values: Any) -> list[tuple[int, str]]:
    """Validate a segmentationFieldValues array (shape, then duplicates) -> [(segmentationFieldId, value)]."""
    if not isinstance(values, list):
        raise invalid("The segmentationFieldValues parameter is missing or is not an array.")
    pairs: list[tuple[int, str]] = []
    for index, entry in enumerate(values):
        where = f"segmentationFieldValues[{index}]"
        if not isinstance(entry, dict):
            raise invalid(f"The {where} parameter must be an object.")
        extra = sorted(set(entry) - {"segmentationFieldId", "value"})
        if extra:
            raise malformed(f"The {where} object has unknown field(s): {', '.join(extra)}.")
        field_id = entry.get("segmentationFieldId")
        if not is_int(field_id):
            raise invalid(f"The {where}.segmentationFieldId parameter must be an integer.")
        if not isinstance(entry.get("value"), str):
            raise invalid(f"The {where}.value parameter must be a string.")
        pairs.append((field_id, entry["value"]))
    if len({field_id for field_id, _ in pairs}) != len(pairs):
        raise ApiError(
            400,
            "ERROR_SEGMENTATION_FIELD_DEFINED_TWICE",
            "A segmentation field was defined more than once.",
        )
    return pairs
