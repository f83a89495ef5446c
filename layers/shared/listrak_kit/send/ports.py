"""What the send path needs from outside, as small interfaces: the record store, and the policy it runs under."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from listrak_kit.core.send_record import Attempt, SendRecord
from listrak_kit.send.activity import ActivityRecords


class SendRecords(ActivityRecords, Protocol):
    def begin(self, record: SendRecord) -> bool: ...

    def get(self, reference: str) -> SendRecord | None: ...

    def settle_sent(
        self, reference: str, token: str, n: int, *, resend_key: str | None, outcome: str, resolved_by: str
    ) -> None: ...

    def mark_pending(
        self, reference: str, token: str, n: int, *, outcome: str, detail: str, reconcile_at: int
    ) -> None: ...

    def settle_failed(
        self, reference: str, token: str, *, failure: str, n: int, outcome: str | None = None
    ) -> None: ...

    def release(self, reference: str, token: str) -> None: ...

    def claim(self, reference: str, reconcile_at: int | None, until: int) -> bool: ...

    def new_attempt(
        self, reference: str, token: str, *, new_token: str, attempt: Attempt, previous: int, sent_at: str
    ) -> None: ...

    def due(self, now: int, limit: int) -> list[str]: ...

    def mark_unconfirmed(self, reference: str, token: str, n: int, *, reason: str, reconcile_at: int) -> None: ...


@dataclass(frozen=True)
class SendPolicy:
    reconcile_after_seconds: float = 600.0  # how long Listrak's Activity is given to show a send
    max_attempts: int = 3
    activity_page_size: int = 1000
