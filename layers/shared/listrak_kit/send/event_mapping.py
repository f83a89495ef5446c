"""Turns a storefront event into a send request, by the catalog trigger its detail-type (and topic) selects.

Events come as the platform emits them (a Shopify webhook, a Klaviyo Create Event body) or in the simplified
shape (profile, properties, unique_id); the trigger's paths say where each value is.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from listrak_kit.catalog.item_block import check_items
from listrak_kit.catalog.model import Catalog, Trigger
from listrak_kit.catalog.sms import SmsTrigger
from listrak_kit.core.fields import nesting_problem
from listrak_kit.core.paths import MISSING as _MISSING
from listrak_kit.core.paths import event_key, first, lookup
from listrak_kit.core.paths import found as _found
from listrak_kit.core.problems import problems_from
from listrak_kit.errors import FieldProblem, InvalidRequest, NotTriggered, UnknownMessage
from listrak_kit.send.models import SendRequest


def trigger_for(catalog: Catalog, *, detail_type: str, detail: Any) -> tuple[str, Trigger]:
    """The message this event triggers and how to read it.

    UnknownMessage: no trigger for the detail-type (a misrouted event). NotTriggered: the detail-type is known
    but its topic or metric is not in the catalog (ignore it). InvalidRequest: the topic itself is absent.
    """
    if problem := nesting_problem(detail):  # refused here, at the door, not lost to a RecursionError later
        raise InvalidRequest([FieldProblem("detail", problem)])
    entry = catalog.triggers.get(detail_type)
    if entry is None:
        raise UnknownMessage(f"no catalog message is triggered by detail-type {detail_type!r}")
    if not isinstance(detail, dict):
        raise InvalidRequest([FieldProblem("detail", "must be an object")])
    if entry.unconditional is not None:
        return entry.unconditional
    assert entry.path is not None  # an index entry has either an unconditional trigger or a tested path
    value = lookup(detail, entry.path)
    if value is _MISSING or not isinstance(value, str) or not value:
        raise InvalidRequest([FieldProblem(f"detail.{entry.path}", "missing (it selects the message to send)")])
    found = entry.by_value.get(value)
    if found is None:
        raise NotTriggered(f"no catalog message is triggered by {entry.path} = {value[:100]!r}; nothing was sent")
    return found


def request_from_event(catalog: Catalog, *, detail_type: str, detail: Any, event_id: str) -> SendRequest:
    name, trigger = trigger_for(catalog, detail_type=detail_type, detail=detail)
    return checked_request(catalog, name, trigger, detail=detail, event_id=event_id)


def checked_request(catalog: Catalog, name: str, trigger: Trigger, *, detail: Any, event_id: str) -> SendRequest:
    """The send request, its items checked first so that a bad item is named by its path in the event (the send
    path renders them, within its limits)."""
    request = request_for(name, trigger, detail=detail, event_id=event_id)
    block = catalog.messages[name].items
    if block is not None and request.items:
        check_items(block, request.items, field_prefix=f"detail.{trigger.items}")
    return request


def reference_key(trigger: Trigger | SmsTrigger, detail: Any) -> str | None:
    """The platform's own id of the event (a Shopify event id, a Klaviyo unique_id), when it has one."""
    return event_key(detail, trigger.reference)


def reference_for(name: str, trigger: Trigger, detail: Any, event_id: str) -> str:
    """The event's own key, scoped by message: one order may trigger several different emails."""
    return f"{name}/{reference_key(trigger, detail) or event_id}"


def request_for(name: str, trigger: Trigger, *, detail: dict[str, Any], event_id: str) -> SendRequest:
    problems: list[FieldProblem] = []
    email = first(detail, trigger.emailAddress)
    if email is _MISSING or email is None:
        problems.append(FieldProblem(f"detail.{trigger.emailAddress[0]}", "missing (the recipient's address)"))

    fields: dict[str, Any] = {}
    for field_name, paths in trigger.fields.items():
        value = first(detail, paths)
        if value is _MISSING or value is None:
            continue  # an absent optional property leaves the profile field empty
        fields[field_name] = value

    items: Any = []
    if trigger.items:
        items = lookup(detail, trigger.items)
        if items is _MISSING:
            items = []
        elif not isinstance(items, list):
            problems.append(FieldProblem(f"detail.{trigger.items}", "must be a list of items"))
        elif trigger.itemFields or trigger.itemDefaults:
            items = [_item(item, trigger) for item in items]

    reference = reference_for(name, trigger, detail, event_id)

    if problems:
        raise InvalidRequest(problems)
    try:
        return SendRequest(emailAddress=email, message=name, fields=fields, items=items, reference=reference)
    except ValidationError as exc:
        # Name the event's own paths, not the request's, so the problem can be found in the event.
        rename = {"emailAddress": f"detail.{_found(detail, trigger.emailAddress)}"}
        if trigger.reference:
            rename["reference"] = f"detail.{_found(detail, trigger.reference)}"
        rename |= {f"fields.{n}": f"detail.{_found(detail, p)}" for n, p in trigger.fields.items()}
        if trigger.items:
            rename["items"] = f"detail.{trigger.items}"
        raise InvalidRequest(problems_from(exc, rename=rename)) from None


def _item(item: Any, trigger: Trigger) -> Any:
    """One platform item (a Shopify line item) with the item block's slot names."""
    if not isinstance(item, dict):
        return item  # the item block names the problem
    mapped = dict(item)
    for slot, paths in trigger.itemFields.items():
        value = first(item, paths)
        if value is _MISSING:
            mapped.pop(slot, None)
        else:
            mapped[slot] = value
    for slot, default in trigger.itemDefaults.items():
        if mapped.get(slot) in (None, ""):
            mapped[slot] = default
    return mapped
