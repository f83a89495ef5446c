"""The storefront bus (EventBridge): where the HTTPS doors put the events they accept."""

from __future__ import annotations

from typing import Any

from listrak_kit.aws.clients import aws_client
from listrak_kit.errors import BusUnavailable


class EventBridgeBus:
    def __init__(self, bus_name: str, client: Any | None = None):
        self._bus_name = bus_name
        self._client = client

    def put(self, *, source: str, detail_type: str, detail: str) -> str:
        client = self._client or aws_client("events")
        answer = client.put_events(
            Entries=[{"EventBusName": self._bus_name, "Source": source, "DetailType": detail_type, "Detail": detail}]
        )
        [entry] = answer["Entries"]
        if answer.get("FailedEntryCount") or "EventId" not in entry:
            raise BusUnavailable(f"EventBridge refused the event: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
        return str(entry["EventId"])
