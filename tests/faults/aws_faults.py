"""AWS faults for the fault tests: botocore's own event hooks answer matching calls with an AWS error."""

from __future__ import annotations

import json

import requests
from botocore.awsrequest import AWSResponse

from listrak_kit.aws.clients import aws_client


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


class Fault:
    """Answers matching calls with an AWS error, `times` times (botocore's retries count as calls)."""

    def __init__(
        self,
        service: str,
        code: str,
        *,
        status: int = 400,
        times: int = 1000,
        operation: str = "*",
        body_contains: str | None = None,
        raises: BaseException | None = None,
        applies_first: bool = False,
    ):
        self.service, self.code, self.status, self.times = service, code, status, times
        self.operation, self.body_contains, self.hits = operation, body_contains, 0
        self.raises = raises  # instead of answering: what a Lambda timeout does to the code mid-call
        self.applies_first = applies_first  # the call reaches AWS and is applied; only its answer is lost

    def __enter__(self) -> Fault:
        event = f"before-send.{self.service}" + ("" if self.operation == "*" else f".{self.operation}")
        aws_client(self.service).meta.events.register(event, self)
        self._event = event
        return self

    def __exit__(self, *exc: object) -> None:
        aws_client(self.service).meta.events.unregister(self._event, self)

    def __call__(self, request, **_kwargs):
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        if self.times <= 0 or (self.body_contains and self.body_contains not in body):
            return None
        self.times -= 1
        self.hits += 1
        if self.raises is not None:
            raise self.raises
        if self.applies_first:
            headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
            requests.request(request.method, request.url, headers=headers, data=request.body, timeout=10)
        payload = json.dumps({"__type": f"com.amazonaws#{self.code}", "message": "injected fault"}).encode()
        headers = {"x-amzn-ErrorType": self.code, "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, self.status, headers, _Raw(payload))
