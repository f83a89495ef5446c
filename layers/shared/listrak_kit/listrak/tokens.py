"""OAuth2 client-credentials tokens for one Listrak integration, shared by a whole fleet of Lambdas.

Three tiers, cheapest first:
1. memory: a warm container reuses its token with no I/O at all;
2. the shared cache (a Secrets Manager secret): a cold container reads the token another container minted;
3. Listrak's token endpoint: only the container that holds the refresh lock mints, ahead of expiry, and writes
   the cache once. The others keep using the current token, or wait briefly for the new one when none is valid.
So a fleet mints about one token per integration per token lifetime, and writes the cache once per token.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from listrak_kit.clock import Clock, SystemClock
from listrak_kit.listrak.errors import ListrakInvalidCredentials, ListrakRejected, ListrakUnauthorized
from listrak_kit.listrak.http import ListrakHttp


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float

    def remaining(self, now: float) -> float:
        return self.expires_at - now


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str
    client_secret: str = field(repr=False)


class CredentialsSource(Protocol):
    def get(self) -> ClientCredentials: ...


class TokenCache(Protocol):
    def read(self) -> AccessToken | None: ...

    def write(self, token: AccessToken) -> None: ...


class RefreshLock(Protocol):
    def acquire(self, owner: str, ttl_seconds: int) -> bool: ...

    def release(self, owner: str) -> None: ...


class TokenMinter:
    """Asks Listrak's token endpoint for a new token."""

    def __init__(self, http: ListrakHttp, auth_url: str, clock: Clock | None = None):
        self._http = http
        self._auth_url = auth_url
        self._clock = clock or SystemClock()

    def mint(self, credentials: ClientCredentials) -> AccessToken:
        issued_at = self._clock.now()
        try:
            answer = self._http.request(
                "POST",
                self._auth_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": credentials.client_id,
                    "client_secret": credentials.client_secret,
                },
                replay_safe=True,  # a second token request costs nothing but a token
                what="token request",
            )
        except (ListrakRejected, ListrakUnauthorized) as exc:
            # The token endpoint answers bad credentials with a bare {"error": "Invalid Credentials"}, as a 400
            # or a 401 (an inactive integration, an address outside its allow-list): the same fix either way.
            raise ListrakInvalidCredentials(
                f"Listrak refused the client credentials (HTTP {exc.status}, {exc.code}); "
                "check the client ID and secret in the credentials secret and the integration's IP allow-list",
                status=exc.status,
                code=exc.code,
            ) from exc
        body = answer.body if isinstance(answer.body, dict) else {}
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise ListrakInvalidCredentials("Listrak's token endpoint answered without an access_token")
        lifetime = body.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else 3599.0
        return AccessToken(value=value, expires_at=issued_at + lifetime)


@dataclass(frozen=True)
class TokenPolicy:
    refresh_ahead_seconds: float = 600.0  # start refreshing this long before expiry
    min_validity_seconds: float = 30.0  # never hand out a token closer than this to expiry
    lock_ttl_seconds: int = 30  # a crashed lock holder blocks refresh for at most this long
    lock_retry_seconds: float = 5.0  # while the old token is still good, ask for the lock this often
    wait_for_peer_seconds: float = 6.0  # with no usable token, wait this long for the lock holder's token


