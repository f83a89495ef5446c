"""Privacy requests as they are recorded: a forget, an export (Shopify's customers/data_request) or a shop's
redaction. Recording is all a door does (it answers at once); the worker does the rest. Every request is its own
audit record: who asked, when, how far it got, when it completed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from listrak_kit.clock import Clock, SystemClock, to_iso
from listrak_kit.core.forgotten import Person
from listrak_kit.errors import NotFound
from listrak_kit.observability import logger
from listrak_kit.privacy.models import Kind, PrivacyView

if TYPE_CHECKING:
    from listrak_kit.aws.privacy_requests import DynamoPrivacyRequests

AUDIT_EVENT = "privacy-request"


class Tombstones(Protocol):
    def remove(self, hashes: Iterable[str]) -> None: ...  # filter audit = "privacy-request" in CloudWatch Logs Insights


class PrivacyRequests:
    def __init__(self, *, store: DynamoPrivacyRequests, clock: Clock | None = None):
        self._store = store
        self._clock = clock or SystemClock()

    def start(
        self,
        kind: Kind,
        person: Person | None,
        *,
        requested_by: str,
        request_id: str | None = None,
        source: dict[str, Any] | None = None,
    ) -> tuple[PrivacyView, bool]:
        """Records the request (the worker takes it from there). False: that request id exists already."""
        request_id = request_id or str(uuid.uuid4())
        item: dict[str, Any] = {
            "requestId": request_id,
            "kind": kind,
            "status": "received",
            "requestedBy": requested_by,
            "requestedAt": to_iso(self._clock.now()),
            "identifiers": [],
        }
        # The identifiers are held (the table is encrypted at rest) only until the request completes.
        if person is not None and person.email:
            item["emailAddress"] = person.email
            item["identifiers"].append("emailAddress")
        if person is not None and person.phone:
            item["phoneNumber"] = person.phone
            item["identifiers"].append("phoneNumber")
        if source:
            item["source"] = source
        created = self._store.create(request_id, item)
        view = self.view(request_id)
        if created:
            self.audit(view, "received")
        return view, created

    def lift(self, person: Person, *, key: bytes, tombstones: Tombstones, requested_by: str) -> PrivacyView:
        """Lifts a person's tombstone (imports may bring them back), recorded like any request; done at once."""
        tombstones.remove(person.hashes(key))
        view, _ = self.start("lift", None, requested_by=requested_by)
        identifiers = [name for name, given in (("emailAddress", person.email), ("phoneNumber", person.phone)) if given]
        self._store.update(
            view.requestId, {"status": "complete", "completedAt": to_iso(self._clock.now()), "identifiers": identifiers}
        )
        self._store.close(view.requestId)
        done = self.view(view.requestId)
        self.audit(done, "completed")
        return done

    def view(self, request_id: str) -> PrivacyView:
        item = self._store.get(request_id)
        if item is None:
            raise NotFound(f"no privacy request {request_id!r} is known here")
        return PrivacyView.of(item)

    def all(self) -> list[PrivacyView]:
        return [PrivacyView.of(item) for item in self._store.all()]

    @staticmethod
    def audit(view: PrivacyView, event: str) -> None:
        logger.info(
            "privacy request " + event,
            extra={
                "audit": AUDIT_EVENT,
                "event": event,
                "requestId": view.requestId,
                "kind": view.kind,
                "requestedBy": view.requestedBy,
                "requestedAt": view.requestedAt,
                "status": view.status,
                "completedAt": view.completedAt,
                "listrakRequestId": view.listrakRequestId,
            },
        )
