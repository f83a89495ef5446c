"""POST /messages: send a Listrak transactional email."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths

from listrak_kit import snapstart
from listrak_kit.api import json_response, rest_api, write_status
from listrak_kit.observability import logger, masks_escaping_errors, metrics
from listrak_kit.send.models import SendRequest
from listrak_kit.services import send_path
from listrak_kit.settings import SendSettings, load_settings

CATALOG = Path(__file__).with_name("catalog.toml")
app = rest_api()


@cache
def path():
    return send_path(load_settings(SendSettings), default_catalog=CATALOG)


@app.post("/messages")
def post_message(request: Annotated[SendRequest, Body()]) -> Response[dict]:
    outcome = path().service.send(request, idempotency_key=app.current_event.headers.get("idempotency-key"))
    body = outcome.result.model_dump()
    if outcome.result.status == "unknown":
        # Listrak got the request but its answer never came: the email may be out. It is not sent again.
        body["detail"] = "Listrak did not answer in time; the email may have been sent and will not be repeated"
    return json_response(write_status(outcome.result.status, outcome.replayed), body)


snapstart.install(lambda: (path(), snapstart.rehearse(app, "POST", "/messages")), modules=("email_validator",))


@masks_escaping_errors
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    path().begin(context)
    return app.resolve(event, context)
