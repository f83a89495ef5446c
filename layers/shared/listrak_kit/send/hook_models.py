"""The doors' bodies: the outline of a Klaviyo Create Event (JSON:API; the trigger's paths read the rest), answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class KlaviyoMetric(BaseModel):
    model_config = ConfigDict(extra="allow")

    data: dict[str, Any]


class KlaviyoEventAttributes(BaseModel):
    model_config = ConfigDict(extra="allow")

    metric: KlaviyoMetric
    profile: dict[str, Any]
    properties: dict[str, Any] = {}


class KlaviyoEventData(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["event"]
    attributes: KlaviyoEventAttributes


class KlaviyoEvent(BaseModel):
    """As Klaviyo's Create Event endpoint takes it: {"data": {"type": "event", "attributes": {...}}}."""

    model_config = ConfigDict(extra="allow")

    data: KlaviyoEventData


class HookAnswer(BaseModel):
    """What a door answers: the event was queued (and the reference its send will have), or ignored, and why."""

    status: Literal["accepted", "ignored"]
    detail: str
    message: str | None = None  # the catalog message it sends
    reference: str | None = None  # the send's reference: GET /messages/{reference} finds it once sent
    requestId: str | None = None  # a compliance topic's privacy request: GET /privacy/forget/{requestId}

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)
