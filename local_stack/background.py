"""What AWS does between requests, for `make api`: the SQS event sources poll their queues, the schedules fire.

Each queue a function polls (the import queue: parts, and contacts imports being polled) is fed to it as the
deployed event source mapping would. Schedules with a rate (`rate(1 minute)`) fire at that rate; with
LOCAL_SCHEDULE_SECONDS=N every schedule (cron ones too, such as the nightly import scan) fires every N seconds.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_stack.cli import UsageError

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

POLL_SECONDS = 1.0  # how soon queued work is picked up
_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass
class Schedule:
    function: str
    event: str
    every: float  # seconds
    due: float = 0.0  # monotonic time of the next firing


def schedule_seconds_from_env() -> float | None:
    """LOCAL_SCHEDULE_SECONDS: fire every schedule this often (unset: each rate schedule at its own rate)."""
    value = os.environ.get("LOCAL_SCHEDULE_SECONDS", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"LOCAL_SCHEDULE_SECONDS={value!r}: give a number of seconds") from None
    if seconds <= 0:
        raise UsageError(f"LOCAL_SCHEDULE_SECONDS={value!r}: give a number of seconds above 0")
    return seconds


def schedules(stack: LocalStack, every: float | None) -> list[Schedule]:
    """The template's Schedule and ScheduleV2 events, with how often each fires locally."""
    found = []
    for logical_id, spec in stack.functions.items():
        for name, event in spec.events.items():
            if event.get("Type") not in ("Schedule", "ScheduleV2"):
                continue
            expression = str(stack.resources.resolve(event.get("Properties", {}).get("ScheduleExpression", "")))
            rate = _RATE.fullmatch(expression.strip())
            seconds = every or (int(rate[1]) * _UNIT_SECONDS[rate[2].rstrip("s")] if rate else None)
            if seconds:
                found.append(Schedule(logical_id, name, seconds, due=time.monotonic() + seconds))
    return found


def polled_queues(stack: LocalStack) -> list[str]:
    """Every queue a function's SQS event polls."""
    queues = []
    for spec in stack.functions.values():
        for event in spec.events.values():
            queue = event.get("Properties", {}).get("Queue")
            if event.get("Type") == "SQS" and isinstance(queue, dict):
                target = queue.get("Fn::GetAtt") or [queue.get("Ref")]
                queues.append(str(target[0] if isinstance(target, list) else target.split(".")[0]))
    return queues


class Background:
    """A daemon thread that polls the queues and fires the schedules until stopped."""

    def __init__(
        self,
        stack: LocalStack,
        *,
        every: float | None = None,
        poll_seconds: float = POLL_SECONDS,
        say: Callable[[str], Any] = lambda line: sys.stderr.write(line + "\n"),
    ) -> None:
        self.stack = stack
        self.schedules = schedules(stack, every)
        self.queues = polled_queues(stack)
        self.poll_seconds = poll_seconds
        self.say = say
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-stack-background", daemon=True)

    def describe(self) -> str:
        """What it does, in one line for the console."""
        fired = ", ".join(f"{s.function} every {s.every:g} s" for s in self.schedules) or "no schedule fires"
        queues = ", ".join(self.queues) or "no queue"
        return f"{queues} worked as messages arrive; {fired} (LOCAL_SCHEDULE_SECONDS=N: every schedule each N s)"

    def start(self) -> Background:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=30)

    def __enter__(self) -> Background:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 (the stack goes on serving; the next tick tries again)
                self.say(f"background: {type(exc).__name__}: {exc}")

    def tick(self) -> None:
        """One round: every due schedule fires, every polled queue is drained, bus events are delivered."""
        now = time.monotonic()
        for schedule in self.schedules:
            if now >= schedule.due:
                schedule.due = now + schedule.every
                outcome = self.stack.fire_schedule(schedule.function, schedule.event)
                if outcome.error is not None:
                    self.say(
                        f"{schedule.function} ({schedule.event}) failed: {type(outcome.error).__name__}: "
                        f"{outcome.error}"
                    )
        for queue in self.queues:
            batches = self.stack.drain(queue)
            if batches:
                self.say(f"  {queue}: {batches} batch(es) -> {self.stack.pollers.poller(queue)[0]}")
        for function, outcome in self.stack.deliver_events():
            what = outcome.result if outcome.error is None else f"{type(outcome.error).__name__}: {outcome.error}"
            self.say(f"  event -> {function}: {what}")
