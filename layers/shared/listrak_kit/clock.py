"""Time, injectable so tests can move it (token expiry, the 30-day resend window)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""


class SystemClock:
    def now(self) -> float:
        return time.time()


def to_iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def seconds_left(context: LambdaContext) -> Callable[[], float]:
    """The invocation's time left, in seconds: what services take instead of the Lambda context itself."""
    return lambda: context.get_remaining_time_in_millis() / 1000
