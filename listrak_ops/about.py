"""What a parked message concerns, in the words an operator searches by: a send's reference and order, an import's
file. Read from the message itself; the reference through the project's catalog, exactly as the send path forms it.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from listrak_ops.target import find_samconfig

# Where an order's number stands in the events the sample catalog reads (Shopify, Klaviyo, the simplified shape).
ORDER_PATHS = (
    "payload.order_number",
    "payload.name",
    "properties.OrderId",
    "data.attributes.properties.OrderId",
    "data.attributes.properties.OrderNumber",
)


@cache
def _catalog() -> Any:
    """The catalog a deployed send function runs with: CATALOG_PATH, else the checkout's; None without one."""
    from listrak_kit.catalog.model import load_catalog
    from listrak_kit.errors import ConfigurationError

    named = os.environ.get("CATALOG_PATH")
    samconfig = find_samconfig()
    path = Path(named) if named else (samconfig.parent / "functions/send/catalog.toml" if samconfig else None)
    if path is None or not path.is_file():
        return None
    try:
        return load_catalog(path)
    except ConfigurationError:
        return None


def about(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    if isinstance(payload.get("key"), str):  # an import part or file task
        part = f" part {payload['part']}" if payload.get("part") is not None else ""
        return f"file {payload['key']}{part}"
    if "detail-type" in payload and isinstance(payload.get("detail"), dict):
        return _event(payload)
    return ""


def _event(event: dict[str, Any]) -> str:
    from listrak_kit.send.event_mapping import lookup

    detail = event["detail"]
    said = [f"event {event.get('id')} ({event.get('detail-type')})"]
    reference = _reference(event)
    if reference:
        said.insert(0, f"reference {reference}")
    for path in ORDER_PATHS:
        value = lookup(detail, path)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            said.append(f"order {value}")
            break
    return ", ".join(said)


def _reference(event: dict[str, Any]) -> str | None:
    from listrak_kit.send.event_mapping import reference_for, trigger_for

    catalog = _catalog()
    if catalog is None:
        return None
    try:
        name, trigger = trigger_for(catalog, detail_type=str(event["detail-type"]), detail=event["detail"])
    except Exception:  # no message for it: the reason says so
        return None
    return reference_for(name, trigger, event["detail"], str(event.get("id")))
