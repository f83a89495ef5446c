"""HTTP transport for Listrak: one requests.Session, timeouts on every call, bounded jittered retries.

Retry policy, and why:
- 429 (with or without Retry-After): Listrak's limiter refused before acting, so every call is retried.
- 503: usually a service that is down, but nothing in it proves the request was not acted on (a gateway may
  answer 503 after the service behind it queued the email). Retried only for calls marked `replay_safe`.
- A connection that failed before the request was written (refused, DNS, connect timeout): always retried.
- 500, 502, 503 and 504, a read timeout, or a connection dropped after the request was written: Listrak may have
  acted before failing (a 500 or 502 can come after the email was queued). Retried only for calls marked
  `replay_safe` (reads, token requests); any other call (a send, a resend) raises ListrakOutcomeUnknown, because
  Listrak has no idempotency key and a repeat could send a second email.
- 401 is the authorised client's: it takes a fresher token and replays once (Listrak refused before acting).
- Every retry fits inside `retry_budget_seconds` (or the caller's own budget, taken from the time its invocation
  has left), so a handler never outlives its Lambda timeout.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, ReadTimeout
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from listrak_kit.listrak.errors import (
    ListrakError,
    ListrakNotFound,
    ListrakOutcomeUnknown,
    ListrakRejected,
    ListrakUnauthorized,
    ListrakUnavailable,
)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Answers that prove Listrak did not act: retried even for a call that must not run twice.
REFUSED_BEFORE_ACTING = frozenset({429})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0
    retry_budget_seconds: float = 12.0


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.05
    read: float = 10.0


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: Any


class ListrakHttp:
    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ):
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self._sleep = sleep
        self._monotonic = monotonic
        self._jitter = jitter

    def request(
        self,
        method: str,
        url: str,
        *,
        replay_safe: bool,
        json: Any = None,
        data: Mapping[str, str] | bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        what: str = "Listrak call",
        max_attempts: int | None = None,
        budget_seconds: float | None = None,
    ) -> HttpAnswer:
        """`max_attempts` and `budget_seconds` override the policy's for one call (a caller that knows its time)."""
        attempts_allowed = max_attempts or self.retry.max_attempts
        budget = self.retry.retry_budget_seconds if budget_seconds is None else budget_seconds
        started = self._monotonic()
        attempt = 0
        last_problem = ""
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    json=json,
                    data=data,
                    params=params,
                    headers=dict(headers or {}),
                    timeout=(self.timeouts.connect, self.timeouts.read),
                )
            except requests.RequestException as exc:
                if not replay_safe and not _failed_before_sending(exc):
                    raise ListrakOutcomeUnknown(
                        f"{what}: the request was sent but no answer came back ({type(exc).__name__}); "
                        "its outcome is unknown"
                    ) from exc
                last_problem = f"{type(exc).__name__}"
                retry_after = None
            else:
                if response.status_code < 400:
                    return HttpAnswer(response.status_code, _json_or_text(response))
                if response.status_code not in RETRYABLE_STATUSES:
                    raise _error_for(response, what)
                if not replay_safe and response.status_code not in REFUSED_BEFORE_ACTING:
                    raise ListrakOutcomeUnknown(
                        f"{what}: Listrak answered {response.status_code}, which it may give after acting; "
                        "its outcome is unknown",
                        status=response.status_code,
                        code=f"HTTP_{response.status_code}",
                    )
                last_problem = f"HTTP {response.status_code}"
                retry_after = _retry_after_seconds(response)

            delay = self._backoff(attempt, retry_after)
            elapsed = self._monotonic() - started
            if attempt >= attempts_allowed or elapsed + delay > budget:
                raise ListrakUnavailable(
                    f"{what}: Listrak unavailable after {attempt} attempt(s) ({last_problem})",
                    status=503,
                    code="LISTRAK_UNAVAILABLE",
                    detail=last_problem,
                )
            self._sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        # Full jitter keeps a fleet of retrying Lambdas from hitting Listrak in lockstep.
        ceiling = min(self.retry.max_delay, self.retry.base_delay * (2 ** (attempt - 1)))
        delay = ceiling * self._jitter()
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


def _failed_before_sending(exc: requests.RequestException) -> bool:
    """True when the request provably never reached Listrak, so even a send may be retried."""
    if isinstance(exc, ConnectTimeout):
        return True
    if isinstance(exc, RequestsConnectionError) and not isinstance(exc, ReadTimeout):
        inner = exc.args[0] if exc.args else None
        reason = getattr(inner, "reason", inner)  # urllib3's MaxRetryError wraps the real cause
        return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    return False


def _retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _json_or_text(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _error_for(response: requests.Response, what: str) -> ListrakError:
    body = _json_or_text(response)
    code = detail = None
    if isinstance(body, dict):
        code = body.get("error")
        detail = body.get("message")
    code = str(code) if code else f"HTTP_{response.status_code}"
    detail = str(detail) if detail else ""
    message = f"{what}: Listrak answered {response.status_code} {code}" + (f": {detail}" if detail else "")
    if response.status_code == 401:
        return ListrakUnauthorized(message, status=401, code=code, detail=detail)
    if response.status_code == 404:
        return ListrakNotFound(message, status=404, code=code, detail=detail)
    return ListrakRejected(message, status=response.status_code, code=code, detail=detail)
