"""In-process answers for AWS (through botocore) and Listrak (through requests): no moto, no sockets.

botocore's `before-send` event lets a handler return the response instead of sending the request; a requests
transport adapter does the same for a Session. Everything above the wire (serialising, signing, parsing,
retries' bookkeeping) runs as it would against the real services, and every call is counted by name
(`dynamodb.PutItem`, `listrak.POST /v1/...`).
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import requests
from botocore.awsrequest import AWSResponse
from requests.adapters import BaseAdapter

# (operation, request body) -> (HTTP status, response body), for AWS's JSON protocols (DynamoDB, Secrets Manager).
AwsAnswer = Callable[[str, dict[str, Any]], tuple[int, dict[str, Any]]]
# (method, URL, request body) -> (HTTP status, response body)
HttpAnswer = Callable[[str, str, bytes], tuple[int, Any]]


class _Raw:
    """What botocore reads a response body from."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self._data


def answer_aws(client: Any, answer: AwsAnswer, calls: Counter[str]) -> None:
    """Every request `client` makes is answered by `answer` and counted as `<service>.<Operation>`."""
    service = client.meta.service_model.endpoint_prefix

    def before_send(request: Any, **_kwargs: Any) -> AWSResponse:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        calls[f"{service}.{operation}"] += 1
        body = request.body or b"{}"
        status, reply = answer(operation, json.loads(body))
        headers = {"x-amzn-RequestId": "in-process", "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, status, headers, _Raw(json.dumps(reply).encode()))

    client.meta.events.register("before-send", before_send)


class HttpAnswers(BaseAdapter):
    """A requests transport that answers every request in-process and counts it as `listrak.<METHOD> <path>`."""

    def __init__(self, answer: HttpAnswer, calls: Counter[str], name: Callable[[str, str], str]):
        super().__init__()
        self._answer = answer
        self._calls = calls
        self._name = name

    def send(self, request: requests.PreparedRequest, *_args: Any, **_kwargs: Any) -> requests.Response:
        method, url = request.method or "GET", request.url or ""
        self._calls[self._name(method, url)] += 1
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        status, reply = self._answer(method, url, body)
        response = requests.Response()
        response.status_code = status
        response.reason = "OK" if status < 400 else "Error"
        response._content = json.dumps(reply).encode()
        response.headers["Content-Type"] = "application/json"
        response.encoding = "utf-8"
        response.url = url
        response.request = request
        return response

    def close(self) -> None:
        pass


def mount(session: requests.Session, adapter: BaseAdapter) -> None:
    session.mount("https://", adapter)
    session.mount("http://", adapter)


def mount_on_every_session(adapter: BaseAdapter) -> int:
    """Mounts `adapter` on every requests.Session this process holds (those the code under test made itself)."""
    sessions = [obj for obj in gc.get_objects() if isinstance(obj, requests.Session)]
    for session in sessions:
        mount(session, adapter)
    return len(sessions)
