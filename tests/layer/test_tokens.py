"""TokenProvider on its own, with in-memory fakes for the shared cache, the lock and Listrak."""

from __future__ import annotations

import threading
import time

import pytest

from listrak_kit.listrak.errors import ListrakInvalidCredentials, ListrakRejected, ListrakUnauthorized
from listrak_kit.listrak.tokens import AccessToken, ClientCredentials, TokenMinter, TokenPolicy, TokenProvider


class Clock:
    def __init__(self, now=1_000_000.0):
        self.t = now

    def now(self):
        return self.t


class Cache:
    def __init__(self, token=None, fail=False):
        self.token, self.fail, self.reads, self.writes = token, fail, 0, 0
        self.mutex = threading.Lock()

    def read(self):
        if self.fail:
            raise RuntimeError("secrets manager down")
        with self.mutex:
            self.reads += 1
            return self.token

    def write(self, token):
        if self.fail:
            raise RuntimeError("secrets manager down")
        with self.mutex:
            self.writes += 1
            self.token = token


class Lock:
    def __init__(self):
        self.holder = None
        self.mutex = threading.Lock()
        self.acquisitions = 0

    def acquire(self, owner, ttl_seconds):
        with self.mutex:
            if self.holder is None:
                self.holder = owner
                self.acquisitions += 1
                return True
            return False

    def release(self, owner):
        with self.mutex:
            if self.holder == owner:
                self.holder = None


class Minter:
    def __init__(self, clock, lifetime=3599, delay=0.0):
        self.clock, self.lifetime, self.delay, self.minted = clock, lifetime, delay, 0
        self.mutex = threading.Lock()

    def mint(self, credentials):
        time.sleep(self.delay)
        with self.mutex:
            self.minted += 1
            return AccessToken(f"token-{self.minted}", self.clock.now() + self.lifetime)


class Credentials:
    def get(self):
        return ClientCredentials("id", "secret")


def provider(clock, cache, lock, minter, **policy):
    return TokenProvider(
        integration="email",
        credentials=Credentials(),
        cache=cache,
        lock=lock,
        minter=minter,
        clock=clock,
        policy=TokenPolicy(**policy),
        sleep=lambda s: None,
    )


def test_a_warm_token_costs_no_io():
    clock = Clock()
    cache, lock, minter = Cache(), Lock(), Minter(clock)
    tokens = provider(clock, cache, lock, minter)
    first = tokens.token()
    reads = cache.reads
    for _ in range(100):
        assert tokens.token() == first
    assert cache.reads == reads and minter.minted == 1 and cache.writes == 1


def test_a_cold_container_uses_the_shared_token_without_minting():
    clock = Clock()
    cache = Cache(AccessToken("shared", clock.now() + 3000))
    minter = Minter(clock)
    assert provider(clock, cache, Lock(), minter).token() == "shared"
    assert minter.minted == 0 and cache.writes == 0


def test_refresh_happens_ahead_of_expiry_and_is_written_once():
    clock = Clock()
    cache, lock, minter = Cache(AccessToken("old", clock.now() + 3000)), Lock(), Minter(clock)
    tokens = provider(clock, cache, lock, minter, refresh_ahead_seconds=600)
    assert tokens.token() == "old"
    clock.t += 2500  # 500 s left: inside the refresh window
    assert tokens.token() == "token-1"
    assert minter.minted == 1 and cache.writes == 1


def test_while_a_peer_refreshes_a_still_valid_token_is_used_and_nothing_is_minted():
    clock = Clock()
    cache, lock, minter = Cache(AccessToken("old", clock.now() + 300)), Lock(), Minter(clock)
    lock.holder = "peer"
    tokens = provider(clock, cache, lock, minter, refresh_ahead_seconds=600)
    assert tokens.token() == "old"
    assert tokens.token() == "old"
    assert minter.minted == 0
    assert lock.acquisitions == 0


def test_with_no_usable_token_a_container_waits_for_the_peer_holding_the_lock():
    clock = Clock()
    cache, lock, minter = Cache(), Lock(), Minter(clock)
    lock.holder = "peer"
    tokens = provider(clock, cache, lock, minter)
    original_read = cache.read

    def read_then_peer_finishes():
        if cache.reads >= 2:
            cache.token = AccessToken("from-peer", clock.now() + 3599)
        return original_read()

    cache.read = read_then_peer_finishes
    assert tokens.token() == "from-peer"
    assert minter.minted == 0


