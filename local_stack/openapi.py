"""`make openapi`: the API's OpenAPI document, generated from the code and committed as openapi.json.

Each API function of template.yaml is loaded the way the local stack loads it (by file path, from its CodeUri
and Handler, with the shared layer importable), and its Powertools resolver describes its own routes: their
request models, and the answers, summaries, tags and security each route declares where it is defined. Those
documents are merged with Powertools' OpenAPIMerge, then completed with what API Gateway adds in front of
them: the API key it requires (or the SigV4 signature of an IAM route, x-amazon-apigateway-authtype), its own
403 and 429, the webhook it lets through without a key, and the stage URL.

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
SIGV4_SCHEME = "sigv4"
REF = "#/components/schemas/{model}"

# Importing a function module builds Powertools' Logger and Metrics; these keep that quiet and offline.
IMPORT_ENV = {
    "POWERTOOLS_SERVICE_NAME": "listrak",
    "POWERTOOLS_METRICS_NAMESPACE": "Listrak",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "AWS_DEFAULT_REGION": "us-east-1",
}


# The tags the routes declare, described once.
TAGS = [
    {"name": "send", "description": "Transactional emails, and what became of each"},
    {"name": "resend", "description": "Resends within Listrak's 30-day window, with the storefront's key"},
    {"name": "support", "description": "IAM-signed routes for support staff"},
    {"name": "storefront", "description": "Events from the storefront (Shopify webhooks, Klaviyo events)"},
    {"name": "imports", "description": "Data Import: small direct loads (files go to the drop bucket)"},
    {"name": "privacy", "description": "IAM-signed routes that forget a person, and what became of each request"},
]
# POST /imports declares nothing on its route yet: its answers are kept here until it does.
UNDECLARED: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/imports"): {
        "summary": "Import a few records directly",
        "description": "Up to 1,000 records of one entity, validated one by one; the valid ones go to Listrak.",
        "tags": ["imports"],
        "model": "DirectOutcome",
        "success": "Valid records were sent to Listrak; each invalid one is listed in `rejected`",
        "errors": {
            400: "Malformed envelope (entity, records); nothing was imported. Bad records are not 400s: see `rejected`",
            500: "The deployment is misconfigured (credentials secret, catalog); its logs say how to fix it",
            502: "Listrak refused an import chunk",
            503: "Listrak or AWS storage is unavailable; chunks sent before it are listed in `chunks`",
        },
    },
}
# Powertools answers 415 itself when a body comes with a Content-Type other than JSON or a form.
UNSUPPORTED_MEDIA_TYPE = {415: "The body's Content-Type is not application/json; nothing was done"}
# API Gateway answers these itself, before any function runs (template.yaml's GatewayResponses word them).
GATEWAY_ERRORS = {
    403: "Missing or invalid x-api-key",
    429: "The API key's usage plan throttled the request",
}
IAM_GATEWAY_ERRORS = {403: "Missing or invalid SigV4 signature, or no execute-api:Invoke for the caller"}
PATH_REFERENCE = "The send's reference, percent-encoded as one path segment: password-reset/42 as password-reset%2F42"

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


def _undeclared_models() -> dict[str, Any]:
    """The models behind the answers of routes that do not declare them yet."""
    from listrak_kit.imports.direct import DirectOutcome

    return {"DirectOutcome": DirectOutcome}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


# Shopify cannot send an API key: API Gateway lets this route through without one (ApiKeyRequired: false), and
# the function checks the signature of its raw body instead.
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
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import Server, ServerVariable

    from listrak_kit.api import API_KEY, SECURITY_SCHEMES

    template = Template.load(template_path)
    stage = template.api_stage()
    version = project_version()
    server = Server(
        url=f"https://{{apiId}}.execute-api.{{region}}.amazonaws.com/{stage}",
        description="The deployed stage (the stack's ApiUrl output)",
        variables={
            "apiId": ServerVariable(default="apiId", description="The RestApi's id"),
            "region": ServerVariable(default="us-east-1", description="The stack's region"),
        },
    )
    merge = OpenAPIMerge(title=TITLE, version=version, servers=[server], security=API_KEY, on_conflict="error")

    declared: set[tuple[str, str]] = set()
    documents: list[tuple[str, dict[str, Any]]] = []
    for logical_id, (spec, routes) in sorted(api_functions(template).items()):
        declared |= routes
        resolver = _resolver(load_module(spec), spec)
        # Each resolver declares its security schemes itself (listrak_kit.api.rest_api).
        document = json.loads(resolver.get_openapi_json_schema(title=TITLE, version=version, servers=[server]))
        served = {(method, path) for path, item in document.get("paths", {}).items() for method in item}
        if served != routes:
            name = spec.module_path.name
            raise ValueError(f"{logical_id}: template.yaml routes {sorted(routes)} but {name} serves {sorted(served)}")
        documents.append((logical_id, document))
        merge.add_schema(document)
    if not documents:
        raise ValueError(f"{template_path} declares no Api events")
    _check_components_agree(documents)
    merged = copy.deepcopy(merge.get_openapi_schema())
    merged["components"]["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    # API Gateway's own word for a SigV4 route (its import reads it; the document stays valid OpenAPI).
    merged["components"]["securitySchemes"][SIGV4_SCHEME]["x-amazon-apigateway-authtype"] = "awsSigv4"
    merged["tags"] = copy.deepcopy(TAGS)
    _check_iam_routes(template, merged)
    _complete(merged)
    _check_routes(merged, declared)
    return merged


def _check_components_agree(documents: list[tuple[str, dict[str, Any]]]) -> None:
    """Powertools' merge keeps the last of two components of one name: two functions must not disagree."""
    seen: dict[tuple[str, str], Any] = {}
    for logical_id, document in documents:
        for section, entries in document.get("components", {}).items():
            for name, value in entries.items():
                if seen.setdefault((section, name), value) != value:
                    raise ValueError(f"components.{section}.{name} differs between functions (again in {logical_id})")


