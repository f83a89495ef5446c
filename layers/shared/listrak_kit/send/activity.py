"""Listrak's Activity as a witness: what it says of one send, and what it has been seen to do (its lag, its dates).

It may confirm a send; it never refutes one on its own. Its silence means "not sent" only when it answered for the
whole span, the wait is past the longest lag it has been seen to take (four times over), and no other send recorded here
could be the row (see listrak_kit.core.activity_match and activity_model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from listrak_kit.clock import Clock, to_iso
from listrak_kit.core.activity_match import KnownAttempt, Verdict, attempts_of, judge, rows_from
from listrak_kit.core.activity_model import MAX_ZONE_SECONDS, ActivityModel, observe
from listrak_kit.core.send_record import SendRecord
from listrak_kit.listrak.email_api import EmailApi
from listrak_kit.masking import email_fingerprint
from listrak_kit.observability import logger

PROBE_EVERY_SECONDS = 60  # how often one container offers an accepted send as the lag probe
PROBE_GIVE_UP_SECONDS = 24 * 3600  # a probe unseen this long is recorded as that lag: Activity does not show sends


class ActivityRecords(Protocol):
    def by_recipient(
        self, list_id: int, transactional_message_id: int, fingerprint: str, since: str
    ) -> list[SendRecord]: ...

    def activity_model(self) -> dict[str, Any] | None: ...

    def save_activity_model(self, model: dict[str, Any]) -> None: ...

    def open_probe(self, probe: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class Look:
    verdict: Verdict
    model: ActivityModel
    attempt: KnownAttempt | None  # the attempt looked for


class ActivityWitness:
    def __init__(self, *, email_api: EmailApi, records: ActivityRecords, clock: Clock, page_size: int):
        self._email_api = email_api
        self._records = records
        self._clock = clock
        self._page_size = page_size
        self._next_probe = 0.0

    def model(self, now: float) -> ActivityModel:
        return ActivityModel.of(self._records.activity_model(), now)

    def look(self, record: SendRecord, email_address: str, *, span: float, now: float) -> Look:
        """What Activity says of the send's latest attempt whose outcome is unknown."""
        model = self.model(now)
        before, after = model.before_seconds(), model.after_seconds(span)
        ours = [a for a in attempts_of(record, after, before) if a.sent is None][-1:]
        if not ours:
            return Look(Verdict("absent"), model, None)
        since = to_iso(ours[0].start - after)
        others = [
            attempt
            for other in self._records.by_recipient(
                record.listId, record.transactionalMessageId, record.emailFingerprint, since
            )
            if other.reference != record.reference
            for attempt in attempts_of(other, after, before)
        ]
        everyone = [*ours, *others]
        # A zone-less date whose zone is not known yet may be 14 hours either way.
        widen = MAX_ZONE_SECONDS if model.zone_shift is None else abs(model.zone_shift)
        raw = self._email_api.activity(
            list_id=record.listId,
            transactional_message_id=record.transactionalMessageId,
            start_date=to_iso(min(a.start for a in everyone) - widen),
            end_date=to_iso(min(now, max(a.end for a in everyone)) + widen),
            page_size=self._page_size,
            email_address=email_address,
        )
        rows = rows_from(raw, record.emailFingerprint, model)
        verdict = judge(ours, others, rows, complete_before=now)[ours[0].n]
        return Look(verdict, model, ours[0])

    # -- the lag probe ---------------------------------------------------------------------------------

    def offer_probe(self, record: SendRecord, email_address: str, now: float) -> None:
        """An accepted send may become the probe that measures Activity's lag (one open at a time)."""
        if now < self._next_probe:
            return
        self._next_probe = now + PROBE_EVERY_SECONDS
        try:
            self._records.open_probe(
                {
                    "reference": record.reference,
                    "listId": record.listId,
                    "transactionalMessageId": record.transactionalMessageId,
                    "emailAddress": email_address,  # kept only while the probe is open, like a pending payload
                    "start": now,
                }
            )
        except Exception:
            logger.exception("activity probe not opened")

    def check_probe(self, now: float, span: float) -> None:
        """Looks for the probe's row; found (alone), its lag, date offset and zone are recorded."""
        item = self._records.activity_model()
        probe = (item or {}).get("probe")
        if not isinstance(probe, dict):
            return
        start, address = float(probe["start"]), str(probe["emailAddress"])
        list_id, message_id = int(probe["listId"]), int(probe["transactionalMessageId"])
        fingerprint = email_fingerprint(address)
        unknown_zone = ActivityModel()  # the probe reads dates as they are, zone unknown
        raw = self._email_api.activity(
            list_id=list_id,
            transactional_message_id=message_id,
            start_date=to_iso(start - MAX_ZONE_SECONDS - 60),
            end_date=to_iso(now + MAX_ZONE_SECONDS),
            page_size=self._page_size,
            email_address=address,
        )
        rows = rows_from(raw, fingerprint, unknown_zone)
        near = [row for row in rows if row.lo - 60 <= start + span and start - span <= row.hi + 60]
        others = self._records.by_recipient(list_id, message_id, fingerprint, to_iso(start - MAX_ZONE_SECONDS))
        model = dict(item or {})
        model.pop("probe", None)
        if len(near) == 1 and all(r.reference == probe["reference"] for r in others):
            (row,) = near
            model = observe(model, lag=now - start, offset_as_read=row.at - start, naive=row.naive)
            logger.info("activity lag measured", extra={"lag": now - start, "offset": row.at - start})
        elif near:
            logger.info("activity probe abandoned: another send could be its row")
        elif now - start >= PROBE_GIVE_UP_SECONDS:
            model = observe(model, lag=now - start, offset_as_read=0.0, naive=False)
            logger.error("activity never showed the probe send", extra={"age": now - start})
        else:
            return  # not shown yet: its age counts in the wait
        self._records.save_activity_model(model)
