"""The fault tests' movable clock: shared by the functions and the sandbox, so windows pass without sleeping."""

from __future__ import annotations

import time

import pytest

from listrak_kit.clock import SystemClock

RECONCILE_AFTER = 30
# A due send is picked up once the reconciler's own invocation (120 s) and the reconcile delay have passed.
ROUND = 120 + RECONCILE_AFTER + 2


class MovableClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(stack, sandbox, monkeypatch):
    moving = MovableClock()
    monkeypatch.setattr(SystemClock, "now", lambda _self: moving.now())
    sandbox._clock = moving.now
    stack.env_overrides.update({"SEND_RECONCILE_AFTER_SECONDS": str(RECONCILE_AFTER), "LISTRAK_READ_TIMEOUT": "0.3"})
    yield moving
    sandbox._clock = time.time
    sandbox.activity_delay_draw, sandbox.send_date_lag_seconds = None, 0.0
    sandbox.clock_offset_seconds, sandbox.send_date_zone = 0.0, None
    sandbox.activity_refused_status = None


def measure_activity(stack, lag: float = 60.0, offset: float = 0.0) -> None:
    """An account whose Activity has been seen to show a send (what the lag probe records)."""
    from listrak_kit.aws.send_records import DynamoSendRecords

    DynamoSendRecords(stack.refs["Table"]).save_activity_model(
        {"observations": [{"lag": lag, "offset": offset, "naive": False}]}
    )


@pytest.fixture
def measured(stack, clock):
    measure_activity(stack)
    return clock
