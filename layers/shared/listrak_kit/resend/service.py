"""The resend path: check the 30-day window from the stored sentAt, find the resendKey, resend once per key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from listrak_kit.clock import Clock, SystemClock, from_iso, to_iso
from listrak_kit.core.activity_match import attempts_of, judge, rows_from
from listrak_kit.core.activity_model import MAX_ZONE_SECONDS, ActivityModel
from listrak_kit.core.delivery import delivery_of
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, ResendEntry, SendRecord
from listrak_kit.errors import Conflict, Gone, NotFound
from listrak_kit.idempotency import REPLAY_MARKER
from listrak_kit.listrak.email_api import EmailApi
from listrak_kit.listrak.errors import ListrakNotFound, ListrakOutcomeUnknown
from listrak_kit.masking import mask_email
from listrak_kit.observability import logger
from listrak_kit.resend.models import MessageView, PreparedResend, ResendByKeyBody, ResendResult
from listrak_kit.resend.redirect import Caller, OriginalSend, RedirectPolicy

# Activity rows are matched around the recorded send time: we record sentAt just before Listrak does.
ACTIVITY_BEFORE_SECONDS = 600
ACTIVITY_AFTER_SECONDS = 6 * 3600


class SendRecords(Protocol):
    def get(self, reference: str) -> SendRecord | None: ...

    def find_by_resend_key(self, resend_key: str) -> SendRecord | None: ...

    def by_recipient(
        self, list_id: int, transactional_message_id: int, fingerprint: str, since: str
    ) -> list[SendRecord]: ...

    def set_resend_key(self, reference: str, resend_key: str) -> None: ...

    def activity_model(self) -> dict[str, Any] | None: ...

    def add_resend(self, reference: str, entry: ResendEntry) -> int: ...


class ResendService:
    def __init__(
        self,
        *,
        email_api: EmailApi,
        records: SendRecords,
        once: Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]],
        redirects: RedirectPolicy,
        clock: Clock | None = None,
        activity_page_size: int = 1000,
    ):
        self._redirects = redirects
        self._email_api = email_api
        self._records = records
        self._clock = clock or SystemClock()
        self._page_size = activity_page_size
        self._resend_once = once(self._resend)

    def view(self, reference: str) -> MessageView:
        record = self._record(reference)
        closes_at = _window_closes_at(record)
        return MessageView(
            reference=record.reference,
            status=record.status,
            message=record.message,
            listId=record.listId,
            transactionalMessageId=record.transactionalMessageId,
            channel=record.channel,
            to=record.phoneMasked or "***" if record.channel == "sms" else record.emailMasked,
            sentAt=record.sentAt,
            resendableUntil=to_iso(closes_at),
            resendable=record.channel == "email" and self._clock.now() <= closes_at,
            hasResendKey=record.resendKey is not None,
            resendCount=record.resendCount,
            resends=record.resends,
            attempts=record.attempts,
            failure=record.failure,
            delivery=delivery_of(
                record.deliverySeen, record.bounceReason, sent=record.status == "sent", sent_at=record.sentAt
            ),
        )

    def resend(
        self, reference: str, *, email_address: str | None, idempotency_key: str | None, caller: Caller
    ) -> tuple[ResendResult, bool]:
        """Returns the result and whether it is a replay of an earlier identical request.

        `email_address` other than the original is a redirect: the policy decides whether `caller` may.
        """
        record = self._record(reference)
        self._check_sent(record)
        self._check_window(record)
        forward = self._redirects.forward_address(_original(record), email_address, caller)
        resend_key = record.resendKey or self._find_resend_key(record)
        return self._run(
            PreparedResend(
                idempotencyKey=idempotency_key,
                reference=record.reference,
                listId=record.listId,
                transactionalMessageId=record.transactionalMessageId,
                resendKey=resend_key,
                emailAddress=forward,
                credential=caller.credential,
                redirected=forward is not None,
            )
        )

    def resend_by_key(
        self, body: ResendByKeyBody, *, idempotency_key: str | None, caller: Caller
    ) -> tuple[ResendResult, bool]:
        record = self._records.find_by_resend_key(body.resendKey)
        if record is not None and (record.listId, record.transactionalMessageId) == (
            body.listId,
            body.transactionalMessageId,
        ):
            self._check_window(record)
        else:
            record = None  # a key from elsewhere: Listrak applies its own 30-day rule
        forward = self._redirects.forward_address(_original(record) if record else None, body.emailAddress, caller)
        return self._run(
            PreparedResend(
                idempotencyKey=idempotency_key,
                reference=record.reference if record else None,
                listId=body.listId,
                transactionalMessageId=body.transactionalMessageId,
                resendKey=body.resendKey,
                emailAddress=forward,
                credential=caller.credential,
                redirected=forward is not None,
            )
        )

    # -- internals -------------------------------------------------------------------------------------

    def _run(self, prepared: PreparedResend) -> tuple[ResendResult, bool]:
        answer = dict(self._resend_once(data=prepared))
        replayed = bool(answer.pop(REPLAY_MARKER, False))
        return ResendResult.model_validate(answer), replayed

    def _record(self, reference: str) -> SendRecord:
        record = self._records.get(reference)
        if record is None:
            raise NotFound(f"no send with reference {reference!r} is known")
        return record

    @staticmethod
    def _check_sent(record: SendRecord) -> None:
        if record.channel == "sms":
            raise Conflict(f"reference {record.reference!r} is an SMS: Listrak's SMS API has no resend")
        if record.status == "failed":
            raise Conflict(f"reference {record.reference!r} was never sent: {record.failure}")
        if record.status != "sent":
            raise Conflict(
                f"reference {record.reference!r} is {record.status}: its send is being confirmed; try again later",
                retry_after=60,
            )

    def _check_window(self, record: SendRecord) -> None:
        # Decided from sentAt, not from the item's presence: DynamoDB's TTL sweep can lag by days.
        closed_at = _window_closes_at(record)
        if self._clock.now() > closed_at:
            raise Gone(
                f"reference {record.reference!r} was sent at {record.sentAt}; Listrak's 30-day resend window "
                f"closed at {to_iso(closed_at)}"
            )

    def _find_resend_key(self, record: SendRecord) -> str:
        """The send's answer carried no resendKey: find its row in Listrak's Activity, by the same rule as the
        reconciler (the sole candidate, after counting every other send of that message to that address)."""
        now = self._clock.now()
        model = ActivityModel.of(self._records.activity_model(), now)
        before = model.before_seconds()
        ours = [a for a in attempts_of(record, ACTIVITY_AFTER_SECONDS, before) if a.sent][-1:]
        verdict = None
        if ours:
            widen = MAX_ZONE_SECONDS if model.zone_shift is None else abs(model.zone_shift)
            start = ours[0].start - ACTIVITY_BEFORE_SECONDS
            others = [
                attempt
                for other in self._records.by_recipient(
                    record.listId, record.transactionalMessageId, record.emailFingerprint, to_iso(start)
                )
                if other.reference != record.reference
                for attempt in attempts_of(other, ACTIVITY_AFTER_SECONDS, before)
            ]
            raw = self._email_api.activity(
                list_id=record.listId,
                transactional_message_id=record.transactionalMessageId,
                start_date=to_iso(start - widen),
                end_date=to_iso(ours[0].end + widen),
                page_size=self._page_size,
            )
            rows = rows_from(raw, record.emailFingerprint, model)
            verdict = judge(ours, others, rows, complete_before=now)[ours[0].n]
        if verdict is None or verdict.kind != "sent" or verdict.resend_key is None:
            raise Conflict(
                f"reference {record.reference!r} is not resendable yet: Listrak's Activity does not show its send "
                "apart from other sends of the same message to the same address so far; try again later",
                retry_after=60,
            )
        self._records.set_resend_key(record.reference, verdict.resend_key)
        return verdict.resend_key

    def _resend(self, data: PreparedResend) -> dict[str, Any]:
        """Runs at most once per Idempotency-Key (every time when there is none)."""
        if data.redirected:
            assert data.reference is not None  # the policy redirects recorded sends only
            self._redirects.charge(data.reference)  # a replayed request is not charged again
        resent_at = self._clock.now()
        status = "resent"
        try:
            self._email_api.resend_transactional(
                list_id=data.listId,
                transactional_message_id=data.transactionalMessageId,
                resend_key=data.resendKey,
                forward_address=data.emailAddress,
            )
        except ListrakNotFound as exc:
            raise Gone(
                "Listrak no longer accepts this send's resendKey (it is past its 30 days, or was never valid)"
            ) from exc
        except ListrakOutcomeUnknown:
            status = "unknown"  # it may have gone out: recorded, and never repeated under this key
        count = None
        if data.reference is not None:
            target = mask_email(data.emailAddress) if data.emailAddress else "original address"
            entry = ResendEntry(
                at=to_iso(resent_at),
                toMasked=target,
                status=status,
                credential=data.credential,
                redirected=data.redirected,
            )
            try:
                count = self._records.add_resend(data.reference, entry)
            except Exception:
                logger.exception("resend not recorded", extra={"reference": data.reference})
        logger.info("resent", extra={"reference": data.reference, "status": status, "count": count})
        if data.redirected and data.emailAddress:
            self._redirects.audit(
                reference=data.reference,
                credential=data.credential,
                target=data.emailAddress,
                at=to_iso(resent_at),
                status=status,
            )
        return ResendResult(
            reference=data.reference, status=status, resendCount=count, resentAt=to_iso(resent_at)
        ).model_dump()


def _original(record: SendRecord) -> OriginalSend:
    return OriginalSend(
        reference=record.reference,
        message=record.message,
        email_fingerprint=record.emailFingerprint,
        redirect_allowed=record.redirectAllowed,
    )


def _window_closes_at(record: SendRecord) -> float:
    return from_iso(record.sentAt) + RESEND_WINDOW_SECONDS
