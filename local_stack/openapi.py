"""`make openapi`: the API's OpenAPI document, generated from the code and committed as openapi.json.

Each API function of template.yaml is loaded the way the local stack loads it (by file path, from its CodeUri
and Handler, with the shared layer importable), and its Powertools resolver describes its own routes and
request models. Those documents are merged into one, then completed with what the resolvers cannot know:
the API key API Gateway requires (or the SigV4 signature of an IAM route), the stage URL, the bodies the
handlers return, and the error answers the shared exception handlers (listrak_kit/api.py) give.

    python -m local_stack.openapi            # writes openapi.json
    python -m local_stack.openapi --check    # exits 1 when openapi.json is not what the code describes
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

from local_stack import ROOT, TEMPLATE
from local_stack.template import FunctionSpec, Template, patched_environ

OUTPUT = ROOT / "openapi.json"
TITLE = "listrak-sam"
API_KEY_SCHEME = "apiKey"
API_KEY_HEADER = "x-api-key"
SIGV4_SCHEME = "sigv4"
# An IAM route is signed (SigV4, service execute-api) instead of carrying the API key.
SIGV4 = {
    "type": "apiKey",
    "name": "Authorization",
    "in": "header",
    "description": "AWS Signature Version 4 (service execute-api); the caller needs execute-api:Invoke on the route",
    "x-amazon-apigateway-authtype": "awsSigv4",
}
REF = "#/components/schemas/{model}"

# Importing a function module builds Powertools' Logger and Metrics; these keep that quiet and offline.
IMPORT_ENV = {
    "POWERTOOLS_SERVICE_NAME": "listrak",
    "POWERTOOLS_METRICS_NAMESPACE": "Listrak",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}

# The shared error bodies (listrak_kit/api.py): every error is {"message"}, plus the field list for a 400 and
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
                "items": {"$ref": REF.format(model="FieldError")},
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

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}

# What an error status means, per route; the statuses each handler can give and no others.
_LISTRAK_502 = "Listrak refused the request, or the integration's token; nothing was sent"
_UNAVAILABLE_503 = "Listrak or AWS storage is unavailable; nothing was sent, retry after Retry-After"
_MISCONFIGURED_500 = "The deployment is misconfigured (credentials secret, catalog); its logs say how to fix it"
_STOREFRONT_403 = "An emailAddress other than the original: redirecting needs the support route; nothing was resent"
ERRORS: dict[tuple[str, str], dict[int, str]] = {
    ("post", "/messages"): {
        400: "Invalid request; every problem is listed by field, and nothing was sent",
        404: "The message is not in the catalog",
        409: "The reference was already used for a different payload, or that send is still in flight",
        422: "Listrak knows no list or transactional message under the raw IDs given; each is named; nothing was sent",
        500: _MISCONFIGURED_500,
        502: _LISTRAK_502 + "; or (status failed) Listrak's Activity never showed this send after every attempt",
        503: _UNAVAILABLE_503,
    },
    ("post", "/messages/{reference}/resend"): {
        400: "Invalid reference or body; nothing was resent",
        403: _STOREFRONT_403,
        404: "No send with this reference is known",
        409: "The Idempotency-Key was used for another request, or Listrak shows no activity for the send yet",
        410: "Listrak's 30-day resend window has closed",
        500: _MISCONFIGURED_500,
        502: _LISTRAK_502,
        503: _UNAVAILABLE_503,
    },
    ("post", "/support/messages/{reference}/redirect"): {
        400: "Invalid reference or body; nothing was resent",
        403: "Not IAM-signed, or the message is marked redirect = false (or was sent before the flag existed)",
        404: "No send with this reference is known",
        409: "The Idempotency-Key was used for another request, or Listrak shows no activity for the send yet",
        410: "Listrak's 30-day resend window has closed",
        429: "This send's redirect allowance (REDIRECT_MAX_PER_REFERENCE per REDIRECT_WINDOW_SECONDS) is spent",
        500: _MISCONFIGURED_500,
        502: _LISTRAK_502,
        503: _UNAVAILABLE_503,
    },
    ("post", "/resends"): {
        400: "Invalid body; nothing was resent",
        403: _STOREFRONT_403 + " (a key recorded nowhere cannot be redirected)",
        409: "The Idempotency-Key was used for another request, or that resend is still in flight",
        410: "Listrak's 30-day resend window has closed, or Listrak does not know the resendKey",
        500: _MISCONFIGURED_500,
        502: _LISTRAK_502,
        503: _UNAVAILABLE_503,
    },
    ("get", "/messages/{reference}"): {
        400: "Invalid reference",
        404: "No send with this reference is known",
        500: _MISCONFIGURED_500,
        503: "AWS storage is unavailable; retry after Retry-After",
    },
    ("post", "/imports"): {
        400: "Malformed envelope (entity, records); nothing was imported. Bad records are not 400s: see `rejected`",
        500: _MISCONFIGURED_500,
        502: "Listrak refused an import chunk",
        503: "Listrak or AWS storage is unavailable; chunks sent before it are listed in `chunks`",
    },
    ("post", "/webhooks/shopify"): {
        400: "Signed, but no X-Shopify-Topic, a body that is not a JSON object, or a resource the topic's message "
        "cannot be sent from (no email, a path absent); every problem is listed, and nothing was queued",
        401: "X-Shopify-Hmac-Sha256 is missing or is not the HMAC of this body; nothing was queued",
        413: "The webhook is too large to queue; nothing was queued",
        500: "The deployment is misconfigured (the webhook secret, the catalog); its logs say how to fix it",
        503: "The storefront bus or Secrets Manager is unavailable; nothing was queued, Shopify retries",
    },
    ("post", "/events"): {
        400: "Not a Klaviyo Create Event body, or one its metric's message cannot be sent from (no email, a "
        "path absent); every problem is listed, and nothing was queued",
        413: "The event is too large to queue; nothing was queued",
        500: "The deployment is misconfigured (the catalog); its logs say how to fix it",
        503: "The storefront bus is unavailable; nothing was queued, retry",
    },
}
ERRORS[("post", "/privacy/forget")] = {
    400: "An emailAddress or phoneNumber that is malformed, or neither; each is named, and nothing was recorded",
    403: "Not IAM-signed",
    500: "The deployment is misconfigured; its logs say how to fix it",
    503: "AWS storage is unavailable; nothing was recorded, retry",
}
ERRORS[("get", "/privacy/forget/{requestId}")] = {
    400: "Not a requestId (a UUID)",
    403: "Not IAM-signed",
    404: "No privacy request with this id is known",
    500: "The deployment is misconfigured; its logs say how to fix it",
    503: "AWS storage is unavailable; retry",
}
# Powertools answers 415 itself when a body comes with a Content-Type other than JSON or a form.
UNSUPPORTED_MEDIA_TYPE = {415: "The body's Content-Type is not application/json; nothing was done"}
# API Gateway answers these itself, before any function runs.
GATEWAY_ERRORS = {403: "Missing or invalid x-api-key", 429: "The API key's usage plan throttled the request"}
IAM_GATEWAY_ERRORS = {403: "Missing or invalid SigV4 signature, or no execute-api:Invoke for the caller"}
IAM_ROUTES = {
    ("post", "/support/messages/{reference}/redirect"),
    ("post", "/privacy/forget"),
    ("get", "/privacy/forget/{requestId}"),
}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeating a request with the same key replays the first answer instead of acting again.",
    "schema": {"type": "string"},
}


def _request_string_rules() -> dict[str, dict[str, str]]:
    """What the request models' validators enforce on strings, which pydantic cannot put in a JSON schema."""
    from listrak_kit.core.fields import REFERENCE

    return {
        "emailAddress": {"format": "email"},
        "reference": {"pattern": REFERENCE.pattern},
        "resendKey": {"format": "uuid"},
        "requestId": {"format": "uuid"},
        "phoneNumber": {"pattern": r"^\+?[0-9 ().-]+$"},
    }