def _check_iam_routes(template: Template, document: dict[str, Any]) -> None:
    """The routes that declare the SigV4 scheme are exactly those template.yaml authorises with AWS_IAM."""
    iam = {
        (event["Properties"]["Method"].lower(), event["Properties"]["Path"])
        for spec in template.functions().values()
        for event in spec.events.values()
        if event.get("Type") == "Api" and event["Properties"].get("Auth", {}).get("Authorizer") == "AWS_IAM"
    }
    signed = {
        (method, path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if {SIGV4_SCHEME: []} in operation.get("security", [])
    }
    if iam != signed:
        raise ValueError(f"template.yaml's AWS_IAM routes {sorted(iam)} differ from the SigV4 routes {sorted(signed)}")


def _complete(document: dict[str, Any]) -> None:
    """What the routes cannot declare: the error bodies' schemas, the gateway's own answers, the signed webhook,
    the Idempotency-Key header, and the answers of a route that declares none yet."""
    from pydantic import TypeAdapter

    from listrak_kit.answers import ERROR_SCHEMAS, answers, ok

    schemas = document["components"]["schemas"]
    for name, model in _undeclared_models().items():
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
            responses = operation.setdefault("responses", {})
            if key in UNDECLARED:
                route = UNDECLARED[key]
                operation.update({name: route[name] for name in ("summary", "description", "tags")})
                responses.pop("200", None)
                success = ok(route["success"], schema={"$ref": REF.format(model=route["model"])})
                responses.update({str(k): v for k, v in answers({200: success}, route["errors"]).items()})
            elif operation.get("summary", "").upper() == f"{method} {path}".upper():
                raise LookupError(f"{method.upper()} {path} declares no summary or answers on its route; add them")
            for name, value in copy.deepcopy(SIGNED_ROUTES.get(key, {})).items():
                if name == "parameters":
                    operation.setdefault("parameters", []).extend(value)
                else:
                    operation[name] = value
            # Powertools documents its own 422 for validation; this API answers 400 (listrak_kit/api.py).
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
            media = UNSUPPORTED_MEDIA_TYPE if "requestBody" in operation else {}
            gateway = {429: GATEWAY_ERRORS[429]} if key in SIGNED_ROUTES else GATEWAY_ERRORS
            if {SIGV4_SCHEME: []} in operation.get("security", []):
                gateway = IAM_GATEWAY_ERRORS
            for status, answer in answers({}, {**media, **gateway}).items():
                responses[str(status)] = answer
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in rules:
                    _annotate_string(parameter["schema"], rules[parameter["name"]])
                if parameter["in"] == "path" and parameter["name"] == "reference":
                    parameter["description"] = PATH_REFERENCE
            if key in TAKES_IDEMPOTENCY_KEY:
                operation.setdefault("parameters", []).append(copy.deepcopy(IDEMPOTENCY_KEY))


def _annotate_string(schema: dict[str, Any], rule: dict[str, str]) -> None:
    """Adds the rule to the string in `schema` (a string, or an anyOf of a string and null)."""
    strings = [s for s in schema.get("anyOf", [schema]) if s.get("type") == "string"]
    if len(strings) != 1:
        raise ValueError(f"expected one string schema to annotate with {rule}, found {schema}")
    strings[0].update(rule)


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
