"""POST /privacy/forget and GET /privacy/forget/{requestId}: IAM-authorised (SigV4), like the support redirect."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths

from listrak_kit import snapstart
from listrak_kit.api import json_response, rest_api
from listrak_kit.core.forgotten import Person
from listrak_kit.errors import Forbidden
from listrak_kit.masking import mask_addresses
from listrak_kit.observability import logger, masks_escaping_errors, metrics, tracer
from listrak_kit.privacy.models import ForgetBody, RequestId
from listrak_kit.services import privacy_requests
from listrak_kit.settings import PrivacyRequestSettings, load_settings

app = rest_api()


@cache
def requests():
    return privacy_requests(load_settings(PrivacyRequestSettings).TABLE_NAME)


def _principal() -> str:
    # API Gateway fills userArn only for an IAM-authorised (SigV4) request.
    user_arn = app.current_event.request_context.identity.user_arn
    if not user_arn:
        raise Forbidden("the privacy routes take IAM-signed requests only")
    return mask_addresses(user_arn)  # an assumed role's session name is often a person's address


@app.post("/privacy/forget")
def forget(body: Annotated[ForgetBody, Body()]) -> Response[dict]:
    view, _ = requests().start(
        "forget", Person(body.emailAddress, body.phoneNumber), requested_by=f"iam:{_principal()}"
    )
    return json_response(202, view.model_dump(exclude_none=True))


@app.get("/privacy/forget/<requestId>")
def forget_status(requestId: Annotated[RequestId, Path()]) -> Response[dict]:  # noqa: N803 - the route's name
    _principal()
    return json_response(200, requests().view(requestId).model_dump(exclude_none=True))


snapstart.install(lambda: (requests(), snapstart.rehearse(app, "POST", "/privacy/forget")))


@tracer.capture_lambda_handler(capture_response=False)
@masks_escaping_errors
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
