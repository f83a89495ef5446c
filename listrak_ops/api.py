"""Calls to the stack's own API signed with the operator's AWS credentials (SigV4), as the support routes require.

On AWS, API Gateway checks the signature and IAM decides (the route's resource policy names the support role); the
function then sees who asked and records it. With --local, the local API server (`make api`) checks the signature
against the local support key it printed when it started: LOCAL_SUPPORT_SECRET, at LOCAL_API_URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

TIMEOUT = (5, 30)  # connect, read: a stuck API fails the command instead of hanging it


class ApiUnreachable(Exception):
    """The stack's API could not be called (no URL, no credentials, or no answer)."""


@dataclass(frozen=True)
class SignedApi:
    url: str  # the stage's base URL (ApiUrl)
    credentials: Any  # botocore Credentials
    region: str

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not self.url:
            raise ApiUnreachable("the stack has no ApiUrl output")
        if self.credentials is None:
            raise ApiUnreachable("no AWS credentials to sign with: set AWS_PROFILE or pass --profile")
        data = json.dumps(body)
        request = AWSRequest(
            method="POST", url=self.url.rstrip("/") + path, data=data, headers={"Content-Type": "application/json"}
        )
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(request)
        try:
            answer = requests.post(request.url, data=data, headers=dict(request.headers.items()), timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ApiUnreachable(f"{self.url} did not answer: {type(exc).__name__}") from None
        try:
            parsed = answer.json()
        except ValueError:
            parsed = {"message": answer.text[:300]}
        return answer.status_code, parsed if isinstance(parsed, dict) else {"body": parsed}


def redirect_path(reference: str) -> str:
    return f"/support/messages/{quote(reference, safe='')}/redirect"
