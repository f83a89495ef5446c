"""POST /webhooks/shopify (signed by Shopify, no API key) and POST /events (a Klaviyo Create Event body)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths

from listrak_kit import snapstart
from listrak_kit.answers import answers, ok
from listrak_kit.api import json_response, raw_body, rest_api
from listrak_kit.observability import observed
from listrak_kit.send.hook_models import HookAnswer, KlaviyoEvent
from listrak_kit.services import hooks_path
from listrak_kit.settings import HooksSettings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from listrak_kit.send.hooks import HookService

CATALOG = Path(__file__).with_name("catalog.toml")
app = rest_api()


@cache
def doors() -> HookService:
    return hooks_path(load_settings(HooksSettings), default_catalog=CATALOG)


QUEUED = {
    "status": "accepted",
    "detail": "queued for sending",
    "message": "order-confirmation",
    "reference": "order-confirmation:01HZX3",
}
# events/klaviyo-01: a metric the sample catalog sends.
CREATED = {
    "data": {
        "type": "event",
        "attributes": {
            "properties": {"Source": "storefront signup"},
            "metric": {"data": {"type": "metric", "attributes": {"name": "Created Account"}}},
            "profile": {
                "data": {
                    "type": "profile",
                    "attributes": {"email": "john.smith@example.com", "first_name": "John", "last_name": "Smith"},
                }
            },
            "time": "2026-11-22T15:00:00Z",
            "unique_id": "acct-1234",
        },
    }
}
IGNORED = {"status": "ignored", "detail": "no catalog message is triggered by this"}


@app.post(
    "/webhooks/shopify",
    summary="Receive a Shopify webhook",
    description="Signed by Shopify (X-Shopify-Hmac-Sha256 over the raw body), without an API key. A topic the "
    "catalog names is queued for sending; any other is ignored.",
    tags=["storefront"],
    responses=answers(
        {
            200: ok(
                "Queued for sending (its reference is the message and X-Shopify-Event-Id; a redelivery sends "
                "nothing more), or ignored: no catalog message is triggered by the topic",
                HookAnswer,
                example=QUEUED,
            ),
        },
        {
            400: "Signed, but no X-Shopify-Topic, a body that is not a JSON object, or a resource the topic's "
            "message cannot be sent from (no email, a path absent); every problem is listed, and nothing was queued",
            401: "X-Shopify-Hmac-Sha256 is missing or is not the HMAC of this body; nothing was queued",
            413: "The webhook is too large to queue; nothing was queued",
            500: "The deployment is misconfigured (the webhook secret, the catalog); its logs say how to fix it",
            503: "The storefront bus or Secrets Manager is unavailable; nothing was queued, Shopify retries",
        },
    ),
)
def shopify_webhook() -> Response[dict]:
    event = app.current_event
    accepted = doors().shopify_webhook(raw_body(event), dict(event.headers))
    return json_response(200, accepted.as_dict())


@app.post(
    "/events",
    summary="Receive a storefront event (Klaviyo Create Event)",
    description="A metric the catalog names is queued for sending, once per metric and unique_id; any other "
    "is ignored.",
    tags=["storefront"],
    responses=answers(
        {
            202: ok("Queued for sending, once per metric and unique_id: the reference it will have", HookAnswer),
            200: ok(
                "Ignored: no catalog message is triggered by the metric; nothing was queued",
                HookAnswer,
                example=IGNORED,
            ),
        },
        {
            400: "Not a Klaviyo Create Event body, or one its metric's message cannot be sent from (no email, a "
            "path absent); every problem is listed, and nothing was queued",
            413: "The event is too large to queue; nothing was queued",
            500: "The deployment is misconfigured (the catalog); its logs say how to fix it",
            503: "The storefront bus is unavailable; nothing was queued, retry",
        },
    ),
)
def post_event(
    event: Annotated[KlaviyoEvent, Body(openapi_examples={"created account": {"value": CREATED}})],
) -> Response[dict]:
    accepted = doors().klaviyo_event(app.current_event.json_body)
    return json_response(202 if accepted.status == "accepted" else 200, accepted.as_dict())


snapstart.install(lambda: (doors(), snapstart.rehearse(app, "POST", "/events")))


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
