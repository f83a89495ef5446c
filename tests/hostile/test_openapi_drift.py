"""openapi.json is generated from the code (`make openapi`); this fails when the committed file has drifted."""

from __future__ import annotations

import json

import pytest

from local_stack import ROOT, openapi
from local_stack.stack import LocalStack

COMMITTED = ROOT / "openapi.json"


@pytest.fixture(scope="module")
def built() -> dict:
    return openapi.build()


def test_the_committed_openapi_json_is_what_the_code_describes(built):
    assert COMMITTED.exists(), "openapi.json is missing: run `make openapi` and commit it"
    committed = COMMITTED.read_text(encoding="utf-8")
    assert committed == openapi.render(built), (
        "openapi.json differs from what the code describes: run `make openapi` and commit the result"
    )


def test_the_check_mode_fails_on_a_stale_file_and_passes_on_a_fresh_one(built, tmp_path, capsys):
    stale = tmp_path / "openapi.json"
    stale.write_text(openapi.render({**built, "paths": {}}), encoding="utf-8")
    assert openapi.main(["--check", "--output", str(stale)]) == 1
    assert "make openapi" in capsys.readouterr().err

    assert openapi.main(["--output", str(stale)]) == 0
    assert openapi.main(["--check", "--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8").endswith("}\n")


def test_it_is_a_valid_openapi_3_document(built):
    from openapi_spec_validator import validate

    validate(built)
    assert built["openapi"].startswith("3.")
    assert built["info"] == {"title": "listrak-sam", "version": openapi.project_version()}


def test_every_template_route_is_documented_with_path_parameters_in_braces(built):
    routes = {(r.method.lower(), r.path) for r in LocalStack().api_routes()}
    documented = {(method, path) for path, item in built["paths"].items() for method in item}
    assert documented == routes
    assert "/messages/{reference}" in built["paths"]
    assert not any("<" in path for path in built["paths"])


def test_the_api_key_is_required_everywhere_and_the_server_is_the_stage_url(built):
    assert built["components"]["securitySchemes"]["apiKey"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert built["security"] == [{"apiKey": []}]
    # but for Shopify's webhook, which proves itself with the signature of its body
    unkeyed = {(m, p) for p, item in built["paths"].items() for m, op in item.items() if op.get("security") == []}
    assert unkeyed == {("post", "/webhooks/shopify")}
    webhook = built["paths"]["/webhooks/shopify"]["post"]
    assert "403" not in webhook["responses"]
    assert {"X-Shopify-Hmac-Sha256", "X-Shopify-Topic"} <= {p["name"] for p in webhook["parameters"] if p["required"]}
    [server] = built["servers"]
    assert server["url"] == "https://{apiId}.execute-api.{region}.amazonaws.com/v1"
    assert set(server["variables"]) == {"apiId", "region"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/messages", {"200", "201", "202", "400", "404", "409", "422", "502", "503"}),
        (
            "post",
            "/messages/{reference}/resend",
            {"200", "201", "400", "403", "404", "409", "410", "502", "503", "504"},
        ),
        (
            "post",
            "/support/messages/{reference}/redirect",
            {"200", "201", "400", "403", "404", "409", "410", "429", "502", "503", "504"},
        ),
        ("post", "/resends", {"200", "201", "400", "403", "409", "410", "502", "503", "504"}),
        ("get", "/messages/{reference}", {"200", "400", "404", "503"}),
        ("post", "/imports", {"200", "400", "502", "503"}),
        ("post", "/webhooks/shopify", {"200", "400", "401", "413", "503"}),
        ("post", "/events", {"200", "202", "400", "413", "503"}),
    ],
)
def test_each_route_documents_the_answers_its_handlers_give(built, method, path, statuses):
    responses = built["paths"][path][method]["responses"]
    assert statuses <= set(responses)
    # Powertools' default 422 (validation) is not this API's: it answers 400 (listrak_kit/api.py). Its own 422
    # is POST /messages naming raw IDs Listrak does not know.
    if "422" in responses:
        assert (method, path) == ("post", "/messages")
        assert "raw IDs" in responses["422"]["description"]
    for status in statuses - {"200", "201", "202", "504"}:
        schema = json.dumps(responses[status]["content"]["application/json"]["schema"])
        assert "#/components/schemas/Error" in schema, (path, status)
    bad_request = responses["400"]["content"]["application/json"]["schema"]["allOf"][1]
    assert bad_request["required"] == ["errors"] and bad_request["properties"]["errors"]["minItems"] == 1


def test_every_component_schema_of_every_resolver_is_kept(built):
    for spec, _routes in openapi.api_functions(LocalStack().template).values():
        resolver = openapi._resolver(openapi.load_module(spec), spec)
        own = json.loads(resolver.get_openapi_json_schema())["components"]["schemas"]
        assert set(own) <= set(built["components"]["schemas"]), spec.logical_id
    for name in ("Error", "FieldError", "SendResult", "ResendResult", "MessageView", "DirectOutcome"):
        assert name in built["components"]["schemas"]
