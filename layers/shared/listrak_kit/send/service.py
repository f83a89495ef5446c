"""The send path: resolve a request against the catalog, send once per reference, record it for resends.

One item per reference is the state machine (`sending` -> `sent` | `pending` | `failed`), written before Listrak
is called. Only an answer that proves Listrak did nothing frees the reference again; an ambiguous one (500, 502,
504, no answer) leaves the send `pending` until Listrak's Activity says whether it went out.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from listrak_kit.catalog.item_block import render_items
from listrak_kit.catalog.model import Catalog
from listrak_kit.clock import Clock, SystemClock, from_iso, to_iso
from listrak_kit.core.fields import as_text, reference_of
from listrak_kit.core.limits import RECORD_MAX_BYTES, ValueLimits, dynamo_bytes
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, UNSETTLED, Attempt, SendRecord, begin_once
from listrak_kit.errors import (
    Conflict,
    FieldProblem,
    InvalidRequest,
    UnknownListrakIds,
    UnknownMessage,
)
from listrak_kit.listrak.email_api import EmailApi
from listrak_kit.listrak.errors import (
    ListrakNotFound,
    ListrakOutcomeUnknown,
    ListrakRejected,
    ListrakUnavailable,
)
from listrak_kit.masking import email_fingerprint, mask_email
from listrak_kit.observability import logger
from listrak_kit.send.activity import ActivityWitness
from listrak_kit.send.field_lengths import FieldLengths
from listrak_kit.send.models import PreparedSend, SendRequest, SendResult
from listrak_kit.send.ports import SendPolicy, SendRecords
from listrak_kit.send.reconciling import Reconciling

__all__ = ["SendOutcome", "SendPolicy", "SendRecords", "SendService"]


DEFAULT_INVOCATION_SECONDS = 60.0


@dataclass(frozen=True)
class SendOutcome:
    result: SendResult
    replayed: bool  # True when this reference had been seen before and nothing new was sent now
    retry_after: int | None = None  # for a pending send: seconds until it is reconciled


class SendService(Reconciling):
    def __init__(
        self,
        *,
        catalog: Catalog,
        email_api: EmailApi,
        records: SendRecords,
        clock: Clock | None = None,
        count: Callable[[str], None] | None = None,
        policy: SendPolicy | None = None,
        limits: ValueLimits | None = None,
        field_lengths: FieldLengths | None = None,
        on_accepted: Callable[[SendRecord], None] | None = None,  # Listrak took the send (delivery's registry)
    ):
        self._limits = limits or ValueLimits()
        self._field_lengths = field_lengths
        self._on_accepted = on_accepted or (lambda _record: None)
        self._catalog = catalog
        self._email_api = email_api
        self._records = records
        self._clock = clock or SystemClock()
        self._count = count or (lambda _name: None)
        self._policy = policy or SendPolicy()
        self._invocation_seconds = DEFAULT_INVOCATION_SECONDS
        self._witness = ActivityWitness(
            email_api=email_api, records=records, clock=self._clock, page_size=self._policy.activity_page_size
        )

    def begin(self, seconds_left: Callable[[], float]) -> None:
        """Once per invocation: how long this invocation may still run bounds when a send left `sending` is due."""
        self._invocation_seconds = seconds_left()

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def send(self, request: SendRequest, *, idempotency_key: str | None = None) -> SendOutcome:
        prepared = self.prepare(request, idempotency_key=idempotency_key)
        now = self._clock.now()
        record = SendRecord(
            reference=prepared.reference,
            status="sending",
            message=prepared.message,
            listId=prepared.listId,
            transactionalMessageId=prepared.transactionalMessageId,
            emailMasked=mask_email(prepared.emailAddress),
            emailFingerprint=email_fingerprint(prepared.emailAddress),
            sentAt=to_iso(now),
            resendableUntil=to_iso(now + RESEND_WINDOW_SECONDS),
            attempts=[Attempt(n=1, startedAt=to_iso(now))],
            payloadHash=payload_hash(prepared),
            payload={
                "emailAddress": prepared.emailAddress,
                "segmentationFieldValues": prepared.segmentationFieldValues,
            },
            redirectAllowed=self._catalog.redirect_allowed(
                message=prepared.message,
                list_id=prepared.listId,
                transactional_message_id=prepared.transactionalMessageId,
            ),
            sendAgainIfUnsure=self._catalog.sends_again_if_unsure(prepared.message),
            attemptToken=uuid.uuid4().hex,
            # Covers an invocation that ends (a crash, a timeout) between the Listrak call and write 2.
            reconcileAt=self._due_at(now),
        )
        if (size := dynamo_bytes(record.model_dump(exclude_none=True))) > RECORD_MAX_BYTES:
            where = "items" if request.items else "fields"
            raise InvalidRequest(
                [
                    FieldProblem(
                        where,
                        f"the send's record would be {size} bytes in DynamoDB (UTF-8), over the {RECORD_MAX_BYTES} "
                        "it may take: send fewer or shorter values",
                    )
                ]
            )
        if not self._begin(record):  # write 1
            existing = self._records.get(record.reference)
            if existing is None:
                raise Conflict(
                    f"a send with reference {record.reference!r} is in progress; retry shortly", retry_after=2
                )
            if existing.payloadHash != record.payloadHash:
                raise Conflict(f"reference {record.reference!r} was already used for a different send")
            if existing.attemptToken != record.attemptToken:  # (equal: our own write 1, retried by botocore)
                if existing.status in UNSETTLED and existing.reconcileAt is not None and now >= existing.reconcileAt:
                    existing = self._reconcile_quietly(existing)
                self._count("SendReplayed" if existing.status == "sent" else f"SendRepeated_{existing.status}")
                return self._outcome(existing, replayed=True)
        settled = self._deliver(record, 1)
        self._count(f"Send_{settled.status}")
        return self._outcome(settled, replayed=False)

    def _begin(self, record: SendRecord) -> bool:
        return begin_once(self._records, record, what="send", left_behind="it may still be sent (once, never twice)")

    def prepare(self, request: SendRequest, *, idempotency_key: str | None = None) -> PreparedSend:
        """Everything that can be checked before Listrak is called; raises InvalidRequest or UnknownMessage."""
        problems: list[FieldProblem] = []
        reference = reference_of(request.reference, idempotency_key, problems)

        values: list[dict[str, Any]] = []
        if request.message is not None:
            spec = self._catalog.messages.get(request.message)
            if spec is None:
                raise UnknownMessage(self._catalog.unknown_message(request.message))
            list_id, message_id = spec.listId, spec.transactionalMessageId
            for name, value in request.fields.items():
                if name not in spec.fields:
                    problems.append(FieldProblem(f"fields.{name}", f"not a field of message {request.message}"))
                elif spec.items is not None and name == spec.items.field:
                    problems.append(FieldProblem(f"fields.{name}", "is filled from items; send items instead"))
                elif problem := self._limits.field_problem(text := as_text(value)):
                    problems.append(FieldProblem(f"fields.{name}", problem))
                else:
                    values.append({"segmentationFieldId": spec.fields[name], "value": text})
            given = {name: as_text(value) for name, value in request.fields.items()}
            for name in spec.missing_required(given, has_items=bool(request.items)):
                where = "items" if spec.items is not None and name == spec.items.field else f"fields.{name}"
                problems.append(FieldProblem(where, f"is required by message {request.message}"))
            if request.items:
                if spec.items is None:
                    problems.append(FieldProblem("items", f"message {request.message} has no item block"))
                else:
                    try:
                        block = render_items(spec.items, request.items, limits=self._limits)
                        field_id = spec.fields[spec.items.field]
                        values.append({"segmentationFieldId": field_id, "value": block})
                        limit = self._field_lengths.max_length(list_id, field_id) if self._field_lengths else None
                        if limit is not None and len(block) > limit:
                            problems.append(
                                FieldProblem(
                                    "items",
                                    f"the rendered item block is {len(block)} characters, over the maxLength "
                                    f"{limit} of its profile field {spec.items.field} ({field_id}) at Listrak",
                                )
                            )
                    except InvalidRequest as exc:
                        problems.extend(exc.problems)
        else:
            assert request.listId is not None and request.transactionalMessageId is not None
            list_id, message_id = request.listId, request.transactionalMessageId
            if request.fields:
                problems.append(FieldProblem("fields", "named fields need a catalog message; use message"))
            if request.items:
                problems.append(FieldProblem("items", "items need a catalog message with an item block"))

        for index, raw in enumerate(request.segmentationFieldValues):
            if problem := self._limits.field_problem(raw.value):
                problems.append(FieldProblem(f"segmentationFieldValues[{index}].value", problem))
            values.append(raw.model_dump())
        seen: set[int] = set()
        for value in values:
            if value["segmentationFieldId"] in seen:
                problems.append(
                    FieldProblem(
                        "segmentationFieldValues",
                        f"segmentationFieldId {value['segmentationFieldId']} is given more than once",
                    )
                )
            seen.add(value["segmentationFieldId"])
        if problems:
            raise InvalidRequest(problems)
        return PreparedSend(
            reference=reference,
            message=request.message,
            listId=list_id,
            transactionalMessageId=message_id,
            emailAddress=request.emailAddress,
            segmentationFieldValues=values,
        )

    def _deliver(self, record: SendRecord, n: int) -> SendRecord:
        """Calls Listrak for attempt n and settles the item from its answer (write 2)."""
        assert record.payload is not None and record.attemptToken is not None
        reference, token = record.reference, record.attemptToken
        try:
            receipt = self._email_api.send_transactional(
                list_id=record.listId,
                transactional_message_id=record.transactionalMessageId,
                email_address=record.payload["emailAddress"],
                segmentation_field_values=record.payload["segmentationFieldValues"],
            )
        except ListrakOutcomeUnknown as exc:
            # It may have gone: never repeated blindly. Activity will tell.
            self._count("SendAmbiguous")
            logger.warning("send outcome unknown", extra={"reference": reference, "attempt": n, "detail": str(exc)})
            due = self._due_at(self._clock.now(), invocation=0)
            detail = f"Listrak answered {exc.status}" if exc.status else "no answer from Listrak"
            self._quietly(
                "mark_pending",
                lambda: self._records.mark_pending(
                    reference, token, n, outcome="ambiguous", detail=detail, reconcile_at=due
                ),
            )
            return record.model_copy(update={"status": "pending", "reconcileAt": due})
        except Exception as exc:
            if n == 1:
                # Proven unsent (a refusal, 429/503 after retries, or nothing reached Listrak): free the reference,
                # so the caller can fix the request or retry, and answer the error.
                self._quietly("release", lambda: self._records.release(reference, token))
                unknown_ids = isinstance(exc, ListrakNotFound) and exc.code == "ERROR_UNABLE_TO_LOCATE_RESOURCE"
                if unknown_ids and record.message is None:
                    # The caller's own raw IDs: its mistake to fix (a catalog's IDs stay Listrak's refusal).
                    raise UnknownListrakIds(
                        f"Listrak has no transactional message {record.transactionalMessageId} on list "
                        f"{record.listId}; check listId and transactionalMessageId; nothing was sent",
                        fields={"listId": record.listId, "transactionalMessageId": record.transactionalMessageId},
                    ) from exc
                raise
            return self._refused_again(record, n, exc)
        self._count("SendAccepted")
        self._on_accepted(record)
        self._witness.offer_probe(record, record.payload["emailAddress"], self._clock.now())
        resend_key = receipt.resend_key
        try:
            self._records.settle_sent(
                reference, token, n, resend_key=resend_key, outcome="accepted", resolved_by="answer"
            )
        except Exception:
            # Listrak has it, but the item still says `sending`: it is reconciled from Activity, never re-sent blindly.
            self._count("SendRecordWriteFailed")
            logger.exception("send record not settled", extra={"reference": reference})
            return record.model_copy(update={"status": "pending"})
        logger.info(
            "sent",
            extra={"reference": reference, "messageName": record.message, "to": record.emailMasked, "attempt": n},
        )
        return record.model_copy(update={"status": "sent", "resendKey": resend_key, "payload": None})

    def _refused_again(self, record: SendRecord, n: int, exc: Exception) -> SendRecord:
        """A later attempt that Listrak proved it did not act on: try again later, or give up on a refusal."""
        reference, token = record.reference, record.attemptToken or ""
        if isinstance(exc, ListrakRejected) or n >= self._policy.max_attempts:
            failure = f"Listrak refused attempt {n}: {exc}" if isinstance(exc, ListrakRejected) else str(exc)
            self._quietly(
                "settle_failed",
                lambda: self._records.settle_failed(reference, token, failure=failure, n=n, outcome="refused"),
            )
            self._count("SendFailed")
            return record.model_copy(update={"status": "failed", "failure": failure})
        due = self._due_at(self._clock.now(), invocation=0)
        detail = "Listrak unavailable" if isinstance(exc, ListrakUnavailable) else type(exc).__name__
        self._quietly(
            "mark_pending",
            lambda: self._records.mark_pending(reference, token, n, outcome="refused", detail=detail, reconcile_at=due),
        )
        return record.model_copy(update={"status": "pending", "reconcileAt": due})

    # -- helpers ---------------------------------------------------------------------------------------

    def _attempt_seconds(self) -> float:
        """How long after an attempt's start its Activity row may be dated: the invocation's time, or the delay
        Activity is given, whichever is longer (Listrak may date the row when the email leaves its queue)."""
        return max(self._invocation_seconds, self._policy.reconcile_after_seconds)

    def _due_at(self, now: float, *, invocation: float | None = None) -> int:
        running = self._invocation_seconds if invocation is None else invocation
        return int(now + running + self._policy.reconcile_after_seconds) + 1

    def _quietly(self, operation: str, write: Callable[[], None]) -> None:
        """A state write after the Listrak call: its failure is logged and counted, never turned into a resend."""
        try:
            write()
        except Exception:
            self._count("SendRecordWriteFailed")
            logger.exception("send record not updated", extra={"operation": getattr(write, "__name__", "write")})

    def _outcome(self, record: SendRecord, *, replayed: bool) -> SendOutcome:
        retry_after = None
        if record.status in UNSETTLED:
            retry_after = max(1, int((record.reconcileAt or 0) - self._clock.now()))
        return SendOutcome(result=result_of(record), replayed=replayed, retry_after=retry_after)


def payload_hash(prepared: PreparedSend) -> str:
    """What makes two sends "the same": the target and the exact payload (never stored in clear once settled)."""
    canonical = json.dumps(
        [prepared.listId, prepared.transactionalMessageId, prepared.emailAddress, prepared.segmentationFieldValues],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def result_of(record: SendRecord) -> SendResult:
    sent = record.status == "sent"
    return SendResult(
        reference=record.reference,
        status=record.status,
        message=record.message,
        listId=record.listId,
        transactionalMessageId=record.transactionalMessageId,
        resendKey=record.resendKey,
        sentAt=record.sentAt if sent else None,
        resendableUntil=to_iso(from_iso(record.sentAt) + RESEND_WINDOW_SECONDS) if sent else None,
        attempts=len(record.attempts),
        failure=record.failure,
    )
