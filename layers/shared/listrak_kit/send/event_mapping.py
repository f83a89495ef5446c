"""Turns a storefront event (Klaviyo-shaped `detail`: profile, properties, unique_id) into a send request."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from listrak_kit.catalog.model import Catalog
from listrak_kit.core.problems import problems_from
from listrak_kit.errors import FieldProblem, InvalidRequest, UnknownMessage
from listrak_kit.send.models import SendRequest

_MISSING = object()


def request_from_event(catalog: Catalog, *, detail_type: str, detail: Any, event_id: str) -> SendRequest:
    name = catalog.by_detail_type.get(detail_type)
    if name is None:
        raise UnknownMessage(f"no catalog message is triggered by detail-type {detail_type!r}")
    mapping = catalog.messages[name].event
    assert mapping is not None  # by_detail_type only lists messages with an event mapping
    if not isinstance(detail, dict):
        raise InvalidRequest([FieldProblem("detail", "must be an object")])

    problems: list[FieldProblem] = []
    email = lookup(detail, mapping.emailAddress)
    if email is _MISSING:
        problems.append(FieldProblem(f"detail.{mapping.emailAddress}", "missing (the recipient's address)"))

    fields: dict[str, Any] = {}
    for field_name, path in mapping.fields.items():
        value = lookup(detail, path)
        if value is _MISSING or value is None:
            continue  # an absent optional property leaves the profile field empty
        fields[field_name] = value

    items: Any = []
    if mapping.items:
        items = lookup(detail, mapping.items)
        if items is _MISSING:
            items = []
        elif not isinstance(items, list):
            problems.append(FieldProblem(f"detail.{mapping.items}", "must be a list of items"))

    # The event's own key, scoped by message: one order id may trigger several different emails.
    unique = lookup(detail, mapping.reference) if mapping.reference else _MISSING
    key = unique if isinstance(unique, (str, int)) and not isinstance(unique, bool) and str(unique) else event_id
    reference = f"{name}/{key}"

    if problems:
        raise InvalidRequest(problems)
    try:
        return SendRequest(emailAddress=email, message=name, fields=fields, items=items, reference=reference)
    except ValidationError as exc:
        # Name the event's own paths, not the request's, so the problem can be found in the event.
        rename = {"emailAddress": f"detail.{mapping.emailAddress}", "reference": f"detail.{mapping.reference}"}
        rename |= {f"fields.{n}": f"detail.{p}" for n, p in mapping.fields.items()}
        if mapping.items:
            rename["items"] = f"detail.{mapping.items}"
        raise InvalidRequest(problems_from(exc, rename=rename)) from None


def lookup(document: Any, path: str) -> Any:
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current
