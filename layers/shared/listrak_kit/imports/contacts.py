"""Audience sync: contacts and their profile fields into one Listrak list, through the Email API.

Rows name profile fields by name; names resolve to segmentationFieldIds through the list's field groups (cached).
Small loads go contact by contact (`POST .../Contact`); larger ones as Listrak's bulk `ListImport` (a CSV, base64),
polled through Status until done, with its Summary kept in the ledger and the manifest. Listrak's own rules keep
unsubscribed contacts unsubscribed; only `CONTACTS_RESUBSCRIBE` lets a row resubscribe one, contact by contact.
"""

from __future__ import annotations

import base64
import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from listrak_kit.core.fields import as_text, normalized_email, text_problem
from listrak_kit.errors import ConfigurationError
from listrak_kit.imports.chunks import ImportFailed
from listrak_kit.listrak.contacts_api import ContactsApi
from listrak_kit.listrak.errors import ListrakNotFound, ListrakRejected
from listrak_kit.masking import mask_addresses

RESERVED = ("emailAddress", "subscriptionState")
STATES = ("Subscribed", "Unsubscribed")
FIELDS_TTL_SECONDS = 600
# ListImport Status values (Listrak does not enumerate them): anything else ends the import as failed.
DONE_STATUSES = ("completed", "complete", "finished", "done")
FAILED_STATUSES = ("failed", "error", "cancelled", "canceled")
RUNNING_STATUSES = ("inprogress", "in progress", "pending", "queued", "processing", "running", "notstarted")


@dataclass(frozen=True)
class ProfileField:
    id: int
    name: str
    group: str
    data_type: str
    max_length: int


@dataclass(frozen=True)
class ContactsConfig:
    list_id: int | None = None
    list_name: str | None = None
    resubscribe: bool = False
    per_contact_max: int = 100  # up to this many rows in a chunk: contact by contact; above: one ListImport
    poll_seconds: float = 5.0
    import_max_seconds: float = 6 * 3600  # a ListImport with no end after this long is failed


