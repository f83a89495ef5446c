"""What the sandbox holds: clients, tokens, sends, lists and their profile fields, list imports."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from local_stack.sandbox.wire import LIST_IMPORT_SUMMARY_COUNTS


@dataclass
class Client:
    secret: str
    integration: str


@dataclass
class Token:
    integration: str
    expires_at: float


@dataclass
class Send:
    seq: int
    list_id: int
    message_id: int
    email: str
    fields: list[dict[str, Any]]
    resend_key: str
    sent_at: float
    send_date: str
    dated_at: float = 0.0  # the moment sendDate stands for (Listrak's clock, when the email left its queue)
    visible_at: float = 0.0  # when Activity starts showing it (the sandbox's clock)
    # What the recipient did with it: an Activity flag (bounce, open, click, unsubscribe, abuse) -> when it was
    # first seen (the sandbox's clock); clicks counted, a bounce with its reason.
    activity: dict[str, float] = field(default_factory=dict)
    click_count: int = 0
    bounce_reason: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "listId": self.list_id,
            "transactionalMessageId": self.message_id,
            "emailAddress": self.email,
            "segmentationFieldValues": copy.deepcopy(self.fields),
            "resendKey": self.resend_key,
            "sendDate": self.send_date,
        }


@dataclass
class ProfileField:
    field_id: int
    group_id: int
    name: str
    data_type: str
    max_length: int
    position: int

    def public(self) -> dict[str, Any]:
        return {
            "segmentationFieldId": self.field_id,
            "segmentationFieldName": self.name,
            "segmentationFieldGroupId": self.group_id,
            "dataType": self.data_type,
            "maxLength": self.max_length,
            "position": self.position,
        }


@dataclass
class FieldGroup:
    group_id: int
    name: str
    position: int
    fields: dict[int, ProfileField] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {
            "segmentationFieldGroupId": self.group_id,
            "segmentationFieldGroupName": self.name,
            "position": self.position,
        }


@dataclass
class ContactList:
    list_id: int
    name: str
    groups: dict[int, FieldGroup] = field(default_factory=dict)
    fields: dict[int, ProfileField] = field(default_factory=dict)  # every group's fields, by segmentationFieldId


@dataclass
class FieldColumn:
    column: int
    field_id: int
    default: str | None


@dataclass
class ListImport:
    import_id: int
    list_id: int
    file_name: str
    import_type: str
    segmentation_import_type: str
    include_unsubscribed: bool
    email_column: int
    field_columns: list[FieldColumn]
    rows: list[list[str]]  # data rows only (no header), each at least as wide as the widest mapped column
    started_at: float
    polls_until_done: int
    fails: bool = False  # ends "Failed", applying nothing
    final_status: str | None = None  # ends with this Status instead of "Completed", applying nothing
    polls: int = 0
    completed_at: float | None = None
    summary: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LIST_IMPORT_SUMMARY_COUNTS, 0))


@dataclass
class ForgetRequest:
    request_id: str
    email: str | None
    phone: str | None
    submitted_at: float
    completes_at: float

    def public(self, now: float) -> dict[str, Any]:
        return {
            "requestID": self.request_id,
            "emailAddress": self.email,
            "phoneNumber": self.phone,
            "status": "COMPLETE" if now >= self.completes_at else "PROCESSING",
        }
