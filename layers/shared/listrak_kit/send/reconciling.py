"""Reconciliation: a send left `sending`, `pending` or `unconfirmed` is settled from Listrak's Activity, never
sent again without a look first (see listrak_kit.send.activity for when Activity is believed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from listrak_kit.clock import to_iso
from listrak_kit.core.send_record import UNSETTLED, Attempt, SendRecord
from listrak_kit.listrak.errors import ListrakRejected, ListrakUnauthorized
from listrak_kit.observability import logger
from listrak_kit.send.activity import Look

if TYPE_CHECKING:
    from collections.abc import Callable

    from listrak_kit.clock import Clock
    from listrak_kit.send.activity import ActivityWitness
    from listrak_kit.send.ports import SendPolicy, SendRecords

# What an Email integration refused Activity lacks (Listrak's Activity route needs the List, Message and Report
# scopes: the integration's Reporting area).
ACTIVITY_PERMISSION = (
    "the Email integration lacks Listrak's Reporting permission (the Report scope; Activity needs List, Message "
    "and Report): tick Reporting on the integration in Listrak's Integration Manager"
)
# A send waits this long at most, pending, for Activity to show it; a longer wait is shown and alarmed instead.
LONGEST_SILENT_WAIT_SECONDS = 6 * 3600
# An unconfirmed send is looked at again this often: later Activity may settle it (an operator may first).
UNCONFIRMED_RECHECK_SECONDS = 3600


@dataclass
class SweepReport:
    checked: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        self.checked += 1
        self.counts[status] = self.counts.get(status, 0) + 1


class Reconciling:
    """SendService's reconciliation half."""

    if TYPE_CHECKING:
        _records: SendRecords
        _clock: Clock
        _witness: ActivityWitness
        _policy: SendPolicy
        _count: Callable[[str], None]

        def _deliver(self, record: SendRecord, n: int) -> SendRecord: ...

        def _due_at(self, now: float, *, invocation: float | None = None) -> int: ...

        def _attempt_seconds(self) -> float: ...

    def sweep(self, *, limit: int = 100) -> SweepReport:
        """Reconciles every send whose time has come (the scheduled reconciler runs this)."""
        report = SweepReport()
        try:
            self._witness.check_probe(self._clock.now(), self._attempt_seconds())
        except Exception:
            logger.exception("activity probe not checked")
        for reference in self._records.due(int(self._clock.now()), limit):
            try:
                record = self.reconcile(reference)
            except Exception:
                logger.exception("reconcile failed", extra={"reference": reference})
                report.add("error")
                continue
            report.add(record.status if record else "gone")
        return report

    def reconcile(self, reference: str) -> SendRecord | None:
        """Settles a `sending` or `pending` send whose time has come, from Listrak's Activity.

        Found there: `sent`. Not found: one more attempt (bounded by max_attempts, then `failed`). Activity
        failing: still pending, tried again later; never a send without a look first.
        """
        record = self._records.get(reference)
        now = self._clock.now()
        if record is None or record.status not in UNSETTLED or record.payload is None:
            return record
        if record.reconcileAt is not None and now < record.reconcileAt:
            return record
        address = str(record.payload["emailAddress"])
        lease = self._due_at(now)
        if not self._records.claim(reference, record.reconcileAt, lease):
            return self._records.get(reference)  # another reconciler has it
        record = record.model_copy(update={"reconcileAt": lease})
        token, last = record.attemptToken or "", record.attempts[-1].n if record.attempts else 1
        if record.sendAgain:  # an operator's word: it never went
            return self._send_again(record, last, now)
        try:
            look = self._witness.look(record, address, span=self._attempt_seconds(), now=now)
        except (ListrakUnauthorized, ListrakRejected) as exc:
            if exc.status not in (401, 403):
                raise
            self._count("ActivityRefused")
            logger.error("listrak refused activity", extra={"status": exc.status, "missing": ACTIVITY_PERMISSION})
            return self._unconfirmed(
                record, last, now, f"Listrak refused its Activity ({exc.status}): {ACTIVITY_PERMISSION}"
            )
        except Exception:
            self._count("SendReconcileActivityFailed")
            logger.exception("activity lookup failed; the send stays pending", extra={"reference": reference})
            return record.model_copy(update={"status": "pending"})
        verdict = look.verdict
        if verdict.kind == "sent":
            key = verdict.resend_key
            self._records.settle_sent(reference, token, last, resend_key=key, outcome="", resolved_by="activity")
            self._count("SendReconciledFromActivity")
            logger.info("send found in activity", extra={"reference": reference, "attempt": last})
            return record.model_copy(update={"status": "sent", "resendKey": key, "payload": None})
        doubt = self._doubt(record, look, now)
        if isinstance(doubt, int):  # not yet: Activity has been seen to show sends this late
            self._records.claim(reference, lease, doubt)
            return record.model_copy(update={"reconcileAt": doubt})
        if doubt is not None and not record.sendAgainIfUnsure:
            return self._unconfirmed(record, last, now, doubt)
        if len(record.attempts) >= self._policy.max_attempts:
            failure = f"Listrak never showed this send after {len(record.attempts)} attempt(s)"
            self._records.settle_failed(reference, token, failure=failure, n=last)
            self._count("SendFailed")
            logger.error("send failed", extra={"reference": reference, "attempts": len(record.attempts)})
            return record.model_copy(update={"status": "failed", "failure": failure})
        return self._send_again(record, last, now)

    def _send_again(self, record: SendRecord, last: int, now: float) -> SendRecord:
        reference, token = record.reference, record.attemptToken or ""
        attempt = Attempt(n=last + 1, startedAt=to_iso(now))
        new_token = uuid.uuid4().hex
        self._records.new_attempt(
            reference, token, new_token=new_token, attempt=attempt, previous=last, sent_at=attempt.startedAt
        )
        self._count("SendReconcileResent")
        record = record.model_copy(
            update={"attemptToken": new_token, "attempts": [*record.attempts, attempt], "sentAt": attempt.startedAt}
        )
        return self._deliver(record, attempt.n)

    def _reconcile_quietly(self, record: SendRecord) -> SendRecord:
        """A caller's repeat reconciles a due send; if that fails, the answer is still what is known: pending."""
        try:
            return self.reconcile(record.reference) or record
        except Exception:
            logger.exception("reconcile on repeat failed", extra={"reference": record.reference})
            return record.model_copy(update={"status": "pending"})

    def _doubt(self, record: SendRecord, look: Look, now: float) -> str | int | None:
        """Why Activity's silence cannot be believed yet: a reason (the send becomes unconfirmed), a time to look
        again (the wait Activity has been seen to need is not over), or None: it is believed."""
        if look.verdict.kind == "ambiguous":
            return "a row in Listrak's Activity could be this send or another of the same message to the same address"
        if not look.model.measured:
            return (
                "Listrak's Activity has not yet been seen to show any send here (its lag is being measured), "
                "so its silence proves nothing"
            )
        wait = look.model.wait_seconds(self._policy.reconcile_after_seconds)
        started = look.attempt.started if look.attempt else now
        if now >= started + wait:
            return None
        if wait > LONGEST_SILENT_WAIT_SECONDS and record.status != "unconfirmed":
            return f"Listrak's Activity has been seen to take up to {int(wait / 2)} s to show a send"
        return int(started + wait) + 1

    def _unconfirmed(self, record: SendRecord, n: int, now: float, reason: str) -> SendRecord:
        """Neither sent nor absent can be known: shown, alarmed, looked at again later, never guessed."""
        due = int(now + UNCONFIRMED_RECHECK_SECONDS)
        self._records.mark_unconfirmed(record.reference, record.attemptToken or "", n, reason=reason, reconcile_at=due)
        if record.status != "unconfirmed":
            self._count("SendUnconfirmed")
        logger.error("send unconfirmed", extra={"reference": record.reference, "reason": reason})
        return record.model_copy(update={"status": "unconfirmed", "failure": reason, "reconcileAt": due})
