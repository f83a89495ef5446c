"""The outline of a Klaviyo Create Event body (JSON:API); the catalog trigger's paths read the rest."""

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
