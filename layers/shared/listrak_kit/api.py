"""The REST resolver every API function uses, with domain errors mapped to HTTP answers in one place.

Every error body is JSON: {"message": ..., "errors": [{"field", "message"}]} for bad input, and
{"message", "listrakError", "listrakMessage"} when Listrak refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from re import Match
from typing import Any
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from listrak_kit.core.problems import field_name, problem_message
from listrak_kit.errors import BusUnavailable, ConfigurationError, DomainError, SendRecordUncertain
from listrak_kit.listrak.errors import (
    ListrakInvalidCredentials,
    ListrakNotFound,
    ListrakRejected,
    ListrakUnauthorized,
    ListrakUnavailable,
)
from listrak_kit.observability import logger


def write_status(status: str, replayed: bool) -> int:
    """A send's or resend's HTTP status: 202 while its outcome is being settled, 502 when it failed, 504 when a
    resend's answer never came, 200 for a replay, 201 when new."""
    if status in ("sending", "pending", "unconfirmed"):
        return 202
    if status == "failed":
        return 502
    return 504 if status == "unknown" else 200 if replayed else 201


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def raw_body(event: Any) -> bytes:
    """The request body as the caller sent it, byte for byte (what a signature is computed over)."""
    body = event.get("body") or ""
    try:
        return base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode("utf-8")
    except (binascii.Error, UnicodeEncodeError):
        return b""  # not a body anyone could have signed: the signature check refuses it


JSON_ONLY = "the body must be JSON (Content-Type: application/json)"
CHANNEL_TAGS = ("email", "sms")