class ContactSync:
    def __init__(
        self,
        api: ContactsApi,
        config: ContactsConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ):
        self._api = api
        self.config = config
        self._sleep = sleep
        self._now = now
        self._wall = wall
        self._list_id: int | None = config.list_id
        self._fields: dict[str, ProfileField] | None = None
        self._fields_at = 0.0

    # -- resolution ------------------------------------------------------------------------------------

    def list_id(self) -> int:
        if self._list_id is None:
            if not self.config.list_name:
                raise ConfigurationError("set CONTACTS_LIST_ID or CONTACTS_LIST_NAME for contacts imports")
            lists = self._api.lists()
            wanted = self.config.list_name.casefold()
            matches = [item["listId"] for item in lists if str(item.get("listName", "")).casefold() == wanted]
            if len(matches) != 1:
                raise ConfigurationError(
                    f"CONTACTS_LIST_NAME {self.config.list_name!r} matches {len(matches)} Listrak lists; "
                    "use CONTACTS_LIST_ID"
                )
            self._list_id = int(matches[0])
        return self._list_id

    def fields(self) -> dict[str, ProfileField]:
        """Profile fields by name, and by "Group.Name" (needed when two groups share a field name)."""
        if self._fields is None or self._now() - self._fields_at > FIELDS_TTL_SECONDS:
            list_id = self.list_id()
            by_name: dict[str, ProfileField] = {}
            ambiguous: set[str] = set()
            for group in self._api.field_groups(list_id):
                group_id, group_name = group["segmentationFieldGroupId"], str(group["segmentationFieldGroupName"])
                for item in self._api.fields(list_id, group_id):
                    field = ProfileField(
                        id=int(item["segmentationFieldId"]),
                        name=str(item["segmentationFieldName"]),
                        group=group_name,
                        data_type=str(item.get("dataType") or "Text"),
                        max_length=int(item.get("maxLength") or 0),
                    )
                    by_name[f"{group_name}.{field.name}"] = field
                    if field.name in by_name:
                        ambiguous.add(field.name)
                    by_name[field.name] = field
            for name in ambiguous:
                del by_name[name]
            self._fields, self._fields_at = by_name, self._now()
        return self._fields

    # -- validation ------------------------------------------------------------------------------------

    def validate(self, raw: dict[str, Any]) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
        """A row -> {"emailAddress", "subscriptionState", "values": [{segmentationFieldId, value}]} or problems."""
        problems: list[tuple[str, str]] = []
        email = raw.get("emailAddress")
        if not isinstance(email, str) or not email.strip():
            problems.append(("emailAddress", "required"))
        else:
            try:
                email = normalized_email(email.strip())
            except ValueError as exc:
                problems.append(("emailAddress", str(exc)))
        state = raw.get("subscriptionState") or "Subscribed"
        if state not in STATES:
            problems.append(("subscriptionState", "must be Subscribed or Unsubscribed"))

        named = dict(raw.get("fields") or {}) if isinstance(raw.get("fields"), dict) else {}
        named |= {k: v for k, v in raw.items() if k not in (*RESERVED, "fields")}
        known = self.fields()
        values = []
        for name, value in named.items():
            if value is None or value == "":
                continue
            field = known.get(name)
            if field is None:
                problems.append((name, "not a profile field of this list (names resolve through its field groups)"))
                continue
            text = as_text(value)
            problem = text_problem(text) or _check_value(field, text)
            if problem:
                problems.append((name, problem))
                continue
            values.append({"segmentationFieldId": field.id, "value": text})
        if problems:
            return None, problems
        return {"emailAddress": email, "subscriptionState": state, "values": values}, []

    # -- sending ---------------------------------------------------------------------------------------

    def send(
        self,
        rows: list[dict[str, Any]],
        *,
        chunk: int,
        file_name: str,
        resume: dict[str, Any] | None,
        time_left: Callable[[], float] | None,
    ) -> dict[str, Any]:
        """Sends one chunk of rows; returns what the ledger records (`pending: True` while Listrak still imports)."""
        if len(rows) <= self.config.per_contact_max or self.config.resubscribe:
            return self._one_by_one(rows)
        return self._bulk(rows, chunk=chunk, file_name=file_name, resume=resume, time_left=time_left)

    def _one_by_one(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Contact by contact; a contact Listrak refuses (banned, suppressed, unsubscribed...) is a reject."""
        list_id = self.list_id()
        counts = {"upserted": 0}
        refused: list[dict[str, Any]] = []
        for row in rows:
            body = {
                "emailAddress": row["emailAddress"],
                "subscriptionState": row["subscriptionState"],
                # An unsubscribe carries no profile data (Listrak refuses it with segmentation data).
                "segmentationFieldValues": row["values"] if row["subscriptionState"] == "Subscribed" else [],
            }
            try:
                self._api.upsert_contact(list_id, body, override_unsubscribe=self.config.resubscribe)
                counts["upserted"] += 1
            except ListrakNotFound as exc:
                raise ImportFailed(f"Listrak refused the contacts list: {exc}") from exc
            except ListrakRejected as exc:
                if exc.status != 400:
                    raise
                reason = (exc.code or f"HTTP_{exc.status}") + (f": {exc.detail}" if exc.detail else "")
                # Masked: the ledger and the manifest keep it, and the line already names the row.
                address = mask_addresses(row["emailAddress"])
                refused.append({"line": row.get("line"), "emailAddress": address, "reason": mask_addresses(reason)})
        return {"mode": "contact", "records": len(rows), **counts, "refused": refused}

    def _bulk(
        self,
        rows: list[dict[str, Any]],
        *,
        chunk: int,
        file_name: str,
        resume: dict[str, Any] | None,
        time_left: Callable[[], float] | None,
    ) -> dict[str, Any]:
        list_id = self.list_id()
        submitted = dict((resume or {}).get("imports") or {})
        for kind, subset in (
            ("subscribe", [r for r in rows if r["subscriptionState"] == "Subscribed"]),
            ("unsubscribe", [r for r in rows if r["subscriptionState"] == "Unsubscribed"]),
        ):
            if subset and kind not in submitted:
                import_id = self._submit(list_id, kind, subset, f"{file_name}-{chunk}-{kind}")
                submitted[kind] = {"importFileId": import_id, "submittedAt": int(self._wall())}
        summaries = {}
        for kind, info in submitted.items():
            summary = self._await(list_id, info, time_left)
            if summary is None:
                return {"mode": "listImport", "pending": True, "imports": submitted}
            summaries[kind] = {**info, "summary": summary}
        return {"mode": "listImport", "records": len(rows), "imports": summaries}

    def _submit(self, list_id: int, kind: str, rows: list[dict[str, Any]], name: str) -> str:
        subscribe = kind == "subscribe"
        # An unsubscribe file is addresses alone: no profile data goes with a removal.
        ids = sorted({v["segmentationFieldId"] for r in rows for v in r["values"]}) if subscribe else []
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["emailAddress", *(str(i) for i in ids)])
        for row in rows:
            values = {v["segmentationFieldId"]: v["value"] for v in row["values"]}
            writer.writerow([row["emailAddress"], *(values.get(i, "") for i in ids)])
        mappings = [{"fileColumn": 0, "fileColumnType": "Email"}]
        if subscribe:
            mappings += [
                {"fileColumn": n + 1, "fileColumnType": "SegmentationField", "segmentationFieldId": i}
                for n, i in enumerate(ids)
            ]
        body = {
            "fileName": f"{name}.csv"[-100:],
            "fileDelimiter": ",",
            "textQualifier": '"',
            "hasColumnNames": True,
            "fileMappings": mappings,
            "fileStream": base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii"),
            "importType": "AddSubscribersAndSegmentationData" if subscribe else "RemoveSubscribers",
            "segmentationImportType": "Update",
            "suppressEmailNotifications": True,
            "triggerJourney": False,
            "includeUnsubscribed": False,
        }
        import_id = self._api.start_list_import(list_id, body)
        if not import_id or import_id in ("None", "null"):
            raise ImportFailed(
                f"Listrak accepted a {kind} list import but gave no import id (resourceId {import_id!r})"
            )
        return import_id

    def _await(
        self, list_id: int, info: dict[str, Any], time_left: Callable[[], float] | None
    ) -> dict[str, Any] | None:
        import_id = info["importFileId"]
        while True:
            status = self._api.list_import_status(list_id, import_id)
            said = status.lower().strip()
            if said in DONE_STATUSES:
                return self._api.list_import_summary(list_id, import_id)
            if said in FAILED_STATUSES:
                raise ImportFailed(f"Listrak's list import {import_id} ended with status {status!r}")
            if said not in RUNNING_STATUSES:
                raise ImportFailed(f"Listrak's list import {import_id} answered an unknown status {status!r}")
            waited = self._wall() - float(info.get("submittedAt") or self._wall())
            if waited > self.config.import_max_seconds:
                raise ImportFailed(
                    f"Listrak's list import {import_id} had not ended after {waited:.0f} s (status {status!r})"
                )
            if time_left is not None and time_left() < 60:
                return None  # polled again by a fresh invocation
            self._sleep(self.config.poll_seconds)


def _check_value(field: ProfileField, text: str) -> str | None:
    if field.max_length and len(text) > field.max_length:
        return f"at most {field.max_length} characters (got {len(text)})"
    if field.data_type == "Numeric":
        try:
            float(text)
        except ValueError:
            return "must be a number"
    if field.data_type == "Date":
        try:
            date.fromisoformat(text[:10])
        except ValueError:
            return "must be a date (YYYY-MM-DD)"
    return None
