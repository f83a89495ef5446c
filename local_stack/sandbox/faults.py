"""Fault injection: queued per route, each taken by one request, each counted.

Before acting (nothing is recorded): "429", "500", "502", "503", "504" answer that status; "drop" closes the
connection without an answer. "revoke_token" revokes every token, then serves the request (which then fails 401).

Acting, then failing (the send, resend, SMS, import or contact change IS recorded): "500_after", "502_after",
"503_after", "504_after" answer that status; "drop_after" closes the connection; "slow_after" answers only after
`delay` seconds (the sandbox's `slow_after_seconds` when no delay is given: past the client's read timeout).
"slow" also acts first and then answers after `delay` (it is "slow_after" with an explicit delay).

Random faults (`FaultQueues.at_random`) strike a share of the requests no queued fault takes, reproducibly.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from dataclasses import dataclass

from local_stack.sandbox.wire import Reply, error_reply

FAULT_ROUTES = ("token", "send", "resend", "activity", "data", "contacts", "privacy", "sms", "*")
STATUS_FAULTS = ("429", "500", "502", "503", "504")
AFTER_STATUS_FAULTS = ("500_after", "502_after", "503_after", "504_after")
FAULT_KINDS = (*STATUS_FAULTS, "slow", "drop", "revoke_token", *AFTER_STATUS_FAULTS, "slow_after", "drop_after")

_MESSAGES = {
    429: ("ERROR_TOO_MANY_REQUESTS", "Too many requests."),
    500: ("ERROR_UNHANDLED_EXCEPTION", "An unhandled exception occurred."),
    502: ("ERROR_BAD_GATEWAY", "The gateway received an invalid response."),
    503: ("ERROR_SERVICE_UNAVAILABLE", "The service is unavailable."),
    504: ("ERROR_GATEWAY_TIMEOUT", "The gateway timed out."),
}


@dataclass
class Fault:
    seq: int
    kind: str
    delay: float
    retry_after: int | None

    @property
    def acts_first(self) -> bool:
        """Whether the request is served (and recorded) before the fault strikes."""
        return self.kind not in STATUS_FAULTS and self.kind != "drop"

    def reply(self) -> Reply:
        """The status answer of a "4xx"/"5xx" or "5xx_after" fault."""
        status = int(self.kind.split("_", 1)[0])
        code, message = _MESSAGES[status]
        headers = [] if self.retry_after is None else [("Retry-After", str(self.retry_after))]
        return error_reply(status, code, message, headers)


def _check(route: str, fault: str, times: int, delay: float, retry_after: int | None) -> None:
    if route not in FAULT_ROUTES:
        raise ValueError(f"route must be one of {FAULT_ROUTES}, not {route!r}")
    if fault not in FAULT_KINDS:
        raise ValueError(f"fault must be one of {FAULT_KINDS}, not {fault!r}")
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError(f"times must be a positive integer, not {times!r}")
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
        raise ValueError(f"delay must be a non-negative number of seconds, not {delay!r}")
    if retry_after is not None and (
        isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0
    ):
        raise ValueError(f"retry_after must be a non-negative integer or None, not {retry_after!r}")


class FaultQueues:
    """The queued faults of every route, and how many of each kind struck each route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {route: deque() for route in FAULT_ROUTES}
        self._seq = 0
        self.struck: dict[str, dict[str, int]] = {}  # route -> kind -> count
        self._random: tuple[float, tuple[str, ...], float, random.Random] | None = None

    def at_random(
        self, rate: float, kinds: tuple[str, ...] = FAULT_KINDS, *, seed: int = 0, delay: float = 0.0
    ) -> None:
        """Fail this share of the requests no queued fault takes, with a kind drawn from `kinds`, reproducibly
        from `seed`; `delay` is what a "slow" or "slow_after" fault waits. rate 0 stops it."""
        kinds = tuple(kinds)
        unknown = sorted(set(kinds) - set(FAULT_KINDS))
        if unknown or not kinds or isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"rate must be within [0, 1] and kinds among {FAULT_KINDS}, not {rate!r}, {kinds!r}")
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError(f"delay must be a non-negative number of seconds, not {delay!r}")
        with self._lock:
            self._random = (float(rate), kinds, float(delay), random.Random(seed)) if rate else None

    def add(self, route: str, fault: str, times: int = 1, delay: float = 0.0, retry_after: int | None = None) -> None:
        fault = str(fault)
        _check(route, fault, times, delay, retry_after)
        with self._lock:
            for _ in range(times):
                self._seq += 1
                self._queues[route].append(Fault(self._seq, fault, float(delay), retry_after))

    def take(self, route: str) -> Fault | None:
        """The oldest fault queued for `route` or for "*", counted against `route`; None when there is none."""
        with self._lock:
            queues = [queue for queue in (self._queues.get(route), self._queues["*"]) if queue]
            if queues:
                fault = min(queues, key=lambda queue: queue[0].seq).popleft()
            elif self._random is None:
                return None
            else:
                rate, kinds, delay, draw = self._random
                if draw.random() >= rate:
                    return None
                kind = draw.choice(kinds)
                self._seq += 1
                fault = Fault(self._seq, kind, delay if kind in ("slow", "slow_after") else 0.0, None)
            by_kind = self.struck.setdefault(route, {})
            by_kind[fault.kind] = by_kind.get(fault.kind, 0) + 1
            return fault

    def pending(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._queues.values())

    def counts(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {route: dict(kinds) for route, kinds in self.struck.items()}

    def by_kind(self) -> dict[str, int]:
        """How many faults of each kind struck, over every route (every kind listed)."""
        with self._lock:
            totals = dict.fromkeys(FAULT_KINDS, 0)
            for kinds in self.struck.values():
                for kind, count in kinds.items():
                    totals[kind] += count
            return totals
