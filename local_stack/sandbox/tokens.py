"""The OAuth2 token endpoint and bearer-token checks."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qs

from local_stack.sandbox.records import Token
from local_stack.sandbox.wire import (
    UNAUTHORIZED_MESSAGE,
    ApiError,
    Reply,
    Request,
    malformed,
    media_type,
)


class TokenRoutes:
    """Mixed into ListrakSandbox: its lock, clock, clients and tokens."""

    def _new_token(self, integration: str, ttl_seconds: float) -> str:
        value = secrets.token_urlsafe(96)  # 128 chars of [A-Za-z0-9_-]: opaque, no dots, so not a JWT
        self._tokens[value] = Token(integration, self._now() + ttl_seconds)
        return value

    def _authorize(self, request: Request, integration: str) -> None:
        scheme, _, value = (request.headers.get("Authorization") or "").strip().partition(" ")
        with self._lock:
            token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
            if token is None or token.integration != integration or self._now() >= token.expires_at:
                self._counters["unauthorized"] += 1
                raise ApiError(401, "ERROR_UNAUTHORIZED", UNAUTHORIZED_MESSAGE, [("WWW-Authenticate", "Bearer")])

    @staticmethod
    def _json_body(request: Request) -> Any:
        if media_type(request.headers.get("Content-Type")) != "application/json":
            raise ApiError(
                415,
                "ERROR_UNSUPPORTED_CONTENT_TYPE",
                "The request content type is not supported; send application/json.",
            )
        try:
            return json.loads((request.body or b"").decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise malformed() from None

    # POST /OAuth2/Token
    def _handle_token(self, request: Request, _params: tuple[str, ...]) -> Reply:
        form: dict[str, list[str]] = {}
        if media_type(request.headers.get("Content-Type")) == "application/x-www-form-urlencoded":
            form = parse_qs((request.body or b"").decode("utf-8", "replace"), keep_blank_values=True)

        def first(name: str) -> str:
            values = form.get(name)
            return values[0] if values else ""

        if first("grant_type") != "client_credentials":
            return Reply(400, {"error": "unsupported_grant_type"})
        client_id, client_secret = first("client_id"), first("client_secret")
        with self._lock:
            client = self._clients.get(client_id)
            if client is None or not secrets.compare_digest(
                client.secret.encode("utf-8"), client_secret.encode("utf-8")
            ):
                self._counters["token_rejections"] += 1
                return Reply(400, {"error": "Invalid Credentials"})
            value = self._new_token(client.integration, self.token_ttl_seconds)
            self._counters["tokens_minted"] += 1
            self._minted_by_integration[client.integration] += 1
        return Reply(
            200,
            {"access_token": value, "token_type": "bearer", "expires_in": self.token_ttl_seconds},
            [("Cache-Control", "no-cache"), ("Pragma", "no-cache")],
        )
