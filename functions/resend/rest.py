"""Resends within Listrak's 30-day window, and what became of a send: four routes, one function.

The storefront's API key resends to the original address; the IAM-authorised support route may redirect.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths

from listrak_kit import snapstart
from listrak_kit.api import json_response, rest_api, write_status
from listrak_kit.errors import Forbidden
from listrak_kit.observability import logger, masks_escaping_errors, metrics, tracer
from listrak_kit.resend.models import RedirectBody, ResendBody, ResendByKeyBody, StoredReference
from listrak_kit.resend.redirect import Caller
from listrak_kit.services import resend_path
from listrak_kit.settings import ResendSettings, load_settings

app = rest_api()


@cache
def path():
    return resend_path(load_settings(ResendSettings))


def _idempotency_key() -> str | None:
    return app.current_event.headers.get("idempotency-key")


def _storefront() -> Caller:
    return Caller.storefront(app.current_event.request_context.identity.api_key_id)


def _support() -> Caller:
    # API Gateway fills userArn only for an IAM-authorised (SigV4) request.
    user_arn = app.current_event.request_context.identity.user_arn
    if not user_arn:
        raise Forbidden("the support route takes IAM-signed requests only")
    return Caller.support_principal(user_arn)


@app.post("/messages/<reference>/resend")
def resend_message(
    reference: Annotated[StoredReference, Path()], body: Annotated[ResendBody | None, Body()] = None
) -> Response[dict]:
    result, replayed = path().service.resend(
        reference,
        email_address=body.emailAddress if body else None,
        idempotency_key=_idempotency_key(),
        caller=_storefront(),
    )
    return json_response(write_status(result.status, replayed), result.model_dump())


@app.post("/support/messages/<reference>/redirect")
def redirect_message(
    reference: Annotated[StoredReference, Path()], body: Annotated[RedirectBody, Body()]
) -> Response[dict]:
    result, replayed = path().service.resend(
        reference, email_address=body.emailAddress, idempotency_key=_idempotency_key(), caller=_support()
    )
    return json_response(write_status(result.status, replayed), result.model_dump())


@app.post("/resends")
def resend_by_key(body: Annotated[ResendByKeyBody, Body()]) -> Response[dict]:
    result, replayed = path().service.resend_by_key(body, idempotency_key=_idempotency_key(), caller=_storefront())
    return json_response(write_status(result.status, replayed), result.model_dump())


@app.get("/messages/<reference>")
def get_message(reference: Annotated[StoredReference, Path()]) -> Response[dict]:
    return json_response(200, path().service.view(reference).model_dump())


snapstart.install(lambda: (path(), snapstart.rehearse(app, "POST", "/resends")), modules=("email_validator",))


@tracer.capture_lambda_handler(capture_response=False)
@masks_escaping_errors
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    path().begin(context)
    return app.resolve(event, context)
