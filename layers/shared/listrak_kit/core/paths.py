"""Dotted paths into an event's `detail` (`payload.customer.email`, `payload.fulfillments.0.tracking_number`)."""

from __future__ import annotations

from typing import Any

MISSING = object()


def first(document: Any, paths: list[str]) -> Any:
    for path in paths:
        value = lookup(document, path)
        if value is not MISSING:
            return value
    return MISSING


def event_key(document: Any, paths: list[str]) -> str | None:
    """The platform's own id of an event (a Shopify event id, a Klaviyo unique_id) at the first path present."""
    unique = first(document, paths)
    if isinstance(unique, (str, int)) and not isinstance(unique, bool) and str(unique):
        return str(unique)
    return None


def found(document: Any, paths: list[str]) -> str:
    return next((p for p in paths if lookup(document, p) is not MISSING), paths[0])


def lookup(document: Any, path: str) -> Any:
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current