class TokenProvider:
    def __init__(
        self,
        *,
        integration: str,
        credentials: CredentialsSource,
        cache: TokenCache,
        lock: RefreshLock,
        minter: TokenMinter,
        clock: Clock | None = None,
        policy: TokenPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_event: Callable[[str], None] | None = None,
    ):
        self.integration = integration
        self._credentials = credentials
        self._cache = cache
        self._lock = lock
        self._minter = minter
        self._clock = clock or SystemClock()
        self._policy = policy or TokenPolicy()
        self._sleep = sleep
        self._on_event = on_event or (lambda _name: None)
        self._owner = f"{integration}-{uuid.uuid4()}"
        self._memory: AccessToken | None = None
        self._loaded_from_cache = False
        self._next_lock_attempt = 0.0
        self._mutex = threading.Lock()

    def token(self) -> str:
        """A usable bearer token; no I/O on a warm container whose token is not due for refresh."""
        current = self._memory
        if current is not None and current.remaining(self._clock.now()) > self._policy.refresh_ahead_seconds:
            return current.value
        with self._mutex:
            return self._obtain(rejected=None)

    def replace_rejected(self, rejected: str) -> str:
        """Called after a 401: another container may already hold a newer token, else mint one."""
        with self._mutex:
            if self._memory is not None and self._memory.value != rejected and self._usable(self._memory):
                return self._memory.value
            self._memory = None
            self._loaded_from_cache = False
            self._next_lock_attempt = 0.0
            return self._obtain(rejected=rejected)

    # -- internals (called with the mutex held) --------------------------------------------------------

    def _obtain(self, rejected: str | None) -> str:
        now = self._clock.now()
        current = self._memory
        if current is not None and current.remaining(now) > self._policy.refresh_ahead_seconds:
            return current.value  # another thread refreshed while we waited for the mutex
        if not self._loaded_from_cache:
            self._loaded_from_cache = True
            cached = self._read_cache(rejected)
            if cached is not None:
                self._memory = current = cached
                if cached.remaining(now) > self._policy.refresh_ahead_seconds:
                    return cached.value
        if current is not None and self._usable(current) and now < self._next_lock_attempt:
            return current.value  # due for refresh, but a peer holds the lock; ours is still good
        return self._refresh(current, rejected)

    def _refresh(self, current: AccessToken | None, rejected: str | None) -> str:
        if self._try_lock():
            try:
                latest = self._read_cache(rejected)  # a peer may have refreshed just before we got the lock
                if latest is not None and latest.remaining(self._clock.now()) > self._policy.refresh_ahead_seconds:
                    self._memory = latest
                    return latest.value
                return self._mint_and_share().value
            finally:
                self._release_lock()

        self._on_event("TokenRefreshLockBusy")
        if current is not None and self._usable(current):
            self._next_lock_attempt = self._clock.now() + self._policy.lock_retry_seconds * (0.5 + random.random())
            return current.value
        return self._wait_for_peer(rejected)

    def _wait_for_peer(self, rejected: str | None) -> str:
        waited = 0.0
        step = 0.2
        while waited < self._policy.wait_for_peer_seconds:
            self._sleep(step)
            waited += step
            latest = self._read_cache(rejected)
            if latest is not None and self._usable(latest):
                self._memory = latest
                return latest.value
            step = min(1.0, step * 1.5)
        # The lock holder is gone or stuck: mint ourselves rather than fail the caller.
        self._on_event("TokenRefreshPeerTimeout")
        return self._mint_and_share().value

    def _mint_and_share(self) -> AccessToken:
        token = self._minter.mint(self._credentials.get())
        self._on_event("TokenMinted")
        self._memory = token
        try:
            self._cache.write(token)
        except Exception:  # the token is good; peers will mint their own rather than fail a send
            self._on_event("TokenCacheWriteFailed")
        return token

    # The shared tiers degrade to "mint it yourself": an outage of the cache must never stop a send.

    def _try_lock(self) -> bool:
        try:
            return self._lock.acquire(self._owner, self._policy.lock_ttl_seconds)
        except Exception:
            self._on_event("TokenRefreshLockFailed")
            return True

    def _release_lock(self) -> None:
        try:
            self._lock.release(self._owner)
        except Exception:
            self._on_event("TokenRefreshLockFailed")  # it expires on its own after lock_ttl_seconds

    def _read_cache(self, rejected: str | None) -> AccessToken | None:
        try:
            cached = self._cache.read()
        except Exception:
            self._on_event("TokenCacheReadFailed")
            return None
        if cached is None or cached.value == rejected or not self._usable(cached):
            return None
        return cached

    def _usable(self, token: AccessToken) -> bool:
        return token.remaining(self._clock.now()) > self._policy.min_validity_seconds
