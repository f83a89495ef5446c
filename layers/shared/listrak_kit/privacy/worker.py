"""The privacy worker, on a schedule: it takes every open request one step further, as far as its time allows.

A forget: tombstone (so no import brings the person back), Listrak's forget request, the product's own data
erased page by page (progress recorded after every page, so a cut-off erasure resumes where it stopped), then
Listrak's request polled until COMPLETE, at most every PRIVACY_POLL_SECONDS and with Listrak calls spaced by
PRIVACY_CALL_SPACING_SECONDS (its limits: 20 calls in 10 s, 60 a minute). A 429 or 5xx leaves the request as it
was, with the error recorded; the next sweep tries again. Only then are the identifiers dropped from the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from listrak_kit.clock import Clock, SystemClock, from_iso, to_iso
from listrak_kit.core.forgotten import Person
from listrak_kit.errors import ConfigurationError
from listrak_kit.listrak.errors import ListrakError
from listrak_kit.masking import mask_addresses
from listrak_kit.observability import logger
from listrak_kit.privacy.models import PrivacyView
from listrak_kit.privacy.service import PrivacyRequests

if TYPE_CHECKING:
    from listrak_kit.aws.erasure import ObjectEraser, QueueRedactor, TableEraser
    from listrak_kit.aws.privacy_requests import DynamoPrivacyRequests
    from listrak_kit.aws.tombstones import DynamoTombstones
    from listrak_kit.listrak.privacy_api import PrivacyApi

EVENT_SOURCE = "listrak.privacy"
PHASES = ("table", "bucket", "queues")
EXPORTS_PREFIX = "privacy/exports/"
TIME_RESERVE_SECONDS = 30.0  # a sweep stops starting pages this long before its invocation ends


class Bus(Protocol):
    def put(self, *, source: str, detail_type: str, detail: str) -> str: ...


class Objects(Protocol):
    def put_json(self, key: str, document: Any) -> None: ...


@dataclass(frozen=True)
class WorkerPolicy:
    poll_seconds: float = 300.0
    call_spacing_seconds: float = 1.0
    overdue_seconds: float = 3 * 86_400


@dataclass
class Stores:
    """Where the product keeps personal data, and how each is erased or searched."""

    table: TableEraser
    bucket: ObjectEraser
    queues: QueueRedactor
    objects: Objects


class PrivacyWorker:
    def __init__(
        self,
        *,
        store: DynamoPrivacyRequests,
        privacy_api: Callable[[], PrivacyApi],
        tombstones: DynamoTombstones,
        key: Callable[[], bytes],
        stores: Stores,
        bus: Bus,
        policy: WorkerPolicy,
        count: Callable[[str, float], None],
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._store = store
        self._privacy_api = privacy_api  # built on first use: an export or a shop's redaction needs no Listrak
        self._tombstones = tombstones
        self._key = key
        self._stores = stores
        self._bus = bus
        self._policy = policy
        self._count = count
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._last_call = 0.0

    def sweep(self, time_left: Callable[[], float]) -> dict[str, int]:
        """Every open request, one step further; returns how many ended in each status."""
        outcome: dict[str, int] = {}
        for request_id in self._store.open_ids():
            if time_left() < TIME_RESERVE_SECONDS:
                break
            item = self._store.get(request_id)
            if item is None or item.get("status") == "complete":
                self._store.close(request_id)
                continue
            status = self._advance(request_id, item, time_left)
            outcome[status] = outcome.get(status, 0) + 1
        return outcome

    # -- one request -------------------------------------------------------------------------------------------

    def _advance(self, request_id: str, item: dict[str, Any], time_left: Callable[[], float]) -> str:
        now = self._clock.now()
        if now - from_iso(item["requestedAt"]) > self._policy.overdue_seconds:
            self._count("PrivacyRequestOverdue", 1)
        kind = item["kind"]
        if kind == "shop":
            self._announce("privacyShopRedact", {"requestId": request_id, **(item.get("source") or {})})
            return self._complete(request_id, {})
        person = Person(item.get("emailAddress"), item.get("phoneNumber"))
        if kind == "export":
            return self._export(request_id, item, person)
        try:
            return self._forget(request_id, item, person, time_left)
        # 429/5xx past the retries, a refusal, credentials not set yet: recorded, tried again next sweep.
        except (ListrakError, ConfigurationError) as exc:
            self._store.update(request_id, {"lastError": mask_addresses(str(exc)), "lastErrorAt": to_iso(now)})
            self._count("PrivacyListrakErrors", 1)
            logger.warning("privacy request waits for Listrak", extra={"requestId": request_id, "error": str(exc)})
            return str(item.get("status"))

    def _forget(self, request_id: str, item: dict[str, Any], person: Person, time_left: Callable[[], float]) -> str:
        if not item.get("tombstoned"):
            self._tombstones.add(person.hashes(self._key()))
            self._store.update(request_id, {"tombstoned": True})
        if not item.get("listrakRequestId"):
            self._pace()
            listrak_id = self._privacy_api().forget(email_address=person.email, phone_number=person.phone)
            progress = {"phase": PHASES[0], "cursor": None, "erased": 0}
            sets = {"listrakRequestId": listrak_id, "submittedAt": to_iso(self._clock.now()), "erasure": progress}
            self._store.update(request_id, {**sets, "status": "erasing"})
            item = {**item, **sets, "status": "erasing"}
        if item["status"] == "erasing":
            if not self._erase(request_id, dict(item["erasure"]), person, time_left):
                return "erasing"
            item = {**item, "status": "polling", "nextPollAt": 0}
        return self._poll(request_id, item)

    def _erase(self, request_id: str, progress: dict[str, Any], person: Person, time_left: Callable[[], float]) -> bool:
        """Erases page by page, recording progress after each; True when every store is done."""
        while progress["phase"] in PHASES:
            if time_left() < TIME_RESERVE_SECONDS:
                return False
            phase, cursor = progress["phase"], progress.get("cursor")
            if phase == "queues":
                erased, cursor = self._stores.queues.redact(person), None
            elif phase == "table":
                cursor, erased = self._stores.table.erase_page(person, cursor)
            else:
                cursor, erased = self._stores.bucket.erase_page(person, cursor)
            progress["erased"] = int(progress.get("erased") or 0) + erased
            progress[f"{phase}Erased"] = int(progress.get(f"{phase}Erased") or 0) + erased
            progress["cursor"] = cursor
            if cursor is None:
                following = PHASES.index(phase) + 1
                progress["phase"] = PHASES[following] if following < len(PHASES) else "done"
            sets: dict[str, Any] = {"erasure": progress}
            if progress["phase"] == "done":
                sets.update(status="polling", nextPollAt=0, erasedAt=to_iso(self._clock.now()))
            self._store.update(request_id, sets)
        return True

    def _poll(self, request_id: str, item: dict[str, Any]) -> str:
        now = self._clock.now()
        if float(item.get("nextPollAt") or 0) > now:
            return "polling"
        self._pace()
        status = self._privacy_api().status(str(item["listrakRequestId"]))
        if not status.complete:
            sets = {"listrakStatus": status.status, "nextPollAt": now + self._policy.poll_seconds}
            self._store.update(request_id, {**sets, "lastPolledAt": to_iso(now)})
            return "polling"
        return self._complete(
            request_id, {"listrakStatus": status.status, "listrakProcessedAt": status.processed or to_iso(now)}
        )

    def _complete(self, request_id: str, sets: dict[str, Any]) -> str:
        sets = {**sets, "status": "complete", "completedAt": to_iso(self._clock.now())}
        self._store.update(request_id, sets, removes=("emailAddress", "phoneNumber", "nextPollAt"))
        self._store.close(request_id)
        item = self._store.get(request_id) or {}
        PrivacyRequests.audit(PrivacyView.of(item), "completed")
        self._count(f"PrivacyCompleted_{item.get('kind')}", 1)
        return "complete"

    # -- an export (Shopify's customers/data_request) ------------------------------------------------------------

    def _export(self, request_id: str, item: dict[str, Any], person: Person) -> str:
        key = f"{EXPORTS_PREFIX}{request_id}.json"
        document = {
            "requestId": request_id,
            "requestedBy": item["requestedBy"],
            "requestedAt": item["requestedAt"],
            "source": item.get("source"),
            "generatedAt": to_iso(self._clock.now()),
            "records": _plain(self._stores.table.find(person)),
            "importFiles": self._stores.bucket.find(person),
            "note": "Listrak holds its own data on this person; this export is what this product holds.",
        }
        self._stores.objects.put_json(key, document)
        self._store.update(request_id, {"exportKey": key})
        detail = {
            "requestId": request_id,
            "bucket": self._stores.bucket.bucket,
            "key": key,
            "records": len(document["records"]),
            "importLines": len(document["importFiles"]),
            **(item.get("source") or {}),
        }
        self._announce("privacyDataExported", detail)
        return self._complete(request_id, {})

    def _announce(self, detail_type: str, detail: dict[str, Any]) -> None:
        self._bus.put(source=EVENT_SOURCE, detail_type=detail_type, detail=json.dumps(detail, separators=(",", ":")))

    def _pace(self) -> None:
        wait = self._last_call + self._policy.call_spacing_seconds - time.monotonic()
        if wait > 0:
            self._sleep(wait)
        self._last_call = time.monotonic()


def _plain(value: Any) -> Any:
    """JSON-ready: DynamoDB's sets become sorted lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return value
