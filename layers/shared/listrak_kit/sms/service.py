"""The SMS path: resolve a request against the catalog, send it at most once per reference, record what happened.

The state item per reference is the one email uses (`send#<reference>`, channel "sms"), written before Listrak is
called. Listrak's SMS API has no Activity and no resend, so an answer that does not prove Listrak did nothing (a
5xx, a timeout, a dropped connection) cannot be checked afterwards: the send becomes `unconfirmed`, counted and
alarmed, and is never attempted again. At most once, never twice: a customer who may have had the SMS does not
get it again. Only an answer that proves nothing was sent (a refusal, throttling, no connection) frees the
reference for another try. A number without consent is never sent to: `skipped`, with the reason. Nothing here
subscribes anyone.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from listrak_kit.catalog.model import Catalog
from listrak_kit.clock import Clock, SystemClock, from_iso, to_iso
from listrak_kit.core.fields import as_text, reference_of, text_problem
from listrak_kit.core.segments import count_segments
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, Attempt, SendRecord, begin_once
from listrak_kit.errors import Conflict, FieldProblem, InvalidRequest, UnknownMessage
from listrak_kit.listrak.errors import ListrakOutcomeUnknown
from listrak_kit.listrak.sms_api import SmsApi, SmsInvalidNumber, SmsNoConsent
from listrak_kit.masking import mask_phone, phone_fingerprint
from listrak_kit.observability import logger
from listrak_kit.sms.models import PreparedSms, SmsRequest, SmsResult
from listrak_kit.sms.phone import InvalidPhoneNumber, normalize_phone

# A send still `sending` this long after it began was cut off between the Listrak call and its record (the longest
# invocation is a minute): whether it went cannot be known, so a repeat finds it unconfirmed.
STALE_SENDING_SECONDS = 900
RECORD_SECONDS = RESEND_WINDOW_SECONDS  # how long an SMS's record is kept (and answers repeats)


class SmsRecords(Protocol):
    def begin(self, record: SendRecord) -> bool: ...

    def get(self, reference: str) -> SendRecord | None: ...

    def settle_once(
        self, reference: str, token: str, n: int, *, status: str, outcome: str, failure: str | None = None
    ) -> None: ...

    def release(self, reference: str, token: str) -> None: ...


@dataclass(frozen=True)
class SmsOutcome:
    result: SmsResult
    replayed: bool  # this reference had been seen before: nothing was sent now


class SmsService:
    def __init__(
        self,
        *,
        catalog: Catalog,
        sms_api: Callable[[], SmsApi],
        records: SmsRecords,
        default_country: str = "US",
        max_segments: int = 10,
        clock: Clock | None = None,
        count: Callable[[str], None] | None = None,
    ):
        self._catalog = catalog
        self._sms_api = sms_api  # built on first use: a deployment without SMS secrets still sends email
        self._records = records
        self._default_country = default_country
        self._max_segments = max_segments
        self._clock = clock or SystemClock()
        self._count = count or (lambda _name: None)

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def send(self, request: SmsRequest, *, idempotency_key: str | None = None) -> SmsOutcome:
        prepared = self.prepare(request, idempotency_key=idempotency_key)
        now = self._clock.now()
        record = SendRecord(
            reference=prepared.reference,
            status="sending",
            channel="sms",
            message=prepared.message,
            senderCodeId=prepared.senderCodeId,
            listId=prepared.phoneListId,
            transactionalMessageId=prepared.transactionalMessageId,
            emailMasked="",
            emailFingerprint=phone_fingerprint(prepared.phoneNumber),
            phoneMasked=mask_phone(prepared.phoneNumber),
            segments=prepared.segments,
            sentAt=to_iso(now),
            resendableUntil=to_iso(now + RECORD_SECONDS),
            attempts=[Attempt(n=1, startedAt=to_iso(now))],
            payloadHash=payload_hash(prepared),
            payload={"phoneNumber": prepared.phoneNumber, "messageContent": prepared.messageContent},
            attemptToken=uuid.uuid4().hex,
        )
        if not self._begin(record):
            repeated = self._repeat(record, now)
            if repeated is not None:
                return repeated
        settled = self._deliver(record)
        return SmsOutcome(result_of(settled), replayed=False)

    def prepare(self, request: SmsRequest, *, idempotency_key: str | None = None) -> PreparedSms:
        """Everything that can be checked before Listrak is called; raises InvalidRequest or UnknownMessage."""
        problems: list[FieldProblem] = []
        reference = reference_of(request.reference, idempotency_key, problems)
        try:
            number = normalize_phone(request.phoneNumber, self._default_country)
        except InvalidPhoneNumber as exc:
            problems.append(FieldProblem("phoneNumber", str(exc)))
            number = ""

        if request.message is not None:
            spec = self._catalog.sms.get(request.message)
            if spec is None:
                kind = "an email message: send emailAddress" if request.message in self._catalog.messages else ""
                raise UnknownMessage(f"message {request.message!r} is {kind or 'not an SMS message in the catalog'}")
            values: dict[str, str] = {}
            for name, value in request.fields.items():
                text = as_text(value)
                field = spec.fields.get(name)
                units = len(text.encode("utf-16-le")) // 2
                if field is None:
                    problems.append(FieldProblem(f"fields.{name}", f"not a field of SMS {request.message}"))
                elif problem := text_problem(text):
                    problems.append(FieldProblem(f"fields.{name}", problem))
                elif units > field.maxLength:
                    problems.append(FieldProblem(f"fields.{name}", f"at most {field.maxLength} characters ({units})"))
                else:
                    values[name] = text
            for name, field in spec.fields.items():
                if field.required and not values.get(name, "").strip() and f"fields.{name}" not in _named(problems):
                    problems.append(FieldProblem(f"fields.{name}", "required by this SMS"))
            content, limit, limit_name = spec.render(values), spec.maxSegments, f"maxSegments of {request.message}"
            sender, phone_list, message_id = spec.senderCodeId, spec.phoneListId, spec.transactionalMessageId
        else:
            assert request.messageContent is not None and request.senderCodeId is not None
            assert request.phoneListId is not None and request.transactionalMessageId is not None
            if request.fields:
                problems.append(FieldProblem("fields", "named fields need a catalog SMS; use message"))
            content, limit, limit_name = request.messageContent, self._max_segments, "SMS_MAX_SEGMENTS"
            sender, phone_list, message_id = request.senderCodeId, request.phoneListId, request.transactionalMessageId

        counted = count_segments(content)
        if not content.strip():
            problems.append(FieldProblem("messageContent", "the SMS would be empty"))
        elif counted.segments > limit:
            problems.append(
                FieldProblem(
                    "segments",
                    f"the SMS takes {counted.segments} segments ({counted.units} {counted.encoding} units), more "
                    f"than the {limit} allowed ({limit_name}); shorten it",
                )
            )
        if problems:
            raise InvalidRequest(problems)
        return PreparedSms(
            reference=reference,
            message=request.message,
            senderCodeId=sender,
            phoneListId=phone_list,
            transactionalMessageId=message_id,
            phoneNumber=number,
            messageContent=content,
            segments=counted.segments,
        )

    # -- the state machine -------------------------------------------------------------------------

    def _begin(self, record: SendRecord) -> bool:
        return begin_once(self._records, record, what="SMS", left_behind="it is never sent twice")

    def _repeat(self, record: SendRecord, now: float) -> SmsOutcome | None:
        """What an earlier request with this reference became; None when the record is this request's own (write 1
        retried by botocore after it applied): the send goes now."""
        existing = self._records.get(record.reference)
        if existing is None:
            raise Conflict(f"an SMS with reference {record.reference!r} is in progress; retry shortly", retry_after=2)
        if existing.payloadHash != record.payloadHash:
            raise Conflict(f"reference {record.reference!r} was already used for a different send")
        if existing.attemptToken == record.attemptToken:
            return None
        if existing.status == "sending" and now - from_iso(existing.sentAt) > STALE_SENDING_SECONDS:
            reason = "the invocation that sent it ended before Listrak's answer was recorded"
            existing = self._settle(existing, "unconfirmed", "in-flight", failure=reason)
            self._unconfirmed(existing, reason)
        self._count("SmsReplayed" if existing.status == "sent" else f"SmsRepeated_{existing.status}")
        return SmsOutcome(result_of(existing), replayed=True)

    def _deliver(self, record: SendRecord) -> SendRecord:
        """The one call to Listrak for this reference, and the record settled from its answer."""
        assert record.payload is not None and record.attemptToken is not None and record.senderCodeId is not None
        try:
            receipt = self._sms_api().send_transactional(
                sender_code_id=record.senderCodeId,
                phone_list_id=record.listId,
                transactional_message_id=record.transactionalMessageId,
                phone_number=record.payload["phoneNumber"],
                message_content=record.payload["messageContent"],
            )
        except SmsNoConsent as exc:
            self._count(f"SmsSkipped_{exc.reason.title().replace('-', '')}")
            logger.info("sms skipped", extra={"reference": record.reference, "to": record.phoneMasked, "why": exc.code})
            return self._settle(record, "skipped", "refused", failure=f"{exc.reason}: Listrak answered {exc.code}")
        except ListrakOutcomeUnknown as exc:
            why = f"Listrak answered {exc.status}" if exc.status else "no answer from Listrak"
            reason = f"{why}: it may have been sent; the SMS API cannot be asked, so it is never sent again"
            settled = self._settle(record, "unconfirmed", "ambiguous", failure=reason)
            self._unconfirmed(settled, reason)
            return settled
        except SmsInvalidNumber as exc:
            self._release(record)
            message = "Listrak refused it as not a valid mobile number; nothing was sent"
            raise InvalidRequest([FieldProblem("phoneNumber", message)]) from exc
        except Exception:
            # Proven unsent (a refusal, throttling past the budget, no connection, the token refused): the reference
            # is free again, so the caller can fix the request or retry.
            self._release(record)
            raise
        self._count("SmsSent")
        logger.info(
            "sms sent", extra={"reference": record.reference, "to": record.phoneMasked, "id": receipt.resource_id}
        )
        return self._settle(record, "sent", "accepted")

    def _settle(self, record: SendRecord, status: str, outcome: str, *, failure: str | None = None) -> SendRecord:
        """Write 2. Its failure is counted and logged, never turned into a second SMS; what was learnt is still
        answered (a repeat of a record left `sending` later finds it unconfirmed)."""
        n = record.attempts[-1].n if record.attempts else 1
        try:
            self._records.settle_once(
                record.reference, record.attemptToken or "", n, status=status, outcome=outcome, failure=failure
            )
        except Exception:
            self._count("SmsRecordWriteFailed")
            logger.exception("sms record not settled", extra={"reference": record.reference, "status": status})
        return record.model_copy(update={"status": status, "failure": failure, "payload": None})

    def _release(self, record: SendRecord) -> None:
        try:
            self._records.release(record.reference, record.attemptToken or "")
        except Exception:
            self._count("SmsRecordWriteFailed")
            logger.exception("sms record not released", extra={"reference": record.reference})

    def _unconfirmed(self, record: SendRecord, reason: str) -> None:
        self._count("SmsUnconfirmed")
        logger.error("sms unconfirmed", extra={"reference": record.reference, "to": record.phoneMasked, "why": reason})


def _named(problems: list[FieldProblem]) -> set[str]:
    return {p.field for p in problems}


def payload_hash(prepared: PreparedSms) -> str:
    """What makes two SMS requests "the same": the target, the number and the exact text."""
    canonical = json.dumps(
        ["sms", prepared.senderCodeId, prepared.phoneListId, prepared.transactionalMessageId, prepared.phoneNumber]
        + [prepared.messageContent],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def result_of(record: SendRecord) -> SmsResult:
    skipped = record.status == "skipped"
    reason: Any = (record.failure or "").split(":", 1)[0] if skipped else None
    return SmsResult(
        reference=record.reference,
        status=record.status,
        message=record.message,
        senderCodeId=record.senderCodeId,
        phoneListId=record.listId,
        transactionalMessageId=record.transactionalMessageId,
        to=record.phoneMasked,
        segments=record.segments,
        sentAt=record.sentAt if record.status == "sent" else None,
        reason=reason,
        failure=None if skipped else record.failure,
    )
