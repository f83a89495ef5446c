"""What every hostile-input test checks: the answer's status, and that an error body is JSON naming the problem."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from local_stack.api_server import proxy_event

JSON = "application/json"


@dataclass
class Answer:
    status: int
    text: str
    crash: Exception | None = None  # the function raised: API Gateway would answer 502 "Internal server error"

    @property
    def body(self) -> Any:
        return json.loads(self.text)

    def fields(self) -> list[str]:
        return [error["field"] for error in self.body.get("errors", [])]

    def __repr__(self) -> str:
        if self.crash is not None:
            return f"<function error {type(self.crash).__name__}: {str(self.crash)[:200]}>"
        return f"<{self.status} {self.text[:300]}>"


def invoke(
    stack: Any,
    logical_id: str,
    method: str,
    path: str,
    resource: str,
    *,
    body: bytes | str | None = None,
    content_type: str | None = JSON,
    headers: dict[str, str] | None = None,
    path_params: dict[str, str] | None = None,
) -> Answer:
    """One API Gateway (REST v1) request through the function, in-process; a function error is a 502."""
    all_headers = {"Content-Type": content_type} if content_type else {}
    all_headers.update(headers or {})
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    event = proxy_event(method, path, all_headers, data, resource, path_params or {}, "v1")
    try:
        result = stack.invoke(logical_id, event)
    except Exception as exc:  # what API Gateway answers for a function error
        return Answer(502, json.dumps({"message": "Internal server error"}), crash=exc)
    return Answer(int(result["statusCode"]), result.get("body") or "")


def send(stack: Any, payload: Any = None, *, raw: str | None = None, **kwargs: Any) -> Answer:
    body = raw if raw is not None else json.dumps(payload)
    return invoke(stack, "SendApiFunction", "POST", "/messages", "/messages", body=body, **kwargs)


def post_import(stack: Any, payload: Any = None, *, raw: str | None = None, **kwargs: Any) -> Answer:
    body = raw if raw is not None else json.dumps(payload)
    return invoke(stack, "ImportApiFunction", "POST", "/imports", "/imports", body=body, **kwargs)


def assert_error_body(answer: Answer, status: int, *fields: str) -> dict[str, Any]:
    """`status`, a JSON object with a message and, for a 400, a non-empty list naming each of `fields`."""
    assert answer.crash is None, answer
    assert answer.status == status, answer
    body = answer.body
    assert isinstance(body, dict), answer
    assert isinstance(body.get("message"), str) and body["message"].strip(), answer
    if status == 400:
        assert_field_errors(body)
        for field in fields:
            assert field in answer.fields(), (field, answer)
    return body


def assert_field_errors(body: dict[str, Any]) -> None:
    errors = body.get("errors")
    assert isinstance(errors, list) and errors, body
    for error in errors:
        assert isinstance(error, dict), body
        assert isinstance(error.get("field"), str) and error["field"].strip(), body
        assert isinstance(error.get("message"), str) and error["message"].strip(), body


def field_values(send_request: dict[str, Any]) -> dict[int, str]:
    return {v["segmentationFieldId"]: v["value"] for v in send_request["segmentationFieldValues"]}
