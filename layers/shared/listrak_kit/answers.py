"""What a route documents about its answers, declared on the route itself (Powertools' `responses=`).

Every error body is the shared `Error` (listrak_kit/api.py writes it): a route names the error statuses it can
give and what each means there; the schema, the 400's field list and the Retry-After header come from here.
Nothing here runs while a request is answered: it only describes, for `make openapi`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import (
    OpenAPIResponse,
    OpenAPIResponseContentModel,
    OpenAPIResponseContentSchema,
    OpenAPIResponseHeader,
)

JSON = "application/json"
ERROR = {"$ref": "#/components/schemas/Error"}
RETRY_AFTER: dict[str, OpenAPIResponseHeader] = {
    "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
}
RETRIED = (409, 429, 503)  # the statuses whose answer says when to retry

# What the same status means on every route that can give it.
MISCONFIGURED = "The deployment is misconfigured (credentials secret, catalog); its logs say how to fix it"
LISTRAK_REFUSED = "Listrak refused the request, or the integration's token; nothing was sent"
UNAVAILABLE = "Listrak or AWS storage is unavailable; nothing was sent, retry after Retry-After"
REPLAYED = "Same Idempotency-Key: the first answer, replayed; nothing was resent"
RESEND_UNKNOWN = "Listrak did not answer in time: the resend may be out (status unknown)"

# The shared error bodies, as components: every error is {"message"}, plus the field list for a 400 and
# Listrak's own code and message for a 502.
ERROR_SCHEMAS: dict[str, Any] = {
    "Error": {
        "title": "Error",
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": {"type": "string", "description": "What went wrong, for a person to read."},
            "errors": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/FieldError"},
                "description": "400 only: one entry per problem, naming the field.",
            },
            "listrakStatus": {
                "type": ["integer", "null"],
                "description": "502 only: the HTTP status Listrak answered.",
            },
            "listrakError": {"type": ["string", "null"], "description": "502 only: Listrak's error code."},
            "listrakMessage": {"type": "string", "description": "502 only: Listrak's message."},
        },
    },
    "FieldError": {
        "title": "FieldError",
        "type": "object",
        "required": ["field", "message"],
        "properties": {
            "field": {
                "type": "string",
                "description": "The field as the caller wrote it (`fields.firstName`, `items[0].Quantity`); "
                "`(body)` for the body as a whole.",
            },
            "message": {"type": "string"},
        },
    },
}


def ok(
    description: str,
    model: Any = None,
    *,
    schema: dict[str, Any] | None = None,
    example: dict[str, Any] | None = None,
    headers: dict[str, OpenAPIResponseHeader] | None = None,
) -> OpenAPIResponse:
    """A success answer: its body is `model` (a pydantic model) or `schema`, shown with `example`."""
    content: OpenAPIResponseContentModel | OpenAPIResponseContentSchema = (
        {"model": model} if model is not None else {"schema": schema or {}}
    )
    if example is not None:
        content["examples"] = {"example": {"value": example}}
    answer: OpenAPIResponse = {"description": description, "content": {JSON: content}}
    if headers:
        answer["headers"] = headers
    return answer


def error(status: int, description: str) -> OpenAPIResponse:
    schema: dict[str, Any] = ERROR
    if status == 400:
        errors = {"errors": {"type": "array", "minItems": 1}}
        schema = {"allOf": [ERROR, {"type": "object", "required": ["errors"], "properties": errors}]}
    answer: OpenAPIResponse = {"description": description, "content": {JSON: {"schema": schema}}}
    if status in RETRIED:
        answer["headers"] = dict(RETRY_AFTER)
    return answer


def answers(successes: dict[int, OpenAPIResponse], errors: dict[int, str]) -> dict[int, OpenAPIResponse]:
    """A route's `responses=`: its successes, and each error status it can give with what it means there."""
    return {**successes, **{status: error(status, description) for status, description in errors.items()}}
