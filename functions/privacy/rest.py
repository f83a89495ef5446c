"""POST /privacy/forget and GET /privacy/forget/{requestId}: IAM-authorised (SigV4), like the support redirect."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths

from listrak_kit import snapstart
from listrak_kit.answers import MISCONFIGURED, answers, ok
from listrak_kit.api import json_response, rest_api
from listrak_kit.core.forgotten import Person
from listrak_kit.errors import Forbidden
from listrak_kit.masking import mask_addresses
from listrak_kit.observability import observed
from listrak_kit.privacy.models import ForgetBody, PrivacyView, RequestId
from listrak_kit.services import privacy_requests
from listrak_kit.settings import PrivacyRequestSettings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from listrak_kit.privacy.service import PrivacyRequests

app = rest_api()


@cache
def requests() -> PrivacyRequests:
    return privacy_requests(load_settings(PrivacyRequestSettings).TABLE_NAME)


def _principal() -> str:
    # API Gateway fills userArn only for an IAM-authorised (SigV4) request.
    user_arn = app.current_event.request_context.identity.user_arn
    if not user_arn:
        raise Forbidden("the privacy routes take IAM-signed requests only")
    return mask_addresses(user_arn)  # an assumed role's session name is often a person's address


STARTED = {
    "requestId": "5f0c9a7e-2b1d-4a8e-9c3f-1d2e3f4a5b6c",
    "kind": "forget",
    "status": "received",
    "requestedBy": "iam:arn:aws:iam::123456789012:user/privacy-officer",
    "requestedAt": "2026-11-22T15:00:00Z",
}


@app.post(
    "/privacy/forget",
    summary="Forget a person",
    description="Queues Listrak's forget request and erases what this product holds on the person (IAM-signed).",
    tags=["privacy"],
    security=[{"sigv4": []}],
    responses=answers(
        {202: ok("Recorded: Listrak's forget is submitted and the erasure runs", PrivacyView, example=STARTED)},
        {
            400: "An emailAddress or phoneNumber that is malformed, or neither; each is named; nothing was recorded",
            403: "Not IAM-signed",
            500: MISCONFIGURED,
            503: "AWS storage is unavailable; nothing was recorded, retry",
        },
    ),
)
def forget(
    body: Annotated[ForgetBody, Body(openapi_examples={"an address": {"value": {"emailAddress": "jane@example.com"}}})],
) -> Response[dict[str, Any]]:
    view, _ = requests().start(
        "forget", Person(body.emailAddress, body.phoneNumber), requested_by=f"iam:{_principal()}"
    )
    return json_response(202, view.model_dump(exclude_none=True))


@app.get(
    "/privacy/forget/<requestId>",
    summary="What became of a privacy request",
    description="Its status, Listrak's, and when it completed (IAM-signed).",
    tags=["privacy"],
    security=[{"sigv4": []}],
    responses=answers(
        {200: ok("The request", PrivacyView, example={**STARTED, "status": "complete"})},
        {
            400: "Not a requestId (a UUID)",
            403: "Not IAM-signed",
            404: "No privacy request with this id is known",
            500: MISCONFIGURED,
            503: "AWS storage is unavailable; retry",
        },
    ),
)
def forget_status(requestId: Annotated[RequestId, Path()]) -> Response[dict[str, Any]]:  # noqa: N803
    _principal()
    return json_response(200, requests().view(requestId).model_dump(exclude_none=True))


snapstart.install(lambda: (requests(), snapstart.rehearse(app, "POST", "/privacy/forget")))


@observed(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
