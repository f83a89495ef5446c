"""The delivery poller: reads Listrak's Activity by activity date for every message used lately, matches each row
of recipient activity to its send, records what it shows on the send and tells the store once per change.

Each message's Activity is read in overlapping windows, [watermark - overlap, now], page by page; the watermark
moves only when a window has been read to its end, and a window cut short (the run's call budget spent) is taken up
again at its saved cursor. Anything Listrak or the bus refuses stops the run with the watermark where it was, so the
rows are read again: reading a row twice changes nothing (what is seen is only added to, and an event is put until
the send records that it was).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from listrak_kit.clock import Clock, from_iso, to_iso
from listrak_kit.core.activity_model import ActivityModel
from listrak_kit.core.delivery import DETAIL_TYPES, PRECEDENCE, delivery_of, kinds_in
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, SendRecord
from listrak_kit.delivery.matching import earliest_send, owners
from listrak_kit.errors import BusUnavailable
from listrak_kit.listrak.email_api import EmailApi
from listrak_kit.listrak.errors import ListrakError, ListrakNotFound, ListrakRejected, ListrakUnauthorized
from listrak_kit.masking import email_fingerprint, mask_email
from listrak_kit.observability import logger

EVENT_SOURCE = "listrak-sam.delivery"
METRICS = {"bounced": "DeliveryBounced", "complained": "DeliveryComplained", "unsubscribed": "DeliveryUnsubscribed"}
MESSAGE_GONE_RECHECK_SECONDS = 86400  # a message Listrak no longer knows is asked for again once a day
# Rows this container has taken to their end (recorded and told): the overlap reads each one several times, and
# what was seen only grows, so a row showing nothing new is skipped without a lookup.
DONE_KEPT = 50_000


class DeliveryRecords(Protocol):
    def by_recipient(
        self, list_id: int, transactional_message_id: int, fingerprint: str, since: str
    ) -> list[SendRecord]: ...

    def get(self, reference: str) -> SendRecord | None: ...

    def activity_model(self) -> dict[str, Any] | None: ...

    def messages(self, since: float) -> list[tuple[int, int]]: ...

    def poll_state(self, list_id: int, transactional_message_id: int) -> dict[str, Any]: ...

    def save_poll_state(self, list_id: int, transactional_message_id: int, state: dict[str, Any]) -> None: ...

    def add_delivery(self, reference: str, seen: dict[str, str], bounce_reason: str | None) -> SendRecord | None: ...

    def mark_notified(self, reference: str, kind: str, at: str) -> None: ...


class DeliveryBus(Protocol):
    def put(self, *, source: str, detail_type: str, detail: str) -> str: ...


@dataclass(frozen=True)
class PollPolicy:
    max_calls: int = 20  # Activity calls per run, all messages together
    overlap_seconds: float = 900.0  # each window starts this long before the last one ended (at least)
    first_window_seconds: float = 86400.0  # how far back a message never read before is read
    page_size: int = 1000
    span_seconds: float = 600.0  # how long after a send's start its row may be dated


@dataclass
class PollReport:
    messages: int = 0
    calls: int = 0
    rows: int = 0
    matched: int = 0
    unmatched: int = 0
    changes: int = 0
    events: int = 0
    stopped: str | None = None  # why the run ended early: budget, refused, unavailable, bus
    counts: dict[str, int] = field(default_factory=dict)


class _BudgetSpent(Exception):
    pass


class DeliveryPoller:
    def __init__(
        self,
        *,
        email_api: EmailApi,
        records: DeliveryRecords,
        bus: DeliveryBus,
        names: dict[tuple[int, int], str],
        clock: Clock,
        count: Callable[[str, str], None],
        policy: PollPolicy | None = None,
    ):
        self._api = email_api
        self._records = records
        self._bus = bus
        self._names = names  # the catalog's messages, by (listId, transactionalMessageId): always read
        self._clock = clock
        self._count = count  # (metric, message) -> one more
        self._policy = policy or PollPolicy()
        self._done: dict[str, frozenset[str]] = {}  # resendKey -> what has been recorded and told of it

    def run(self) -> PollReport:
        report = PollReport()
        now = self._clock.now()
        pairs = set(self._names) | set(self._records.messages(now - RESEND_WINDOW_SECONDS))
        states = {pair: self._records.poll_state(*pair) for pair in pairs}
        model = ActivityModel.of(self._records.activity_model(), now)
        # The message read longest ago first, so a spent budget never starves one message.
        for pair in sorted(pairs, key=lambda p: (float(states[p].get("watermark", 0)), p)):
            state = states[pair]
            if now - float(state.get("gone", 0)) < MESSAGE_GONE_RECHECK_SECONDS:
                continue
            report.messages += 1
            try:
                self._poll(pair, state, now, model, report)
            except _BudgetSpent:
                report.stopped = "budget"
                break
            except ListrakNotFound:
                # Deleted in Listrak: what was recorded stays; asked again tomorrow.
                self._records.save_poll_state(*pair, {**state, "gone": now})
                self._count("DeliveryMessageGone", self._name(pair))
                logger.warning("delivery: Listrak no longer knows the message", extra={"of": self._name(pair)})
            except (ListrakUnauthorized, ListrakRejected) as exc:
                if isinstance(exc, ListrakUnauthorized) or exc.status in (401, 403):
                    report.stopped = "refused"
                    self._count("ActivityRefused", self._name(pair))  # the Activity refused alarm
                    logger.error(
                        "delivery: Activity refused; the Email integration needs Listrak's Reporting permission",
                        extra={"status": exc.status},
                    )
                    break
                if not state.get("windowEnd"):
                    raise
                # A saved cursor Listrak no longer takes: the window is read again from its start next run.
                self._records.save_poll_state(*pair, _without_window(state))
                self._count("DeliveryCursorRefused", self._name(pair))
                logger.warning("delivery: a saved cursor was refused", extra={"status": exc.status})
            except ListrakError as exc:
                report.stopped = "unavailable"
                self._count("DeliveryActivityFailed", self._name(pair))
                logger.warning("delivery: Activity failed; read again next run", extra={"status": exc.status})
                break
            except BusUnavailable:
                report.stopped = "bus"
                self._count("DeliveryEventsFailed", self._name(pair))
                logger.exception("delivery: the bus refused an event; the window is read again next run")
                break
        logger.info("delivery poll", extra={k: v for k, v in vars(report).items() if k != "counts"})
        return report

    def _name(self, pair: tuple[int, int]) -> str:
        return self._names.get(pair) or f"{pair[0]}/{pair[1]}"

    def _poll(
        self, pair: tuple[int, int], state: dict[str, Any], now: float, model: ActivityModel, report: PollReport
    ) -> None:
        policy = self._policy
        if state.get("windowEnd"):  # a window cut short: take it up where it stopped
            start, end, cursor = str(state["windowStart"]), str(state["windowEnd"]), str(state["cursor"])
        else:
            # Rows show late (Activity's lag) and dated by Listrak's clock, maybe in a zone of its own.
            overlap = max(policy.overlap_seconds, model.wait_seconds(0) + model.before_seconds())
            overlap += abs(model.zone_shift or 0)
            watermark = state.get("watermark")
            start_at = float(watermark) - overlap if watermark else now - policy.first_window_seconds
            start, end, cursor = to_iso(start_at), to_iso(now + abs(model.zone_shift or 0)), "Start"
        while True:
            if report.calls >= policy.max_calls:
                self._records.save_poll_state(
                    *pair, {**state, "windowStart": start, "windowEnd": end, "cursor": cursor}
                )
                raise _BudgetSpent
            report.calls += 1
            rows, following = self._api.activity_page(
                list_id=pair[0],
                transactional_message_id=pair[1],
                date_type="Activity",
                start_date=start,
                end_date=end,
                cursor=cursor,
                page_size=policy.page_size,
            )
            self._rows(pair, rows, model, report)
            if following is None:
                break
            cursor = following
        done = {k: v for k, v in _without_window(state).items() if k != "gone"}
        self._records.save_poll_state(*pair, {**done, "watermark": from_iso(end) - abs(model.zone_shift or 0)})

    def _rows(
        self, pair: tuple[int, int], rows: list[dict[str, Any]], model: ActivityModel, report: PollReport
    ) -> None:
        by_recipient: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in _one_per_email(rows):
            report.rows += 1
            address = row.get("emailAddress")
            kinds = kinds_in(row)
            if not kinds:
                continue  # nothing done with it yet
            if kinds <= self._done.get(str(row.get("resendKey")), frozenset()):
                report.matched += 1
                continue
            if not isinstance(address, str) or not row.get("resendKey") or not isinstance(row.get("sendDate"), str):
                self._unmatched(pair, report, "a row without an address, a resendKey or a send date")
                continue
            by_recipient[email_fingerprint(address)].append(row)
        report.rows += len(rows) - len(_one_per_email(rows))
        for fingerprint, group in by_recipient.items():
            earliest = earliest_send(group, fingerprint, model)
            records = []
            if earliest is not None:
                since = to_iso(earliest - model.after_seconds(self._policy.span_seconds) - model.before_seconds())
                records = self._records.by_recipient(pair[0], pair[1], fingerprint, since)
            found = owners(group, fingerprint, records, model, span=self._policy.span_seconds)
            for row in group:
                record = found.get(str(row["resendKey"]))
                if record is None:
                    self._unmatched(pair, report, "no send here is its sole candidate", row)
                    continue
                report.matched += 1
                self._apply(pair, record, row, report)

    def _unmatched(
        self, pair: tuple[int, int], report: PollReport, why: str, row: dict[str, Any] | None = None
    ) -> None:
        report.unmatched += 1
        self._count("DeliveryRowsUnmatched", self._name(pair))
        address = (row or {}).get("emailAddress")
        masked = mask_email(address) if isinstance(address, str) else None
        logger.info("delivery: row left unmatched", extra={"why": why, "to": masked, "of": self._name(pair)})

    def _apply(self, pair: tuple[int, int], found: SendRecord, row: dict[str, Any], report: PollReport) -> None:
        # The index holds what matching needs; what was seen and told is read from the send itself.
        record = self._records.get(found.reference)
        if record is None:
            return  # expired since
        at = to_iso(self._clock.now())
        kinds = kinds_in(row)
        reason = row.get("bounceReason") if "bounced" in kinds and isinstance(row.get("bounceReason"), str) else None
        if not set(kinds) <= set(record.deliverySeen) or (reason and not record.bounceReason):
            updated = self._records.add_delivery(record.reference, dict.fromkeys(kinds, at), reason)
            if updated is None:
                return  # the send's record expired meanwhile
            report.changes += 1
            record = updated
        # Put until recorded as put: a run that stopped between the two tells the store on the next one.
        for kind in [k for k in PRECEDENCE if k in record.deliverySeen and k not in record.deliveryNotified]:
            delivery = delivery_of(
                record.deliverySeen, record.bounceReason, sent=record.status == "sent", sent_at=record.sentAt
            )
            detail = {
                "reference": record.reference,
                "message": record.message,
                "listId": record.listId,
                "transactionalMessageId": record.transactionalMessageId,
                "status": delivery.status,
                "bounceReason": delivery.bounceReason,
                "seenAt": record.deliverySeen[kind],
            }
            self._bus.put(source=EVENT_SOURCE, detail_type=DETAIL_TYPES[kind], detail=json.dumps(detail))
            self._records.mark_notified(record.reference, kind, at)
            report.events += 1
            self._count(METRICS.get(kind, "Delivery" + kind.capitalize()), self._name(pair))
        key = str(row["resendKey"])
        self._done[key] = self._done.pop(key, frozenset()) | frozenset(record.deliverySeen)
        if len(self._done) > DONE_KEPT:
            del self._done[next(iter(self._done))]


def _without_window(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in ("windowStart", "windowEnd", "cursor")}


def _one_per_email(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per resendKey (one email): a row given twice is one, with every flag either copy shows."""
    merged: dict[str, dict[str, Any]] = {}
    kept: list[dict[str, Any]] = []
    for row in rows:
        key = row.get("resendKey")
        if not key:
            kept.append(row)
        elif key in merged:
            first = merged[key]
            first.update({k: True for k, v in row.items() if v is True})
            first["bounceReason"] = first.get("bounceReason") or row.get("bounceReason")
        else:
            merged[key] = dict(row)
            kept.append(merged[key])
    return kept