def _json_object(text: str) -> Any:
    """Powertools' body decoder, stricter: unreadable JSON and non-object bodies are decode errors (400s)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:  # absurd nesting, integers past Python's digit limit
        raise json.JSONDecodeError(f"unreadable JSON ({type(exc).__name__})", text[:1], 0) from None
    if value is not None and not isinstance(value, dict):
        raise json.JSONDecodeError("the body must be a JSON object", text[:1], 0)
    return value


def public_url(event: Any, *segments: str) -> str:
    """The URL a caller follows to reach `segments` on this API: each segment percent-encoded whole ("/" as %2F),
    behind whatever the request itself came through (the stage on API Gateway: /v1/messages/...)."""
    context = event.get("requestContext") or {}
    seen, path = str(context.get("path") or ""), str(event.get("path") or "")
    if path and seen.endswith(path):
        base = seen[: len(seen) - len(path)]  # the stage, or a custom domain's base path
    else:
        stage = str(context.get("stage") or "")
        base = f"/{stage}" if stage and stage != "$default" else ""
    return base + "".join("/" + quote(segment, safe="") for segment in segments)


class JsonRestResolver(APIGatewayRestResolver):
    """A REST resolver that takes JSON only: other content types get a 415 before any parsing is attempted.

    Path parameters are percent-decoded here, once, for every route: API Gateway's REST API hands them over as the
    caller sent them, so a reference with "/" arrives as `password-reset%2F42`.
    """

    def _convert_matches_into_route_keys(self, match: Match) -> dict[str, str]:
        return {name: unquote(value) for name, value in match.groupdict().items()}

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if event.get("body") and media_type and media_type != "application/json" and not media_type.endswith("+json"):
            body = {"message": JSON_ONLY, "errors": [{"field": "Content-Type", "message": f"got {media_type[:100]}"}]}
            return {
                "statusCode": 415,
                "multiValueHeaders": {"Content-Type": ["application/json"]},
                "body": json.dumps(body),
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


# How a caller proves who it is, for the OpenAPI document: API Gateway requires the API key on every route but
# those that declare otherwise (`security=[{"sigv4": []}]` on an IAM route). Plain dicts: Powertools' OpenAPI
# models load only when a document is made, never in a request.
SECURITY_SCHEMES: dict[str, Any] = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "sigv4": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "AWS Signature Version 4 (service execute-api); "
        "the caller needs execute-api:Invoke on the route",
    },
}
API_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]


def rest_api() -> APIGatewayRestResolver:
    app = JsonRestResolver(enable_validation=True, json_body_deserializer=_json_object)
    app.configure_openapi(security_schemes=SECURITY_SCHEMES, security=API_KEY)

    @app.not_found
    def _no_route(_exc: Exception) -> Response:
        return json_response(404, {"message": "no such route (check the path and that any {reference} is valid)"})

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(_exc: Exception) -> Response:
        return json_response(415, {"message": JSON_ONLY, "errors": [{"field": "Content-Type", "message": JSON_ONLY}]})

    @app.exception_handler(RequestValidationError)
    def _invalid_body(exc: RequestValidationError) -> Response:
        errors = []
        for error in exc.errors():
            loc = list(error.get("loc", ()))
            if loc and loc[0] in ("body", "query", "path", "header"):
                loc = loc[1:]
            if loc and loc[0] in CHANNEL_TAGS:  # POST /messages: which kind of body it was read as
                loc = loc[1:]
            if error.get("type") == "json_invalid":
                reason = str((error.get("ctx") or {}).get("error") or "")
                message = reason if reason.startswith(("the body", "unreadable")) else "the body is not valid JSON"
                errors.append({"field": "(body)", "message": message})
            else:
                errors.append({"field": field_name(loc), "message": problem_message(error)})
        return json_response(400, {"message": "invalid request; nothing was sent", "errors": errors})

    @app.exception_handler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        return json_response(exc.status, exc.body(), exc.headers())

    @app.exception_handler(BusUnavailable)
    def _bus_unavailable(exc: BusUnavailable) -> Response:
        logger.error("bus unavailable", extra={"detail": str(exc)[:300]})
        return _domain_error(exc)

    @app.exception_handler(ListrakUnavailable)
    def _unavailable(exc: ListrakUnavailable) -> Response:
        logger.warning("listrak unavailable", extra={"detail": exc.detail})
        return json_response(
            503,
            {"message": "Listrak is unavailable; retry later"},
            {"Retry-After": "30"},
        )

    @app.exception_handler(ListrakRejected)
    def _rejected(exc: ListrakRejected) -> Response:
        logger.warning("listrak rejected", extra={"status": exc.status, "code": exc.code})
        what = "resource not found at Listrak" if isinstance(exc, ListrakNotFound) else "Listrak refused the request"
        return json_response(
            502, {"message": what, "listrakStatus": exc.status, "listrakError": exc.code, "listrakMessage": exc.detail}
        )

    @app.exception_handler(ListrakUnauthorized)
    def _unauthorized(exc: ListrakUnauthorized) -> Response:
        logger.error("listrak refused a fresh token", extra={"code": exc.code})
        return json_response(
            502,
            {
                "message": "Listrak refused the integration's token",
                "listrakError": exc.code,
                "listrakMessage": exc.detail,
            },
        )

    @app.exception_handler(SendRecordUncertain)
    def _record_uncertain(exc: SendRecordUncertain) -> Response:
        logger.error("send record uncertain", extra={"detail": str(exc)[:300]})
        return json_response(503, {"message": str(exc)}, {"Retry-After": "5"})

    @app.exception_handler(IdempotencyPersistenceLayerError)
    @app.exception_handler(GetParameterError)
    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    def _storage_unavailable(exc: Exception) -> Response:
        # DynamoDB or Secrets Manager failed before anything reached Listrak (after botocore's own retries).
        logger.error("aws unavailable", extra={"error": type(exc).__name__, "detail": str(exc)[:300]})
        return json_response(
            503, {"message": "storage is unavailable; nothing was sent, retry later"}, {"Retry-After": "5"}
        )

    @app.exception_handler(ListrakInvalidCredentials)
    @app.exception_handler(ConfigurationError)
    def _misconfigured(exc: Exception) -> Response:
        logger.error("misconfigured", extra={"problem": str(exc)})
        return _domain_error(exc if isinstance(exc, ConfigurationError) else ConfigurationError(str(exc)))

    return app
