"""Which messages the poller reads: every catalog message, and every (listId, transactionalMessageId) sent to in
the last 30 days, noted when Listrak accepts a send (once an hour per container and message, not per send)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from listrak_kit.core.send_record import SendRecord
from listrak_kit.observability import logger

NOTE_EVERY_SECONDS = 3600


class MessageNotes(Protocol):
    def note_message(self, list_id: int, transactional_message_id: int, now: float) -> None: ...


class MessageRegistry:
    def __init__(self, notes: MessageNotes, count: Callable[[str, str], None], now: Callable[[], float] = time.time):
        self._notes = notes
        self._count = count
        self._now = now
        self._noted: dict[tuple[int, int], float] = {}

    def accepted(self, record: SendRecord) -> None:
        """Never fails the send: a note not written is written by the next send of the message."""
        pair = (record.listId, record.transactionalMessageId)
        self._count("DeliverySent", record.message or f"{pair[0]}/{pair[1]}")
        now = self._now()
        if now - self._noted.get(pair, float("-inf")) < NOTE_EVERY_SECONDS:
            return
        try:
            self._notes.note_message(*pair, now)
            self._noted[pair] = now
        except Exception:
            logger.exception("delivery: the message was not noted for the poller")
