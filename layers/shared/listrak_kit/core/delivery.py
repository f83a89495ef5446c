"""What became of a sent email, from Listrak's Activity: bounced, complained, unsubscribed, clicked, opened.

What has been seen is only ever added to (each with the activity date it was first seen at), and the status is
derived from it by precedence, so a row read twice changes nothing and a status never goes backwards.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

DeliveryStatus = Literal["unknown", "sent", "bounced", "complained", "unsubscribed", "clicked", "opened"]
# Strongest first: when several hold, the first one is the status.
PRECEDENCE: tuple[DeliveryStatus, ...] = ("bounced", "complained", "unsubscribed", "clicked", "opened")
# An Activity row's flags and the delivery they stand for.
ROW_FLAGS: dict[str, DeliveryStatus] = {
    "bounce": "bounced",
    "abuse": "complained",
    "unsubscribe": "unsubscribed",
    "click": "clicked",
    "open": "opened",
    "read": "opened",
}
# The event a store receives when a delivery is first seen.
DETAIL_TYPES: dict[str, str] = {
    "bounced": "Email Bounced",
    "complained": "Email Complained",
    "unsubscribed": "Email Unsubscribed",
    "clicked": "Email Clicked",
    "opened": "Email Opened",
}


class Delivery(BaseModel):
    status: DeliveryStatus
    bounceReason: str | None
    seen: dict[str, str]  # status -> when it was first seen (`sent`: when it was sent)


def kinds_in(row: dict[str, Any]) -> set[str]:
    """The deliveries an Activity row shows (none for a row of a send nobody has acted on yet)."""
    return {kind for flag, kind in ROW_FLAGS.items() if row.get(flag) is True}


def status_of(seen: dict[str, str] | set[str], sent: bool) -> DeliveryStatus:
    for kind in PRECEDENCE:
        if kind in seen:
            return kind
    return "sent" if sent else "unknown"


def delivery_of(seen: dict[str, str], bounce_reason: str | None, *, sent: bool, sent_at: str | None) -> Delivery:
    shown = dict(sorted(seen.items()))
    if sent and sent_at:
        shown["sent"] = sent_at
    return Delivery(status=status_of(seen, sent), bounceReason=bounce_reason if "bounced" in seen else None, seen=shown)
