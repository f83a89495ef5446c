"""Resends within Listrak's 30-day window, and what became of a send: four routes, one function.

The storefront's API key resends to the original address; the IAM-authorised support route may redirect.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths

from listrak_kit import snapstart
from listrak_kit.answers import LISTRAK_REFUSED, MISCONFIGURED, REPLAYED, RESEND_UNKNOWN, UNAVAILABLE, answers, ok
from listrak_kit.api import json_response, rest_api, write_status
from listrak_kit.errors import Forbidden
from listrak_kit.observability import observed
from listrak_kit.resend.models import (
    MessageView,
    RedirectBody,
    ResendBody,
    ResendByKeyBody,
    ResendResult,
    StoredReference,
)
from listrak_kit.resend.redirect import Caller
from listrak_kit.services import OncePath, resend_path
from listrak_kit.settings import ResendSettings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from listrak_kit.resend.service import ResendService

app = rest_api()


@cache
def path() -> OncePath[ResendService]:
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


CORRECTED = {"emailAddress": "jane.doe@example.org"}
BY_KEY = {"listId": 300001, "transactionalMessageId": 7001, "resendKey": "0f8fad5b-d9cb-469f-a165-70867728950e"}
RESENT = {"reference": "order-1001", "status": "resent", "resendCount": 1, "resentAt": "2026-11-23T09:30:00Z"}
STOREFRONT_403 = "An emailAddress other than the original: redirecting needs the support route; nothing was resent"
RESEND_ANSWERS = {
    201: ok("Resent", ResendResult, example=RESENT),
    200: ok(REPLAYED, ResendResult, example=RESENT),
    504: ok(RESEND_UNKNOWN, ResendResult, example=RESENT | {"status": "unknown", "resendCount": None}),
}
NO_ACTIVITY_YET = "The Idempotency-Key was used for another request, or Listrak shows no activity for the send yet"
WINDOW_CLOSED = "Listrak's 30-day resend window has closed"


@app.post(
    "/messages/<reference>/resend",
    summary="Resend to the original address",
    description="Within Listrak's 30-day window, with the storefront's API key. The body may be empty.",
    tags=["resend"],
    responses=answers(
        RESEND_ANSWERS,
        {
            400: "Invalid reference or body; nothing was resent",
            403: STOREFRONT_403,
            404: "No send with this reference is known",
            409: NO_ACTIVITY_YET,
            410: WINDOW_CLOSED,
            500: MISCONFIGURED,
            502: LISTRAK_REFUSED,
            503: UNAVAILABLE,
        },
    ),
)
def resend_message(
    reference: Annotated[StoredReference, Path(openapi_examples={"a send": {"value": "order-1001"}})],
    body: Annotated[ResendBody | None, Body(openapi_examples={"to the original address": {"value": {}}})] = None,
) -> Response[dict]:
    result, replayed = path().service.resend(
        reference,
        email_address=body.emailAddress if body else None,
        idempotency_key=_idempotency_key(),
        caller=_storefront(),
    )
    return json_response(write_status(result.status, replayed), result.model_dump())


@app.post(
    "/support/messages/<reference>/redirect",
    summary="Resend to another address, or to the original one (support staff)",
    description="IAM-signed (SigV4) only. With an emailAddress, the message must allow redirects (redirect = true "
    "in the catalog); without one, it is resent to the address it was sent to. "
    "Each send may be redirected a few times per window (REDIRECT_MAX_PER_REFERENCE).",
    tags=["support"],
    security=[{"sigv4": []}],
    responses=answers(
        {
            201: ok("Resent to the other address; recorded with the caller's ARN", ResendResult, example=RESENT),
            200: RESEND_ANSWERS[200],
            504: RESEND_ANSWERS[504],
        },
        {
            400: "Invalid reference or body; nothing was resent",
            403: "Not IAM-signed, or the message is marked redirect = false (or was sent before the flag existed)",
            404: "No send with this reference is known",
            409: NO_ACTIVITY_YET,
            410: WINDOW_CLOSED,
            429: "This send's redirect allowance (REDIRECT_MAX_PER_REFERENCE per REDIRECT_WINDOW_SECONDS) is spent",
            500: MISCONFIGURED,
            502: LISTRAK_REFUSED,
            503: UNAVAILABLE,
        },
    ),
)
def redirect_message(
    reference: Annotated[StoredReference, Path(openapi_examples={"a send": {"value": "order-1001"}})],
    body: Annotated[RedirectBody, Body(openapi_examples={"a corrected address": {"value": CORRECTED}})],
) -> Response[dict]:
    result, replayed = path().service.resend(
        reference, email_address=body.emailAddress, idempotency_key=_idempotency_key(), caller=_support()
    )
    return json_response(write_status(result.status, replayed), result.model_dump())


@app.post(
    "/resends",
    summary="Resend by a resendKey",
    description="For a send made elsewhere (or before this service): Listrak's resendKey with its list and "
    "message IDs.",
    tags=["resend"],
    responses=answers(
        RESEND_ANSWERS,
        {
            400: "Invalid body; nothing was resent",
            403: STOREFRONT_403 + " (a key recorded nowhere cannot be redirected)",
            409: "The Idempotency-Key was used for another request, or that resend is still in flight",
            410: WINDOW_CLOSED + ", or Listrak does not know the resendKey",
            500: MISCONFIGURED,
            502: LISTRAK_REFUSED,
            503: UNAVAILABLE,
        },
    ),
)
def resend_by_key(
    body: Annotated[ResendByKeyBody, Body(openapi_examples={"a resendKey": {"value": BY_KEY}})],
) -> Response[dict]:
    result, replayed = path().service.resend_by_key(body, idempotency_key=_idempotency_key(), caller=_storefront())
    return json_response(write_status(result.status, replayed), result.model_dump())


VIEW = {
    "reference": "order-1001",
    "status": "sent",
    "message": "order-confirmation",
    "listId": 300001,
    "transactionalMessageId": 7001,
    "to": "j***@example.com",
    "sentAt": "2026-11-22T15:00:00Z",
    "resendableUntil": "2026-12-22T15:00:00Z",
    "resendable": True,
    "hasResendKey": True,
    "resendCount": 0,
    "resends": [],
    "attempts": [{"n": 1, "startedAt": "2026-11-22T15:00:00Z", "outcome": "accepted", "resolvedBy": "answer"}],
    "failure": None,
}


@app.get(
    "/messages/<reference>",
    summary="What became of a send",
    description="Its status, masked address, attempts and resends.",
    tags=["send"],
    responses=answers(
        {200: ok("The send, its masked address and its resends", MessageView, example=VIEW)},
        {
            400: "Invalid reference",
            404: "No send with this reference is known",
            500: MISCONFIGURED,
            503: "AWS storage is unavailable; retry after Retry-After",
        },
    ),
)
def get_message(
    reference: Annotated[StoredReference, Path(openapi_examples={"a send": {"value": "order-1001"}})],
) -> Response[dict]:
    return json_response(200, path().service.view(reference).model_dump())


snapstart.install(lambda: (path(), snapstart.rehearse(app, "POST", "/resends")), modules=("email_validator",))


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    path().begin(context)
    return app.resolve(event, context)
