"""The send path: resolve a request against the catalog, send once per reference, record it for resends."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from listrak_kit.catalog.item_block import render_items
from listrak_kit.catalog.model import Catalog
from listrak_kit.clock import Clock, SystemClock, to_iso
from listrak_kit.core.fields import REFERENCE, as_text
from listrak_kit.core.limits import ValueLimits
from listrak_kit.core.send_record import RESEND_WINDOW_SECONDS, SendRecord
from listrak_kit.errors import FieldProblem, InvalidRequest, UnknownListrakIds, UnknownMessage
from listrak_kit.idempotency import REPLAY_MARKER
from listrak_kit.listrak.email_api import EmailApi
from listrak_kit.listrak.errors import ListrakNotFound, ListrakOutcomeUnknown
from listrak_kit.masking import email_fingerprint, mask_email
from listrak_kit.observability import logger
from listrak_kit.send.models import PreparedSend, SendRequest, SendResult


class SendRecords(Protocol):
    def put(self, record: SendRecord) -> None: ...


OnceGuard = Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]
"""Wraps the delivery so that one reference delivers once (Powertools Idempotency in production)."""


@dataclass(frozen=True)
class SendOutcome:
    result: SendResult
    replayed: bool  # True when this reference had already been delivered and nothing was sent now


class SendService:
    def __init__(
        self,
        *,
        catalog: Catalog,
        email_api: EmailApi,
        records: SendRecords,
        once: OnceGuard,
        clock: Clock | None = None,
        count: Callable[[str], None] | None = None,
        limits: ValueLimits | None = None,
    ):
        self._limits = limits or ValueLimits()
        self._catalog = catalog
        self._email_api = email_api
        self._records = records
        self._clock = clock or SystemClock()
        self._count = count or (lambda _name: None)
        self._deliver_once = once(self._deliver)

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def send(self, request: SendRequest, *, idempotency_key: str | None = None) -> SendOutcome:
        prepared = self.prepare(request, idempotency_key=idempotency_key)
        answer = dict(self._deliver_once(data=prepared))
        replayed = bool(answer.pop(REPLAY_MARKER, False))
        result = SendResult.model_validate(answer)
        self._count("SendReplayed" if replayed else f"Send_{result.status}")
        return SendOutcome(result=result, replayed=replayed)

    def prepare(self, request: SendRequest, *, idempotency_key: str | None = None) -> PreparedSend:
        """Everything that can be checked before Listrak is called; raises InvalidRequest or UnknownMessage."""
        problems: list[FieldProblem] = []
        if request.reference and idempotency_key and request.reference != idempotency_key:
            problems.append(FieldProblem("reference", "differs from the Idempotency-Key header"))
        elif idempotency_key is not None and not REFERENCE.match(idempotency_key):
            problems.append(
                FieldProblem("Idempotency-Key", "must be 1 to 200 printable ASCII characters without spaces")
            )
        reference = request.reference or idempotency_key or f"auto-{uuid.uuid4()}"

        values: list[dict[str, Any]] = []
        if request.message is not None:
            spec = self._catalog.messages.get(request.message)
            if spec is None:
                raise UnknownMessage(f"message {request.message!r} is not in the catalog")
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
            if request.items:
                if spec.items is None:
                    problems.append(FieldProblem("items", f"message {request.message} has no item block"))
                else:
                    try:
                        block = render_items(spec.items, request.items, limits=self._limits)
                        values.append({"segmentationFieldId": spec.fields[spec.items.field], "value": block})
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

    def _deliver(self, data: PreparedSend) -> dict[str, Any]:
        """Runs at most once per reference. Raising lets a retry deliver; returning records the outcome."""
        prepared = data
        sent_at = self._clock.now()
        status = "sent"
        resend_key = None
        try:
            receipt = self._email_api.send_transactional(
                list_id=prepared.listId,
                transactional_message_id=prepared.transactionalMessageId,
                email_address=prepared.emailAddress,
                segmentation_field_values=prepared.segmentationFieldValues,
            )
            resend_key = receipt.resend_key
        except ListrakNotFound as exc:
            if prepared.message is None and exc.code == "ERROR_UNABLE_TO_LOCATE_RESOURCE":
                # The caller's own raw IDs: its mistake to fix (a catalog's IDs stay Listrak's refusal, a 502).
                raise UnknownListrakIds(
                    f"Listrak has no transactional message {prepared.transactionalMessageId} on list "
                    f"{prepared.listId}; check listId and transactionalMessageId; nothing was sent",
                    fields={"listId": prepared.listId, "transactionalMessageId": prepared.transactionalMessageId},
                ) from exc
            raise
        except ListrakOutcomeUnknown:
            # The email may have gone. Recording (not raising) makes every retry of this reference a replay.
            status = "unknown"
            logger.warning("send outcome unknown", extra={"reference": prepared.reference})

        result = SendResult(
            reference=prepared.reference,
            status=status,
            message=prepared.message,
            listId=prepared.listId,
            transactionalMessageId=prepared.transactionalMessageId,
            resendKey=resend_key,
            sentAt=to_iso(sent_at),
            resendableUntil=to_iso(sent_at + RESEND_WINDOW_SECONDS),
        )
        record = SendRecord(
            **result.model_dump(),
            emailMasked=mask_email(prepared.emailAddress),
            emailFingerprint=email_fingerprint(prepared.emailAddress),
            redirectAllowed=self._catalog.redirect_allowed(
                message=prepared.message,
                list_id=prepared.listId,
                transactional_message_id=prepared.transactionalMessageId,
            ),
        )
        try:
            self._records.put(record)
        except Exception:
            # The email went out; failing now would let a retry send it twice. Resends can still find it
            # through Listrak's activity.
            self._count("SendRecordWriteFailed")
            logger.exception("send record not written", extra={"reference": prepared.reference})
        logger.info(
            "sent" if status == "sent" else "send outcome unknown",
            extra={
                "reference": prepared.reference,
                "messageName": prepared.message,
                "to": record.emailMasked,
                "resendKey": bool(resend_key),
            },
        )
        return result.model_dump()
