"""The whole delivery loop on a laptop: a send through the local API, an activity marked in the sandbox, the
schedules fired as `make api` fires them; within three schedule periods GET shows it and the store's bus carries
exactly one event for it."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from local_stack.background import Background

PERIOD = 1.0


@pytest.fixture
def loop(stack: Any, api: tuple[str, str], monkeypatch: pytest.MonkeyPatch):
    stack.sandbox.activity_delay_seconds = 0
    events: list[dict[str, Any]] = []
    publish = stack.router.publish

    def seen(event: dict[str, Any], bus_logical_id: str | None = None) -> Any:
        events.append(event)
        return publish(event, bus_logical_id)

    monkeypatch.setattr(stack.router, "publish", seen)
    with Background(stack, every=PERIOD, poll_seconds=0.1, say=lambda _line: None):
        yield api, stack.sandbox, events


def _send(api: tuple[str, str], reference: str, address: str) -> None:
    url, key = api
    body = {"emailAddress": address, "message": "password-reset", "fields": {"firstName": "Jo"}}
    answer = requests.post(
        f"{url}/messages", json=body, headers={"x-api-key": key, "Idempotency-Key": reference}, timeout=10
    )
    assert answer.status_code == 201, answer.text


def _delivery(api: tuple[str, str], reference: str) -> dict[str, Any]:
    url, key = api
    answer = requests.get(f"{url}/messages/{reference}", headers={"x-api-key": key}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["delivery"]


def _within(periods: float, check: Any) -> Any:
    deadline = time.monotonic() + periods * PERIOD
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("kind", "status", "detail_type"), [("bounce", "bounced", "Email Bounced"), ("open", "opened", "Email Opened")]
)
def test_an_activity_marked_in_the_sandbox_reaches_get_and_the_bus_once(loop, kind, status, detail_type):
    api, sandbox, events = loop
    _send(api, "order-77", "jo.buyer@example.com")
    assert _delivery(api, "order-77")["status"] == "sent"
    sandbox.mark_activity("jo.buyer@example.com", kind, bounce_reason="Mailbox does not exist")
    assert _within(3, lambda: _delivery(api, "order-77")["status"] == status)
    if kind == "bounce":
        assert _delivery(api, "order-77")["bounceReason"] == "Mailbox does not exist"
    assert _within(1, lambda: [e for e in events if e.get("detail-type") == detail_type])
    time.sleep(2 * PERIOD)  # more runs read the same row again
    mine = [e for e in events if e.get("detail-type") == detail_type]
    assert len(mine) == 1
    assert mine[0]["detail"]["reference"] == "order-77" and mine[0]["detail"]["status"] == status
    assert "jo.buyer@example.com" not in str(mine[0])
