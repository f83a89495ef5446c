"""One integration's authorised Listrak client: every Email, Data and contacts call goes through it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from listrak_kit.listrak.errors import ListrakUnauthorized
from listrak_kit.listrak.http import HttpAnswer, ListrakHttp
from listrak_kit.listrak.tokens import TokenProvider


class AuthorizedListrak:
    """Adds the bearer token; on a 401, takes a fresher token and replays the call exactly once.

    A 401 means Listrak refused the request before acting on it, so replaying even a send is safe.
    """

    def __init__(self, http: ListrakHttp, tokens: TokenProvider, base_url: str):
        self._http = http
        self._tokens = tokens
        self.base_url = base_url.rstrip("/")

    def call(
        self,
        method: str,
        path: str,
        *,
        replay_safe: bool,
        json: Any = None,
        body: bytes | None = None,
        params: Mapping[str, str] | None = None,
        what: str,
        max_attempts: int | None = None,
        budget_seconds: float | None = None,
    ) -> HttpAnswer:
        """`json` is serialized here; `body` is a JSON document the caller serialized already."""
        token = self._tokens.token()
        extra = {"Content-Type": "application/json"} if body is not None else {}
        send: Callable[[str], HttpAnswer] = lambda bearer: self._http.request(  # noqa: E731
            method,
            f"{self.base_url}{path}",
            json=json,
            data=body,
            params=params,
            headers={"Authorization": f"Bearer {bearer}", **extra},
            replay_safe=replay_safe,
            what=what,
            max_attempts=max_attempts,
            budget_seconds=budget_seconds,
        )
        try:
            return send(token)
        except ListrakUnauthorized:
            return send(self._tokens.replace_rejected(token))