REQUEST_MODELS = ("SendRequest", "ResendBody", "ResendByKeyBody", "RedirectBody", "ForgetBody")


def _success_models() -> dict[str, Any]:
    """The models behind each route's `Response[dict]` body (the resolvers only see a dict)."""
    from listrak_kit.imports.direct import DirectOutcome
    from listrak_kit.privacy.models import PrivacyView
    from listrak_kit.resend.models import MessageView, ResendResult
    from listrak_kit.send.hook_models import HookAnswer
    from listrak_kit.send.models import SendResult

    return {
        "SendResult": SendResult,
        "ResendResult": ResendResult,
        "MessageView": MessageView,
        "DirectOutcome": DirectOutcome,
        "HookAnswer": HookAnswer,
        "PrivacyView": PrivacyView,
    }


def _ref(model: str) -> dict[str, str]:
    return {"$ref": REF.format(model=model)}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": _json(schema)}


SEND_PENDING = {
    "allOf": [
        _ref("SendResult"),
        {
            "type": "object",
            "required": ["detail", "statusUrl"],
            "properties": {
                "detail": {"type": "string"},
                "statusUrl": {"type": "string", "description": "GET it (or repeat the request) for the outcome"},
            },
        },
    ]
}
PENDING_HEADERS = {
    **RETRY_AFTER,
    "Location": {"description": "The send's status: GET /messages/{reference}.", "schema": {"type": "string"}},
}
_REPLAYED = "Same Idempotency-Key: the first answer, replayed; nothing was resent"
_RESEND_UNKNOWN = "Listrak did not answer in time: the resend may be out (status unknown)"
SUCCESS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("post", "/messages"): {
        "201": _answer("Sent", _ref("SendResult")),
        "200": _answer("This reference was sent before: the first answer, replayed", _ref("SendResult")),
        "202": {
            **_answer(
                "Listrak's answer did not say whether the email went (status sending or pending): it is confirmed "
                "from Listrak's Activity, and sent once more only if Activity never shows it; never twice",
                SEND_PENDING,
            ),
            "headers": PENDING_HEADERS,
        },
    },
    ("post", "/messages/{reference}/resend"): {
        "201": _answer("Resent", _ref("ResendResult")),
        "200": _answer(_REPLAYED, _ref("ResendResult")),
        "504": _answer(_RESEND_UNKNOWN, _ref("ResendResult")),
    },
    ("post", "/support/messages/{reference}/redirect"): {
        "201": _answer("Resent to the other address; recorded with the caller's ARN", _ref("ResendResult")),
        "200": _answer(_REPLAYED, _ref("ResendResult")),
        "504": _answer(_RESEND_UNKNOWN, _ref("ResendResult")),
    },
    ("post", "/resends"): {
        "201": _answer("Resent", _ref("ResendResult")),
        "200": _answer(_REPLAYED, _ref("ResendResult")),
        "504": _answer(_RESEND_UNKNOWN, _ref("ResendResult")),
    },
    ("get", "/messages/{reference}"): {
        "200": _answer("The send, its masked address and its resends", _ref("MessageView")),
    },
    ("post", "/imports"): {
        "200": _answer(
            "Valid records were sent to Listrak; each invalid one is listed in `rejected`", _ref("DirectOutcome")
        ),
    },
}
SUCCESS[("post", "/webhooks/shopify")] = {
    "200": _answer(
        "Queued for sending (its reference is the message and X-Shopify-Event-Id; a redelivery sends nothing "
        "more), or ignored: no catalog message is triggered by the topic",
        _ref("HookAnswer"),
    ),
}
SUCCESS[("post", "/privacy/forget")] = {
    "202": _answer(
        "Recorded: Listrak's forget, the erasure of this product's data and a tombstone follow (docs/privacy.md)",
        _ref("PrivacyView"),
    ),
}
SUCCESS[("get", "/privacy/forget/{requestId}")] = {
    "200": _answer("Who asked, when, how far it is, when it completed", _ref("PrivacyView")),
}
SUCCESS[("post", "/events")] = {
    "202": _answer("Queued for sending, once per metric and unique_id: the reference it will have", _ref("HookAnswer")),
    "200": _answer("Ignored: no catalog message is triggered by the metric; nothing was queued", _ref("HookAnswer")),
}
# Shopify cannot send an API key: this route is authenticated by the signature of its raw body instead.
SIGNED_ROUTES = {
    ("post", "/webhooks/shopify"): {
        "security": [],
        "parameters": [
            {
                "name": "X-Shopify-Hmac-Sha256",
                "in": "header",
                "required": True,
                "description": "base64 of the HMAC-SHA256 of the raw body, keyed with the shop's webhook secret",
                "schema": {"type": "string"},
            },
            {
                "name": "X-Shopify-Topic",
                "in": "header",
                "required": True,
                "description": "The webhook's topic (orders/create, orders/fulfilled, customers/create, ...)",
                "schema": {"type": "string"},
            },
            {
                "name": "X-Shopify-Event-Id",
                "in": "header",
                "required": False,
                "description": "Shopify's id of the event: the send's reference, so a redelivery sends nothing more",
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {
            "required": True,
            "content": _json(
                {"type": "object", "description": "The topic's resource (an order, a customer) as Shopify sends it"}
            ),
        },
    },
}
TAKES_IDEMPOTENCY_KEY = {
    ("post", "/messages"),
    ("post", "/messages/{reference}/resend"),
    ("post", "/support/messages/{reference}/redirect"),
    ("post", "/resends"),
}


# -- loading the functions -------------------------------------------------------------------------------------


def api_functions(template: Template) -> dict[str, tuple[FunctionSpec, set[tuple[str, str]]]]:
    """Every function behind an Api event, with the (method, path) pairs the template routes to it."""
    found: dict[str, tuple[FunctionSpec, set[tuple[str, str]]]] = {}
    for logical_id, spec in template.functions().items():
        routes = {
            (event["Properties"]["Method"].lower(), event["Properties"]["Path"])
            for event in spec.events.values()
            if event.get("Type") == "Api"
        }
        if routes:
            found[logical_id] = (spec, routes)
    return found


def load_module(spec: FunctionSpec) -> ModuleType:
    """The handler's module, imported by file path as Lambda (and the local stack) would."""
    with patched_environ(IMPORT_ENV, keep_existing=True):
        return spec.import_module(f"openapi_{spec.logical_id}")


def _resolver(module: ModuleType, spec: FunctionSpec) -> Any:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    resolvers = [value for value in vars(module).values() if isinstance(value, ApiGatewayResolver)]
    if len(resolvers) != 1:
        raise LookupError(f"{spec.module_path} should define one Powertools resolver; it has {len(resolvers)}")
    return resolvers[0]


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


# -- building the document -------------------------------------------------------------------------------------


def build(template_path: Path = TEMPLATE) -> dict[str, Any]:
    """The OpenAPI document of every API route in the template, as the code serves it."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server, ServerVariable

    template = Template.load(template_path)
    stage = str(template.parameters.get("StageName") or "v1")
    version = project_version()
    server = Server(
        url=f"https://{{apiId}}.execute-api.{{region}}.amazonaws.com/{stage}",
        description="The deployed stage (the stack's ApiUrl output)",
        variables={
            "apiId": ServerVariable(default="apiId", description="The RestApi's id"),
            "region": ServerVariable(default="us-east-1", description="The stack's region"),
        },
    )
    security_schemes = {API_KEY_SCHEME: APIKey(in_=APIKeyIn.header, name=API_KEY_HEADER)}
    security = [{API_KEY_SCHEME: []}]

    merged: dict[str, Any] | None = None
    declared: set[tuple[str, str]] = set()
    for logical_id, (spec, routes) in sorted(api_functions(template).items()):
        declared |= routes
        resolver = _resolver(load_module(spec), spec)
        document = json.loads(
            resolver.get_openapi_json_schema(
                title=TITLE,
                version=version,
                servers=[server],
                security_schemes=security_schemes,
                security=security,
            )
        )
        served = {(method, path) for path, item in document.get("paths", {}).items() for method in item}
        if served != routes:
            name = spec.module_path.name
            raise ValueError(f"{logical_id}: template.yaml routes {sorted(routes)} but {name} serves {sorted(served)}")
        merged = document if merged is None else _merge(merged, document, logical_id)
    if merged is None:
        raise ValueError(f"{template_path} declares no Api events")
    iam = {
        (event["Properties"]["Method"].lower(), event["Properties"]["Path"])
        for spec in template.functions().values()
        for event in spec.events.values()
        if event.get("Type") == "Api" and event["Properties"].get("Auth", {}).get("Authorizer") == "AWS_IAM"
    }
    if iam != IAM_ROUTES:
        raise ValueError(f"template.yaml's AWS_IAM routes {sorted(iam)} differ from IAM_ROUTES {sorted(IAM_ROUTES)}")
    merged["components"].setdefault("securitySchemes", {})[SIGV4_SCHEME] = copy.deepcopy(SIGV4)
    _complete(merged)
    _check_routes(merged, declared)
    return merged


def _merge(into: dict[str, Any], other: dict[str, Any], logical_id: str) -> dict[str, Any]:
    for path, item in other.get("paths", {}).items():
        target = into.setdefault("paths", {}).setdefault(path, {})
        for method, operation in item.items():
            if method in target:
                raise ValueError(f"{method.upper()} {path} is served twice (again by {logical_id})")
            target[method] = operation
    for section, entries in other.get("components", {}).items():
        target = into.setdefault("components", {}).setdefault(section, {})
        for name, value in entries.items():
            if name in target and target[name] != value:
                raise ValueError(f"components.{section}.{name} differs between functions (again in {logical_id})")
            target[name] = value
    return into


def _complete(document: dict[str, Any]) -> None:
    """What the resolvers cannot say: the bodies, the error answers, the Idempotency-Key header."""
    from pydantic import TypeAdapter

    schemas = document["components"]["schemas"]
    for name, model in _success_models().items():
        generated = TypeAdapter(model).json_schema(mode="serialization", ref_template=REF)
        for nested, nested_schema in generated.pop("$defs", {}).items():
            _add_schema(schemas, nested, nested_schema)
        _add_schema(schemas, name, generated)
    for name, schema in ERROR_SCHEMAS.items():
        _add_schema(schemas, name, copy.deepcopy(schema))
    rules = _request_string_rules()
    for model in REQUEST_MODELS:
        for name, prop in schemas[model]["properties"].items():
            if name in rules:
                _annotate_string(prop, rules[name])

    for path, item in document["paths"].items():
        for method, operation in item.items():
            key = (method, path)
            if key not in ERRORS or key not in SUCCESS:
                raise LookupError(f"local_stack/openapi.py has no responses for {method.upper()} {path}; add them")
            for name, value in copy.deepcopy(SIGNED_ROUTES.get(key, {})).items():
                if name == "parameters":
                    operation.setdefault("parameters", []).extend(value)
                else:
                    operation[name] = value
            responses = operation.setdefault("responses", {})
            # Powertools documents its own 422 and a generic 200; this API answers 400 (listrak_kit/api.py).
            responses.pop("422", None)
            responses.pop("200", None)
            responses.update(copy.deepcopy(SUCCESS[key]))
            media = UNSUPPORTED_MEDIA_TYPE if "requestBody" in operation else {}
            gateway = {429: GATEWAY_ERRORS[429]} if key in SIGNED_ROUTES else GATEWAY_ERRORS
            if key in IAM_ROUTES:
                operation["security"] = [{SIGV4_SCHEME: []}]
                gateway = IAM_GATEWAY_ERRORS
            for status, description in sorted({**ERRORS[key], **media, **gateway}.items()):
                responses[str(status)] = _error_response(status, description)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in rules:
                    _annotate_string(parameter["schema"], rules[parameter["name"]])
            if key in TAKES_IDEMPOTENCY_KEY:
                operation.setdefault("parameters", []).append(copy.deepcopy(IDEMPOTENCY_KEY))


def _annotate_string(schema: dict[str, Any], rule: dict[str, str]) -> None:
    """Adds the rule to the string in `schema` (a string, or an anyOf of a string and null)."""
    strings = [s for s in schema.get("anyOf", [schema]) if s.get("type") == "string"]
    if len(strings) != 1:
        raise ValueError(f"expected one string schema to annotate with {rule}, found {schema}")
    strings[0].update(rule)


def _error_response(status: int, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = _ref("Error")
    if status == 400:
        schema = {
            "allOf": [
                _ref("Error"),
                {"type": "object", "required": ["errors"], "properties": {"errors": {"type": "array", "minItems": 1}}},
            ]
        }
    response = _answer(description, schema)
    if status in (409, 429, 503):
        response["headers"] = copy.deepcopy(RETRY_AFTER)
    return response


def _add_schema(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name in schemas and schemas[name] != schema:
        raise ValueError(f"components.schemas.{name} is defined twice, differently")
    schemas[name] = schema


def _check_routes(document: dict[str, Any], declared: set[tuple[str, str]]) -> None:
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    if documented != declared:
        raise ValueError(f"documented routes {sorted(documented)} differ from template.yaml's {sorted(declared)}")


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when openapi.json differs from the code")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output.name} is out of date with the code; run `make openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{args.output.name} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
