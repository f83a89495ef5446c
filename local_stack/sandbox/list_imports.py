"""ListImport: a file of contacts imported into a list, its Status and its Summary."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from typing import Any

from local_stack.sandbox.records import ContactList, FieldColumn, ListImport
from local_stack.sandbox.wire import (
    FILE_COLUMN_TYPES,
    IMPORT_FILE_KEYS,
    IMPORT_MAPPING_KEYS,
    LIST_IMPORT_TYPES,
    SEGMENTATION_IMPORT_TYPES,
    Reply,
    Request,
    body_bool,
    choice,
    invalid,
    is_int,
    iso,
    malformed,
)


class ListImportRoutes:
    """Mixed into ListrakSandbox: its lock, clock, lists, contacts and list imports."""

    # POST /email/v1/List/{listId}/ListImport
    def _handle_list_import(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        payload = self._json_body(request)
        if not isinstance(payload, dict):
            raise malformed("The request body must be a JSON object.")
        unknown = sorted(set(payload) - IMPORT_FILE_KEYS)
        if unknown:
            raise malformed(f"The request body has unknown field(s): {', '.join(unknown)}.")
        record = self._known_list(params[0])

        delimiter = payload.get("fileDelimiter")
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise invalid("The fileDelimiter parameter is missing or is not a single character.")
        file_name = payload.get("fileName")
        if not isinstance(file_name, str) or not file_name.strip():
            raise invalid("The fileName parameter is missing or empty.")
        import_type = choice(payload.get("importType"), LIST_IMPORT_TYPES)
        if import_type is None:
            raise invalid(f"The importType parameter is missing or is not one of {', '.join(LIST_IMPORT_TYPES)}.")
        segmentation_import_type = choice(payload.get("segmentationImportType"), SEGMENTATION_IMPORT_TYPES)
        if segmentation_import_type is None:
            raise invalid(
                "The segmentationImportType parameter is missing or is not one of "
                f"{', '.join(SEGMENTATION_IMPORT_TYPES)}."
            )
        has_column_names = body_bool(payload, "hasColumnNames")
        body_bool(payload, "suppressEmailNotifications")
        body_bool(payload, "triggerJourney")
        include_unsubscribed = body_bool(payload, "includeUnsubscribed")
        qualifier = payload.get("textQualifier", '"')
        qualifier = '"' if qualifier is None else qualifier
        if not isinstance(qualifier, str) or len(qualifier) > 1 or qualifier == delimiter:
            raise invalid("The textQualifier parameter must be one character other than the fileDelimiter.")

        email_column, field_columns, widest = self._import_mappings(record, payload.get("fileMappings"))
        rows = self._import_rows(payload.get("fileStream"), delimiter, qualifier)
        for number, row in enumerate(rows, 1):
            if widest >= len(row):
                raise invalid(
                    f"The fileMappings parameter maps column {widest}, outside row {number} of the file "
                    f"({len(row)} column(s))."
                )
        data_rows = rows[1:] if has_column_names else rows
        if not data_rows:
            raise invalid("The fileStream parameter has no rows to import.")

        with self._lock:
            self._list_import_seq += 1
            list_import = ListImport(
                import_id=self._list_import_seq,
                list_id=record.list_id,
                file_name=file_name,
                import_type=import_type,
                segmentation_import_type=segmentation_import_type,
                include_unsubscribed=include_unsubscribed,
                email_column=email_column,
                field_columns=field_columns,
                rows=data_rows,
                started_at=self._now(),
                polls_until_done=max(0, int(self.list_import_polls_until_done)),
                fails=self.list_import_failures > 0,
                final_status=self.list_import_final_status,
            )
            self.list_import_failures = max(0, self.list_import_failures - 1)
            self._list_imports[list_import.import_id] = list_import
            self._counters["list_imports"] += 1
            resource_id = None if self.list_import_without_id else str(list_import.import_id)
        return Reply(201, {"status": 201, "resourceId": resource_id})

    def _import_mappings(self, record: ContactList, mappings: Any) -> tuple[int, list[FieldColumn], int]:
        """Validate fileMappings -> (the Email column, the profile field columns, the widest mapped column)."""
        if not isinstance(mappings, list) or not mappings:
            raise invalid("The fileMappings parameter is missing or is not a non-empty array.")
        email_columns: list[int] = []
        field_columns: list[FieldColumn] = []
        widest = 0
        for index, mapping in enumerate(mappings):
            where = f"fileMappings[{index}]"
            if not isinstance(mapping, dict):
                raise invalid(f"The {where} parameter must be an object.")
            extra = sorted(set(mapping) - IMPORT_MAPPING_KEYS)
            if extra:
                raise malformed(f"The {where} object has unknown field(s): {', '.join(extra)}.")
            column = mapping.get("fileColumn")
            if not is_int(column) or column < 0:
                raise invalid(f"The {where}.fileColumn parameter must be a non-negative integer.")
            column_type = choice(mapping.get("fileColumnType"), FILE_COLUMN_TYPES)
            if column_type is None:
                raise invalid(f"The {where}.fileColumnType parameter must be one of {', '.join(FILE_COLUMN_TYPES)}.")
            default = mapping.get("defaultValue")
            if default is not None and not isinstance(default, str):
                raise invalid(f"The {where}.defaultValue parameter must be a string.")
            widest = max(widest, column)
            if column_type == "Email":
                email_columns.append(column)
            elif column_type == "SegmentationField":
                field_id = mapping.get("segmentationFieldId")
                if not is_int(field_id):
                    raise invalid(f"The {where}.segmentationFieldId parameter must be an integer.")
                with self._lock:
                    known = field_id in record.fields
                if not known:
                    raise invalid(
                        f"The {where}.segmentationFieldId {field_id} is not a profile field of list {record.list_id}."
                    )
                if any(existing.field_id == field_id for existing in field_columns):
                    raise invalid(f"The {where}.segmentationFieldId {field_id} is mapped more than once.")
                field_columns.append(FieldColumn(column, field_id, default))
            # Event and ExternalContactID columns are accepted and not applied.
        if len(email_columns) != 1:
            raise invalid("The fileMappings parameter must map exactly one column of fileColumnType Email.")
        return email_columns[0], field_columns, widest

    @staticmethod
    def _import_rows(stream: Any, delimiter: str, qualifier: str) -> list[list[str]]:
        """Decode fileStream (base64 of UTF-8 text) and split it into CSV rows, blank lines left out."""
        if not isinstance(stream, str):
            raise invalid("The fileStream parameter is missing or is not a base64 string.")
        try:
            text = base64.b64decode(stream, validate=True).decode("utf-8-sig")
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            raise invalid("The fileStream parameter is not base64-encoded UTF-8 text.") from None
        options: dict[str, Any] = {"delimiter": delimiter}
        if qualifier:
            options["quotechar"] = qualifier
        else:
            options["quoting"] = csv.QUOTE_NONE
        try:
            return [row for row in csv.reader(io.StringIO(text, newline=""), **options) if row]
        except csv.Error as exc:
            raise invalid(f"The fileStream parameter could not be read as delimited text: {exc}.") from None

    # GET /email/v1/List/{listId}/ListImport/{importFileId}/Status
    def _handle_list_import_status(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        with self._lock:
            self._counters["list_import_status_polls"] += 1
            list_import = self._known_import(params)
            if list_import.completed_at is None:
                if list_import.polls < list_import.polls_until_done:
                    list_import.polls += 1
                elif list_import.fails or list_import.final_status not in (None, "Completed"):
                    list_import.completed_at = self._now()  # nothing applied, the summary stays at zero
                else:
                    self._apply_import(list_import)
            done = list_import.completed_at
            final = "Failed" if list_import.fails else (list_import.final_status or "Completed")
            status = "InProgress" if done is None else final
            data = {
                "startDate": iso(list_import.started_at),
                "endDate": None if done is None else iso(done),
                "status": status,
            }
        return Reply(200, {"status": 200, "data": data})

    # GET /email/v1/List/{listId}/ListImport/{importFileId}/Summary
    def _handle_list_import_summary(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        with self._lock:
            data = dict(self._known_import(params).summary)
        return Reply(200, {"status": 200, "data": data})

    def _apply_import(self, list_import: ListImport) -> None:
        """Apply a list import to the list's contacts and fill its summary (lock held; once per import)."""
        record = self._lists[list_import.list_id]
        contacts = self._contacts.setdefault(list_import.list_id, {})
        counts = list_import.summary
        import_type = list_import.import_type

        def field_updates(contact: dict[str, Any] | None, row: list[str]) -> dict[int, str] | None:
            """The row's profile field values as they would be stored; None when one is over its maxLength."""
            updates: dict[int, str] = {}
            for column in list_import.field_columns:
                value = row[column.column]
                if value == "" and column.default is not None:
                    value = column.default
                if list_import.segmentation_import_type == "Append" and contact is not None:
                    value = contact["fields"].get(column.field_id, "") + value
                if len(value) > record.fields[column.field_id].max_length:
                    return None  # what Listrak does here is undocumented: skip the row, apply nothing
                updates[column.field_id] = value
            return updates

        for row in list_import.rows:
            counts["processedCount"] += 1
            email = row[list_import.email_column].strip()
            if "@" not in email:
                counts["invalidEmailCount"] += 1
                continue
            contact = contacts.get(email.lower())
            subscribed = contact is not None and contact["subscriptionState"] == "Subscribed"
            blocked = _BLOCKED_COUNTS.get(self._standing(contact, email))
            if blocked is not None and import_type != "RemoveSubscribers":
                counts[blocked] += 1  # banned, suppressed and pending addresses are never imported
                continue

            if import_type == "RemoveSubscribers":
                if contact is None:
                    counts["skippedCount"] += 1
                elif subscribed:
                    contact["subscriptionState"] = "Unsubscribed"
                    counts["unsubscribedCount"] += 1
                else:
                    counts["alreadyUnsubscribedCount"] += 1
                continue

            if import_type == "UpdateSubscribers":
                if contact is None:
                    counts["skippedCount"] += 1
                    continue
                if subscribed or list_import.include_unsubscribed:
                    updates = field_updates(contact, row)
                    if updates is None:
                        counts["skippedCount"] += 1
                        continue
                    contact["fields"].update(updates)
                counts["alreadySubscribedCount" if subscribed else "previouslyUnsubscribedCount"] += 1
                continue

            # AddSubscribers, AddSubscribersAndSegmentationData: nobody unsubscribed is subscribed again.
            updates = field_updates(contact, row) if import_type == "AddSubscribersAndSegmentationData" else {}
            if updates is None:
                counts["skippedCount"] += 1
                continue
            if contact is None:
                contacts[email.lower()] = {"emailAddress": email, "subscriptionState": "Subscribed", "fields": updates}
                counts["subscribedCount"] += 1
                continue
            contact["fields"].update(updates)
            counts["alreadySubscribedCount" if subscribed else "previouslyUnsubscribedCount"] += 1
        list_import.completed_at = self._now()


# What a list import counts for a contact it may not import, by the contact's state.
_BLOCKED_COUNTS = {"Banned": "bannedCount", "Suppressed": "suppressedCount", "Pending": "skippedCount"}
