"""Turns a storefront event into an SMS request, by the catalog's SMS trigger for its detail-type (and topic).

An event may trigger an email and an SMS at once; each has its own reference (`<message>/<event id>`). An event
without a phone number triggers no SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from listrak_kit.catalog.model import Catalog
from listrak_kit.core.paths import MISSING, event_key, first, found
from listrak_kit.core.problems import problems_from
from listrak_kit.errors import FieldProblem, InvalidRequest
from listrak_kit.sms.models import SmsRequest


@dataclass(frozen=True)
class EventSms:
    request: SmsRequest
    paths: dict[str, str]  # a request field -> the event's path it came from (to name a problem where it is)

    def named(self, refused: InvalidRequest) -> InvalidRequest:
        """The send's refusal, naming the event's paths."""
        return InvalidRequest([FieldProblem(_renamed(p.field, self.paths), p.message) for p in refused.problems])


def _renamed(name: str, paths: dict[str, str]) -> str:
    for original, replacement in paths.items():
        if name == original or name.startswith(original + "."):
            return replacement + name[len(original) :]
    return name


def sms_request_from_event(catalog: Catalog, *, detail_type: str, detail: Any, event_id: str) -> EventSms | None:
    """The SMS this event sends, None when it sends none; InvalidRequest names the event's own paths."""
    triggered = catalog.sms_trigger_for(detail_type=detail_type, detail=detail)
    if triggered is None:
        return None
    name, trigger = triggered
    phone = first(detail, trigger.phoneNumber)
    if phone is MISSING or phone is None or phone == "":
        return None
    if not isinstance(phone, str):
        raise InvalidRequest([FieldProblem(f"detail.{found(detail, trigger.phoneNumber)}", "must be a string")])
    fields: dict[str, Any] = {}
    for field_name, paths in trigger.fields.items():
        value = first(detail, paths)
        if value is not MISSING and value is not None:
            fields[field_name] = value
    key = event_key(detail, trigger.reference) or event_id
    rename = {"phoneNumber": f"detail.{found(detail, trigger.phoneNumber)}"}
    rename |= {f"fields.{n}": f"detail.{found(detail, p)}" for n, p in trigger.fields.items()}
    if trigger.reference:
        rename["reference"] = f"detail.{found(detail, trigger.reference)}"
    try:
        request = SmsRequest(message=name, phoneNumber=phone, fields=fields, reference=f"{name}/{key}")
    except ValidationError as exc:
        raise InvalidRequest(problems_from(exc, rename=rename)) from None
    return EventSms(request, rename)
