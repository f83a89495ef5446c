"""Resends within Listrak's 30-day window, and what became of a send: three routes, one function."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths

from listrak_kit.api import json_response, rest_api, write_status
from listrak_kit.observability import logger, metrics
from listrak_kit.resend.models import Reference, ResendBody, ResendByKeyBody
from listrak_kit.services import resend_path
from listrak_kit.settings import ResendSettings, load_settings

app = rest_api()


@cache
def path():
    return resend_path(load_settings(ResendSettings))


def _idempotency_key() -> str | None:
    return app.current_event.headers.get("idempotency-key")


@app.post("/messages/<reference>/resend")
def resend_message(
    reference: Annotated[Reference, Path()], body: Annotated[ResendBody | None, Body()] = None
) -> Response[dict]:
    result, replayed = path().service.resend(
        reference, email_address=body.emailAddress if body else None, idempotency_key=_idempotency_key()
    )
    return json_response(write_status(result.status, replayed), result.model_dump())


@app.post("/resends")
def resend_by_key(body: Annotated[ResendByKeyBody, Body()]) -> Response[dict]:
    result, replayed = path().service.resend_by_key(body, idempotency_key=_idempotency_key())
    return json_response(write_status(result.status, replayed), result.model_dump())


@app.get("/messages/<reference>")
def get_message(reference: Annotated[Reference, Path()]) -> Response[dict]:
    return json_response(200, path().service.view(reference).model_dump())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    path().begin(context)
    return app.resolve(event, context)
