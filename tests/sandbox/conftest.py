"""Shared by the sandbox's own tests: a fake clock, sandboxes started on it and stopped after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import requests

from local_stack.sandbox import ListrakSandbox

START = datetime(2026, 11, 22, 15, 0, tzinfo=UTC).timestamp()
UNAUTHORIZED = {
    "status": 401,
    "error": "ERROR_UNAUTHORIZED",
    "message": "Authorization was denied for this request.",
}


def assert_envelope(answer, status: int, error: str, message: str | None = None) -> dict:
    """A Listrak error answer: its status, and the envelope {status, error, message} Listrak wraps errors in."""
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"status", "error", "message"}
    assert body["status"] == status and body["error"] == error
    if message is not None:
        assert body["message"] == message
    return body


class FakeClock:
    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def start_sandbox(clock: FakeClock) -> Iterator[Callable[..., ListrakSandbox]]:
    """start_sandbox(seed, **options): a sandbox on the test's clock, seeded by seed(sandbox), stopped afterwards."""
    started: list[ListrakSandbox] = []

    def start(seed: Callable[[ListrakSandbox], None], **options) -> ListrakSandbox:
        options.setdefault("clock", clock)
        sandbox = ListrakSandbox(**options).start()
        started.append(sandbox)
        seed(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox) -> ListrakSandbox:
    return make_sandbox()


@pytest.fixture
def http():
    """One keep-alive session, as Listrak clients use."""
    with requests.Session() as session:
        yield session