def test_a_vanished_lock_holder_does_not_block_forever():
    clock = Clock()
    cache, lock, minter = Cache(), Lock(), Minter(clock)
    lock.holder = "crashed-peer"
    assert provider(clock, cache, lock, minter, wait_for_peer_seconds=1).token() == "token-1"


def test_a_rejected_token_is_replaced_by_a_peer_newer_one_before_minting():
    clock = Clock()
    cache, lock, minter = Cache(AccessToken("stale", clock.now() + 3000)), Lock(), Minter(clock)
    tokens = provider(clock, cache, lock, minter)
    assert tokens.token() == "stale"
    cache.token = AccessToken("peer-new", clock.now() + 3599)
    assert tokens.replace_rejected("stale") == "peer-new"
    assert minter.minted == 0


def test_a_rejected_token_with_nothing_newer_is_minted_again_once():
    clock = Clock()
    cache, lock, minter = Cache(AccessToken("revoked", clock.now() + 3000)), Lock(), Minter(clock)
    tokens = provider(clock, cache, lock, minter)
    tokens.token()
    assert tokens.replace_rejected("revoked") == "token-1"
    assert tokens.token() == "token-1"
    assert minter.minted == 1


def test_an_unavailable_shared_cache_degrades_to_minting_in_memory():
    clock = Clock()
    cache, minter = Cache(fail=True), Minter(clock)
    tokens = provider(clock, cache, Lock(), minter)
    assert tokens.token() == "token-1"
    assert tokens.token() == "token-1"
    assert minter.minted == 1


def test_threads_in_one_container_share_one_mint():
    clock = Clock()
    cache, lock, minter = Cache(), Lock(), Minter(clock, delay=0.05)
    tokens = provider(clock, cache, lock, minter)
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(tokens.token())) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(seen) == {"token-1"} and minter.minted == 1


def test_many_containers_share_one_mint_and_one_cache_write():
    clock = Clock()
    cache, lock, minter = Cache(AccessToken("old", clock.now() + 300)), Lock(), Minter(clock, delay=0.05)
    fleet = [provider(clock, cache, lock, minter, refresh_ahead_seconds=600) for _ in range(30)]
    threads = [threading.Thread(target=p.token) for p in fleet]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert minter.minted == 1 and cache.writes == 1


class FakeHttp:
    def __init__(self, outcome):
        self.outcome, self.calls = outcome, []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def test_the_minter_posts_client_credentials_and_reads_the_lifetime():
    from listrak_kit.listrak.http import HttpAnswer

    clock = Clock()
    http = FakeHttp(HttpAnswer(200, {"access_token": "abc", "token_type": "bearer", "expires_in": 3599}))
    token = TokenMinter(http, "https://auth/OAuth2/Token", clock).mint(ClientCredentials("id", "sec"))
    assert token == AccessToken("abc", clock.now() + 3599)
    method, url, kwargs = http.calls[0]
    assert (method, url) == ("POST", "https://auth/OAuth2/Token")
    assert kwargs["data"] == {"grant_type": "client_credentials", "client_id": "id", "client_secret": "sec"}


@pytest.mark.parametrize(
    "refusal",
    [
        ListrakRejected("token request: 400", status=400, code="Invalid Credentials"),
        ListrakUnauthorized("token request: 401", status=401, code="ERROR_INVALID_CREDENTIALS"),
    ],
    ids=["400", "401"],
)
def test_bad_credentials_are_a_clear_non_retryable_error(refusal):
    http = FakeHttp(refusal)
    with pytest.raises(ListrakInvalidCredentials, match="check the client ID and secret"):
        TokenMinter(http, "https://auth", Clock()).mint(ClientCredentials("id", "bad"))


def test_token_values_never_show_in_reprs():
    assert "s3cr3t" not in repr(AccessToken("s3cr3t", 1.0))
    assert "s3cr3t" not in repr(ClientCredentials("id", "s3cr3t"))
