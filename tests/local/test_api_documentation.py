"""What a caller reads in Swagger UI holds over real HTTP: each route's example is one the API takes, and API
Gateway's own refusals (a wrong key, an unknown route) say what to fix."""

from __future__ import annotations

import json
from typing import Any

import requests

from local_stack import ROOT

DOCUMENT = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
TAGS = {"send", "resend", "support", "storefront", "imports", "privacy"}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in DOCUMENT["paths"].items() for method, op in item.items()]


def test_each_route_has_a_summary_of_its_own_and_a_meaningful_tag() -> None:
    assert {tag["name"] for tag in DOCUMENT["tags"]} == TAGS
    for method, path, operation in _operations():
        summary = operation["summary"]
        assert summary and path not in summary and method.upper() not in summary, (method, path, summary)
        assert operation["description"], (method, path)
        assert len(operation["tags"]) == 1 and operation["tags"][0] in TAGS, (method, path)


def test_every_example_of_post_messages_is_sent(api: tuple[str, str], sandbox: Any) -> None:
    url, key = api
    examples = DOCUMENT["paths"]["/messages"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) >= 2
    for name, example in examples.items():
        answer = requests.post(f"{url}/messages", json=example["value"], headers={"x-api-key": key}, timeout=30)
        assert answer.status_code == 201, (name, answer.text)


def test_every_request_example_passes_validation(api: tuple[str, str], sandbox: Any) -> None:
    url, key = api
    for method, path, operation in _operations():
        content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        for name, example in content.get("examples", {}).items():
            params = {
                p["name"]: next(iter(p["examples"].values()))["value"]
                for p in operation.get("parameters", [])
                if p["in"] == "path"
            }
            target = url + path.format(**params)
            answer = requests.request(method, target, json=example["value"], headers={"x-api-key": key}, timeout=30)
            assert answer.status_code not in (400, 415, 422), (method, path, name, answer.text)


def test_the_gateways_refusals_say_what_to_fix(api: tuple[str, str]) -> None:
    url, key = api
    wrong_key = requests.post(f"{url}/messages", json={}, headers={"x-api-key": "wrong"}, timeout=10)
    assert wrong_key.status_code == 403 and "x-api-key" in wrong_key.json()["message"]
    unknown = requests.get(f"{url}/nowhere", headers={"x-api-key": key}, timeout=10)
    assert unknown.status_code == 403 and "no such route" in unknown.json()["message"]
