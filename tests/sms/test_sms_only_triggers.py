"""A trigger that sends an SMS only (no email): the doors queue its event, the event function texts it."""

from __future__ import annotations

from typing import Any

from listrak_kit.catalog.model import Catalog
from listrak_kit.send.hooks import HookService
from tests.conftest import storefront_event

CATALOG = """
[messages.order-confirmation]
listId = 300001
transactionalMessageId = 7001

[[messages.order-confirmation.triggers]]
detailType = "klaviyoEvent"
when = { "data.attributes.metric.data.attributes.name" = "Placed Order" }
emailAddress = "data.attributes.profile.data.attributes.email"

[sms.delivery-window]
senderCodeId = 509
phoneListId = 609
transactionalMessageId = 709
text = "Your delivery arrives {window}."
maxSegments = 2
fields = { window = { required = true, maxLength = 40 } }

[[sms.delivery-window.triggers]]
detailType = "klaviyoEvent"
when = { "data.attributes.metric.data.attributes.name" = "Delivery Window" }
phoneNumber = "data.attributes.profile.data.attributes.phone_number"
reference = "data.attributes.unique_id"
fields = { window = "data.attributes.properties.Window" }
"""


def klaviyo_body(metric: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "event",
            "attributes": {
                "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
                "profile": {"data": {"type": "profile", "attributes": {"phone_number": "+15550100001"}}},
                "properties": {"Window": "today between 2 and 4 pm"},
                "unique_id": "dw-77",
            },
        }
    }


class Bus:
    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []

    def put(self, *, source: str, detail_type: str, detail: str) -> str:
        self.events.append({"source": source, "detailType": detail_type, "detail": detail})
        return f"evt-{len(self.events)}"


class Secret:
    def get(self) -> str:
        return "secret"


def doors(bus: Bus) -> HookService:
    import tomllib

    return HookService(catalog=Catalog.model_validate(tomllib.loads(CATALOG)), bus=bus, shopify_secret=Secret())


def test_the_door_queues_an_event_that_triggers_an_sms_only():
    bus = Bus()
    answer = doors(bus).klaviyo_event(klaviyo_body("Delivery Window"))

    assert answer.status == "accepted"
    assert answer.message == "delivery-window" and answer.reference == "delivery-window/dw-77"
    assert len(bus.events) == 1


def test_the_door_still_ignores_an_event_that_triggers_nothing():
    bus = Bus()
    answer = doors(bus).klaviyo_event(klaviyo_body("Viewed Product"))

    assert answer.status == "ignored" and bus.events == []


def test_the_event_function_texts_an_sms_only_event(stack, sandbox, tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(CATALOG, encoding="utf-8")
    stack.env_overrides["CATALOG_PATH"] = str(path)
    stack.cold_start()
    sandbox.add_sms_message(509, 609, 709)
    sandbox.set_phone_state(509, 609, "15550100001", "Subscribed")

    result = stack.invoke("SendEventFunction", storefront_event("klaviyoEvent", klaviyo_body("Delivery Window")))

    assert result == {"channel": "sms", "reference": "delivery-window/dw-77", "status": "sent"}
    assert sandbox.sms_sent[0]["messageContent"] == "Your delivery arrives today between 2 and 4 pm."
    assert sandbox.sent_messages == []
    ignored = stack.invoke("SendEventFunction", storefront_event("klaviyoEvent", klaviyo_body("Viewed Product")))
    assert ignored["status"] == "ignored"
