"""POST /webhooks/shopify (signed by Shopify, no API key) and POST /events (a Klaviyo Create Event body)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths

from listrak_kit import snapstart
from listrak_kit.api import json_response, raw_body, rest_api
from listrak_kit.observability import observed
from listrak_kit.send.hook_models import KlaviyoEvent
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


@app.post("/webhooks/shopify")
def shopify_webhook() -> Response[dict]:
    event = app.current_event
    accepted = doors().shopify_webhook(raw_body(event), dict(event.headers))
    return json_response(200, accepted.as_dict())


@app.post("/events")
def post_event(event: Annotated[KlaviyoEvent, Body()]) -> Response[dict]:
    accepted = doors().klaviyo_event(app.current_event.json_body)
    return json_response(202 if accepted.status == "accepted" else 200, accepted.as_dict())


snapstart.install(lambda: (doors(), snapstart.rehearse(app, "POST", "/events")))


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
