"""Which route a request is for: paths and query names exactly as the spec spells them."""

from __future__ import annotations

import re
from urllib.parse import unquote

from local_stack.sandbox.wire import DATA_ENTITIES, ApiError, Request, invalid

# ----------------------------------------------------------------------------------------------------
# Routes: (fault route, pattern, {method: handler name}). Paths match exactly, case included: a client that
# mis-cases one fails here rather than against a Listrak whose routing is not promised to forgive it.

_EMAIL_PREFIX = r"^/email/v1/List/([^/]+)/TransactionalMessage/([^/]+)"
_LIST_PREFIX = r"^/email/v1/List/([^/]+)"
# Routes 1-3 (lists, profile fields) take only "*" faults: "lists" is not in FAULT_ROUTES.
ROUTES: tuple[tuple[str, re.Pattern[str], dict[str, str]], ...] = (
    ("token", re.compile(r"^/OAuth2/Token/?$"), {"POST": "_handle_token"}),
    ("send", re.compile(_EMAIL_PREFIX + r"/Message/?$"), {"POST": "_handle_send"}),
    ("resend", re.compile(_EMAIL_PREFIX + r"/Resend/([^/]+)/?$"), {"POST": "_handle_resend"}),
    ("activity", re.compile(_EMAIL_PREFIX + r"/Activity/?$"), {"GET": "_handle_activity"}),
    ("lists", re.compile(_LIST_PREFIX + r"/TransactionalMessage/?$"), {"GET": "_handle_messages"}),
    ("lists", re.compile(_EMAIL_PREFIX + r"/?$"), {"GET": "_handle_message"}),
    ("data", re.compile(r"^/data/v1/([^/]+)/?$"), {"POST": "_handle_data"}),
    (
        "sms",
        re.compile(r"^/sms/v1/ShortCode/([^/]+)/PhoneList/([^/]+)/TransactionalMessage/([^/]+)/Message/?$"),
        {"POST": "_handle_sms_send"},
    ),
    ("lists", re.compile(r"^/email/v1/List/?$"), {"GET": "_handle_lists"}),
    ("privacy", re.compile(r"^/privacy/v1/Forget/?$"), {"POST": "_handle_forget"}),
    ("privacy", re.compile(r"^/privacy/v1/Forget/([^/]+)/?$"), {"GET": "_handle_forget_status"}),
    (
        "lists",
        re.compile(_LIST_PREFIX + r"/SegmentationFieldGroup/?$"),
        {"GET": "_handle_field_groups"},
    ),
    (
        "lists",
        re.compile(_LIST_PREFIX + r"/SegmentationFieldGroup/([^/]+)/SegmentationField/?$"),
        {"GET": "_handle_fields"},
    ),
    ("contacts", re.compile(_LIST_PREFIX + r"/Contact/?$"), {"POST": "_handle_contact"}),
    ("contacts", re.compile(_LIST_PREFIX + r"/ListImport/?$"), {"POST": "_handle_list_import"}),
    (
        "contacts",
        re.compile(_LIST_PREFIX + r"/ListImport/([^/]+)/Status/?$"),
        {"GET": "_handle_list_import_status"},
    ),
    (
        "contacts",
        re.compile(_LIST_PREFIX + r"/ListImport/([^/]+)/Summary/?$"),
        {"GET": "_handle_list_import_summary"},
    ),
)
# The query parameters each route takes, spelt as the spec spells them (names match exactly).
QUERY_NAMES: dict[str, tuple[str, ...]] = {
    "_handle_resend": ("forwardAddress",),
    "_handle_activity": ("activityType", "dateType", "cursor", "count", "startDate", "endDate", "emailAddress"),
    "_handle_contact": (
        "eventIds",
        "overrideUnsubscribe",
        "subscribedByContact",
        "sendDoubleOptIn",
        "updateType",
        "newEmailAddress",
    ),
}


def route_of(request: Request) -> tuple[str, str, tuple[str, ...]]:
    """(fault route, handler name, path parameters) of an API request; ApiError when Listrak would refuse it."""
    for route, pattern, methods in ROUTES:
        match = pattern.match(request.path)
        if match is None:
            continue
        params = tuple(unquote(group) for group in match.groups())
        if route == "data":
            entity = params[0] if params[0] in DATA_ENTITIES else None
            if entity is None:
                raise ApiError(404, "ERROR_UNKNOWN_ROUTE", "The requested route does not exist.")
            params = (entity,)
        handler_name = methods.get(request.method)
        if handler_name is None:
            raise ApiError(
                405,
                "ERROR_UNSUPPORTED_METHOD",
                f"The requested resource does not support the HTTP method '{request.method}'.",
                [("Allow", ", ".join(methods))],
            )
        allowed = QUERY_NAMES.get(handler_name, ())
        unknown = sorted(name for name in request.query if name not in allowed)
        if unknown:
            raise invalid(
                f"The query parameter(s) {', '.join(unknown)} are not parameters of this route"
                + (f" ({', '.join(allowed)})." if allowed else " (it takes none).")
            )
        return route, handler_name, params
    raise ApiError(404, "ERROR_UNKNOWN_ROUTE", "The requested route does not exist.")
