"""API Gateway's AWS_IAM authorisation, for the local API server: a SigV4 signature checked against known keys.

A route whose template event says `Auth: {Authorizer: AWS_IAM}` answers 403 unless the request is signed
(Signature Version 4, service `execute-api`) with one of the local stack's support keys; a signed request reaches
the function with `requestContext.identity` filled as API Gateway fills it (`userArn`, `accessKey`, `caller`,
`accountId`). Only the local server uses this; in AWS, API Gateway and IAM do it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "execute-api"
MAX_SKEW = datetime.timedelta(minutes=5)  # what AWS allows between the signature's time and its own clock
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Principal:
    access_key_id: str
    secret_access_key: str
    arn: str
    account: str

    def identity(self) -> dict[str, str]:
        """What API Gateway puts in requestContext.identity for an IAM-authorised request."""
        return {
            "accessKey": self.access_key_id,
            "caller": self.access_key_id,
            "user": self.access_key_id,
            "userArn": self.arn,
            "accountId": self.account,
        }


class SignatureRefused(Exception):
    """API Gateway's 403 for an IAM route: its message says why."""


def authenticate(
    principals: dict[str, Principal],
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    region: str,
    now: datetime.datetime | None = None,
) -> Principal:
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization")
    if not authorization:
        raise SignatureRefused("Missing Authentication Token")
    match = _AUTHORIZATION.match(authorization.strip())
    amz_date = lowered.get("x-amz-date", "")
    if match is None or not re.fullmatch(r"\d{8}T\d{6}Z", amz_date) or not amz_date.startswith(match["date"]):
        raise SignatureRefused("Authorization header requires a SigV4 Credential, SignedHeaders and Signature")
    principal = principals.get(match["key"])
    if principal is None:
        raise SignatureRefused("The security token included in the request is invalid.")
    if match["region"] != region or match["service"] != SERVICE:
        raise SignatureRefused(f"Credential should be scoped to {region}/{SERVICE}")
    signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    if abs((now or datetime.datetime.now(datetime.UTC)) - signed_at) > MAX_SKEW:
        raise SignatureRefused("Signature expired")
    signed = match["signed"].split(";")
    if "host" not in signed or any(name not in lowered for name in signed):
        raise SignatureRefused("SignedHeaders must include host, and every signed header must be sent")

    # The signature must cover the body that arrived: botocore would take a sent x-amz-content-sha256 (or
    # UNSIGNED-PAYLOAD) as the body's hash, and a signed request could then carry any other body.
    claimed = lowered.get("x-amz-content-sha256")
    actual = hashlib.sha256(body).hexdigest().encode()
    if claimed is not None and not hmac.compare_digest(claimed.encode("utf-8", "surrogateescape"), actual):
        raise SignatureRefused("The request body does not match its x-amz-content-sha256 header")
    request = AWSRequest(method=method, url=url, data=body, headers={name: lowered[name] for name in signed})
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(principal.access_key_id, principal.secret_access_key), SERVICE, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise SignatureRefused(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return principal


def sign(
    principal: Principal,
    *,
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    region: str,
) -> dict[str, str]:
    """The headers a SigV4-signing client (the AWS CLI, `awscurl`, botocore) would send."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(principal.access_key_id, principal.secret_access_key), SERVICE, region).add_auth(request)
    return dict(request.headers.items())


class RequestsSigner:
    """A `requests` auth hook that SigV4-signs each request as it goes out (method, URL, body, Content-Type)."""

    def __init__(self, principal: Principal, region: str):
        self._principal = principal
        self._region = region

    def __call__(self, request: Any) -> Any:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        content_type = request.headers.get("Content-Type")
        signed = sign(
            self._principal,
            method=request.method,
            url=request.url,
            body=body,
            headers={"Content-Type": content_type} if content_type else None,
            region=self._region,
        )
        request.headers.update({k: v for k, v in signed.items() if k.lower() in ("authorization", "x-amz-date")})
        return request
