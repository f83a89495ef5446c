"""What the local Listrak account holds for the project: the catalog's messages and the audience contacts use."""

from __future__ import annotations

from pathlib import Path

from local_stack.sandbox import ListrakSandbox
from local_stack.sms_account import register_sms

# The maxLength of the catalog's profile fields in the sandbox: a send with a longer value is refused
# (as long as the project's default SEND_FIELD_MAX_CHARS).
FIELD_MAX_LENGTH = 4000
ITEMS_FIELD_MAX_LENGTH = 64_000
# The audience the sandbox knows, for contacts/ imports (samples/imports/contacts uses these names).
AUDIENCE_LIST = (400001, "Master List")
AUDIENCE_FIELDS = (
    (
        91,
        "Profile",
        ((9101, "First Name", "Text", 50), (9102, "Last Name", "Text", 50), (9103, "Birthday", "Date", 10)),
    ),
    (92, "Loyalty", ((9201, "Loyalty Tier", "Text", 30), (9202, "Points", "Numeric", 10))),
)


def register_catalog(sandbox: ListrakSandbox, path: Path) -> None:
    """Lets the sandbox know the catalog's messages (its SMS too), as the user's Listrak account would."""
    for list_id, message_id, fields in catalog_messages(path):
        sandbox.add_transactional_message(list_id, message_id, fields)
    register_sms(sandbox, path)


def add_audience(sandbox: ListrakSandbox) -> None:
    sandbox.add_list(*AUDIENCE_LIST)
    for group_id, group_name, fields in AUDIENCE_FIELDS:
        for field_id, field_name, data_type, max_length in fields:
            sandbox.add_profile_field(
                AUDIENCE_LIST[0], group_id, group_name, field_id, field_name, data_type, max_length
            )


def catalog_messages(path: Path) -> list[tuple[int, int, dict[int, int]]]:
    """Each (listId, transactionalMessageId) of a catalog, with the profile fields its messages name and the
    maxLength the sandbox gives them (the order-items block holds rendered HTML, so its field is larger)."""
    from listrak_kit.catalog.model import load_catalog

    catalog = load_catalog(path)
    messages: dict[tuple[int, int], dict[int, int]] = {}
    for message in catalog.messages.values():
        fields = messages.setdefault((message.listId, message.transactionalMessageId), {})
        items_field = message.fields.get(message.items.field) if message.items is not None else None
        for field_id in message.fields.values():
            fields[field_id] = ITEMS_FIELD_MAX_LENGTH if field_id == items_field else FIELD_MAX_LENGTH
    return sorted((list_id, message_id, fields) for (list_id, message_id), fields in messages.items())
