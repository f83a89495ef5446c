"""Generated hostile requests against every route, over HTTP, from the committed openapi.json (schemathesis).

Properties, for every route and every request schemathesis makes of the schema (valid and invalid):
- never a 5xx: no Listrak fault is injected here, so the only 5xx allowed is a 502 carrying Listrak's own
  refusal (a raw listId/transactionalMessageId the sandbox does not know);
- every answer is a JSON object; every 4xx has a `message`; every 400 lists the problems, each naming a field;
- status, content type and body conform to openapi.json.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from local_stack import ROOT
from local_stack.iam_auth import RequestsSigner
from local_stack.stack import REGION
from tests.hostile.helpers import assert_field_errors, field_values, send

OPENAPI = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
# The gateway's key check is tested apart (below); without it in the schema, schemathesis spends no cases on
# dropping or mangling x-api-key (a 403 before any handler runs), and every case reaches a function.
OPENAPI["security"] = []
OPENAPI["components"].pop("securitySchemes")
SCHEMA = schemathesis.openapi.from_dict(OPENAPI)
OPERATIONS = {operation.label: operation for operation in (result.ok() for result in SCHEMA.get_all_operations())}
MAX_EXAMPLES = 30  # per route and mode: the whole hostile suite stays well under a minute on two cores
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def assert_answer(response: requests.Response | schemathesis.Response) -> dict[str, Any]:
    """The properties every answer of this API has, whatever was asked."""
    status = response.status_code
    content_type = response.headers.get("content-type") or ""  # schemathesis gives lists, requests strings
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/json"), (status, response.headers)
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    if status >= 500:
        # The sandbox refusing a request it was validly sent (Listrak's 4xx, relayed) is the one allowed 5xx.
        assert status == 502 and "listrakStatus" in body, (status, body)
    if 400 <= status < 600:
        assert isinstance(body.get("message"), str) and body["message"].strip(), (status, body)
    if status == 400:
        assert_field_errors(body)
    return body


def test_every_route_of_the_template_is_fuzzed():
    assert set(OPERATIONS) == {
        "POST /messages",
        "POST /messages/{reference}/resend",
        "POST /support/messages/{reference}/redirect",
        "POST /resends",
        "GET /messages/{reference}",
        "POST /imports",
        "POST /webhooks/shopify",
        "POST /events",
        "POST /privacy/forget",
        "GET /privacy/forget/{requestId}",
    }


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_generated_request_gets_a_server_error_or_an_error_that_names_nothing(api, sandbox, label, mode):
    operation = OPERATIONS[label]
    statuses: Counter[int] = Counter()
    # The support and privacy routes are IAM-authorised: each generated request is SigV4-signed, as a client would.
    session = requests.Session()
    iam = "/support/" in label or "/privacy/" in label
    if iam:
        session.auth = RequestsSigner(api.support, REGION)

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def hostile_request(case: Any) -> None:
        response = case.call(base_url=api.url, session=session, headers={"x-api-key": api.key}, timeout=30)
        statuses[response.status_code] += 1
        assert_answer(response)
        case.validate_response(response, checks=CHECKS)

    hostile_request()

    assert sum(statuses.values()) >= MAX_EXAMPLES // 2, statuses  # the generator was not starved
    if iam:
        assert statuses[404] + statuses[400] + statuses[202] > 0, statuses  # signed: the cases reached the function
    if mode is GenerationMode.NEGATIVE:
        assert any(400 <= s < 500 for s in statuses), statuses  # invalid input was refused, not served


# -- valid sends carrying hostile text: accepted, and the item block stays escaped ---------------------------------

hostile_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "&lt;b&gt;",
            "]]><!--",
            "‮gnp.exe",
            "\x00\x1b[2J",
            "{ProductName}",
            "{{7*7}}",
            "${jndi:ldap://x}",
        ]
    ),
)


@settings(max_examples=25, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    first_name=hostile_text,
    product=hostile_text,
    price=st.one_of(hostile_text, st.integers(), st.floats(allow_nan=False, allow_infinity=False)),
)
def test_any_text_in_a_valid_send_is_accepted_and_escaped_in_the_item_block(stack, sandbox, first_name, product, price):
    before = sandbox.stats["sends"]
    payload = {
        "emailAddress": "jane@example.com",
        "message": "order-confirmation",
        "fields": {"firstName": first_name},
        "items": [{"ProductName": product, "Quantity": 1, "ItemPrice": price, "ImageURL": "https://x/i.jpg"}],
    }

    answer = send(stack, payload)

    assert answer.status == 201, answer
    assert sandbox.stats["sends"] == before + 1
    values = field_values(sandbox.sent_messages[-1])
    assert values[5101] == first_name  # a plain profile field: passed on as given
    block = values[5105]
    assert "<" not in block and ">" not in block
    rendered = html.unescape(block)  # what Listrak puts in the email
    assert html.escape(product) in rendered
    assert "<script" not in rendered.replace(html.escape("<script"), "")


# -- what API Gateway answers before any function runs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/messages", {}, 403),
        ("POST", "/messages", {"x-api-key": "<script>"}, 403),
        ("GET", "/messages/r-1", {"x-api-key": ""}, 403),
        ("DELETE", "/messages/r-1", None, 403),
        ("POST", "/nowhere", None, 403),
        ("POST", "/messages/a/b/resend", None, 403),
    ],
    ids=["no-key", "wrong-key", "empty-key", "unknown-method", "unknown-path", "slash-in-reference"],
)
def test_the_gateway_refuses_with_json_before_any_function_runs(api, sandbox, method, path, headers, status):
    sent_headers = {"x-api-key": api.key} if headers is None else headers
    response = api.session.request(method, api.url + path, headers=sent_headers, json={"emailAddress": "x"})

    assert response.status_code == status
    assert_answer(response)
    assert sandbox.stats["requests"] == 0  # nothing got as far as Listrak (not even a token request)


def test_a_body_over_api_gateways_10_mb_limit_is_a_413_in_json(api, sandbox):
    body = json.dumps({"emailAddress": "jane@example.com", "fields": {"firstName": "x" * (10 * 1024 * 1024)}})
    response = api.session.post(
        api.url + "/messages", data=body, headers={"x-api-key": api.key, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert_answer(response)
    assert sandbox.stats["sends"] == 0
