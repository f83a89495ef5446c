"""Lists, profile fields and contacts: their configuration and the Email API routes that read or write them."""

from __future__ import annotations

import copy
from typing import Any

from local_stack.sandbox.records import ContactList, FieldGroup, ListImport, ProfileField
from local_stack.sandbox.wire import (
    ADDRESS_REFUSALS,
    CONTACT_KEYS,
    CONTACT_STATES,
    FIELD_GROUP_NOT_FOUND_MESSAGE,
    LIST_IMPORT_NOT_FOUND_MESSAGE,
    LIST_NOT_FOUND_MESSAGE,
    PROFILE_FIELD_DATA_TYPES,
    SUBSCRIPTION_STATES,
    UNSUBSCRIBED_MESSAGE,
    ApiError,
    Reply,
    Request,
    choice,
    field_values,
    invalid,
    is_int,
    malformed,
    query_bool,
    route_int,
)


class ContactRoutes:
    """Mixed into ListrakSandbox: its lock, lists and contacts."""

    def add_list(self, list_id: int, name: str) -> None:
        """Add a list (or rename one); its profile fields and contacts are kept."""
        with self._lock:
            record = self._lists.get(int(list_id))
            if record is None:
                self._lists[int(list_id)] = ContactList(int(list_id), name)
            else:
                record.name = name

    def add_profile_field(
        self,
        list_id: int,
        group_id: int,
        group_name: str,
        field_id: int,
        field_name: str,
        data_type: str = "Text",
        max_length: int = 100,
    ) -> None:
        """Add (or redefine) a profile field of a list, creating its group on first use (add_list first)."""
        if data_type not in PROFILE_FIELD_DATA_TYPES:
            raise ValueError(f"data_type must be one of {PROFILE_FIELD_DATA_TYPES}, not {data_type!r}")
        if not is_int(max_length) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, not {max_length!r}")
        list_id, group_id, field_id = int(list_id), int(group_id), int(field_id)
        with self._lock:
            record = self._lists.get(list_id)
            if record is None:
                raise ValueError(f"unknown list {list_id}: call add_list() first")
            existing = record.fields.get(field_id)
            if existing is not None and existing.group_id != group_id:
                raise ValueError(f"field {field_id} of list {list_id} already belongs to group {existing.group_id}")
            group = record.groups.get(group_id)
            if group is None:
                group = record.groups[group_id] = FieldGroup(group_id, group_name, len(record.groups) + 1)
            else:
                group.name = group_name
            position = existing.position if existing is not None else len(group.fields) + 1
            profile_field = ProfileField(field_id, group_id, field_name, data_type, max_length, position)
            group.fields[field_id] = profile_field
            record.fields[field_id] = profile_field

    def set_contact(
        self, list_id: int, email: str, state: str = "Subscribed", fields: dict[int, str] | None = None
    ) -> None:
        """Create or replace a contact of a list (its fields become exactly `fields`); nothing is counted.

        Besides Subscribed and Unsubscribed, a contact can be Banned, Suppressed or Pending (double opt-in):
        Listrak refuses to subscribe those (ERROR_BANNED_EMAIL_ADDRESS, ERROR_SUPPRESSED_EMAIL,
        ERROR_PENDING_EMAIL_ADDRESS), and a list import counts them as banned, suppressed or skipped.
        """
        if state not in CONTACT_STATES:
            raise ValueError(f"state must be one of {CONTACT_STATES}, not {state!r}")
        if not isinstance(email, str) or "@" not in email:
            raise ValueError(f"email must be an email address, not {email!r}")
        values = {int(field_id): str(value) for field_id, value in (fields or {}).items()}
        list_id = int(list_id)
        with self._lock:
            record = self._lists.get(list_id)
            if record is None:
                raise ValueError(f"unknown list {list_id}: call add_list() first")
            unknown = sorted(set(values) - set(record.fields))
            if unknown:
                raise ValueError(
                    f"unknown profile field(s) {unknown} of list {list_id}: call add_profile_field() first"
                )
            address = email.strip()
            self._contacts.setdefault(list_id, {})[address.lower()] = {
                "emailAddress": address,
                "subscriptionState": state,
                "fields": values,
            }

    def refuse_address(self, email: str, code: str) -> None:
        """Listrak refuses this address on every list, as a Banned, Suppressed or Pending contact: subscribing
        it answers 400 `code`, a list import counts it (banned, suppressed, skipped) and leaves it out. No contact
        is created; `code` is one of ADDRESS_REFUSALS."""
        if code not in ADDRESS_REFUSALS:
            raise ValueError(f"code must be one of {sorted(ADDRESS_REFUSALS)}, not {code!r}")
        if not isinstance(email, str) or "@" not in email:
            raise ValueError(f"email must be an email address, not {email!r}")
        with self._lock:
            self._refused_addresses[email.strip().lower()] = ADDRESS_REFUSALS[code]

    def _standing(self, contact: dict[str, Any] | None, email: str) -> str | None:
        """The state Listrak subscribes against: an address refused on every list, else the contact's (lock held)."""
        refused = self._refused_addresses.get(email.strip().lower())
        if refused is not None:
            return refused
        return contact["subscriptionState"] if contact is not None else None

    @property
    def contacts(self) -> dict[int, dict[str, dict[str, Any]]]:
        """listId -> lower-cased email -> {"emailAddress", "subscriptionState", "fields": {fieldId: value}}."""
        with self._lock:
            return {list_id: copy.deepcopy(self._contacts.get(list_id, {})) for list_id in sorted(self._lists)}

    # -- lists, profile fields, contacts, list imports -----------------------------------------------------

    def _known_list(self, raw_list_id: str) -> ContactList:
        list_id = route_int(raw_list_id)
        with self._lock:
            record = self._lists.get(list_id) if list_id is not None else None
        if record is None:
            raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", LIST_NOT_FOUND_MESSAGE)
        return record

    def _known_import(self, params: tuple[str, ...]) -> ListImport:
        """The import at {listId}/ListImport/{importFileId} (call with the lock held)."""
        list_id, import_id = route_int(params[0]), route_int(params[1])
        found = self._list_imports.get(import_id) if import_id is not None else None
        if found is None or found.list_id != list_id:
            raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", LIST_IMPORT_NOT_FOUND_MESSAGE)
        return found

    # GET /email/v1/List
    def _handle_lists(self, request: Request, _params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        with self._lock:
            data = [
                # listName, bounceHandling and bounceUnsubscribeCount are the List schema's required properties.
                {
                    "listId": record.list_id,
                    "listName": record.name,
                    "bounceHandling": "Standard",
                    "bounceUnsubscribeCount": 3,
                    "createDate": "2020-01-01T00:00:00Z",
                }
                for _, record in sorted(self._lists.items())
            ]
        return Reply(200, {"status": 200, "data": data})

    # GET /email/v1/List/{listId}/SegmentationFieldGroup
    def _handle_field_groups(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        record = self._known_list(params[0])
        with self._lock:
            data = [group.public() for group in sorted(record.groups.values(), key=lambda g: g.position)]
        return Reply(200, {"status": 200, "data": data})

    # GET /email/v1/List/{listId}/SegmentationFieldGroup/{segmentationFieldGroupId}/SegmentationField
    def _handle_fields(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        record = self._known_list(params[0])
        group_id = route_int(params[1])
        with self._lock:
            group = record.groups.get(group_id) if group_id is not None else None
            if group is None:
                raise ApiError(404, "ERROR_UNABLE_TO_LOCATE_RESOURCE", FIELD_GROUP_NOT_FOUND_MESSAGE)
            data = [f.public() for f in sorted(group.fields.values(), key=lambda f: f.position)]
        return Reply(200, {"status": 200, "data": data})

    # POST /email/v1/List/{listId}/Contact
    def _handle_contact(self, request: Request, params: tuple[str, ...]) -> Reply:
        self._authorize(request, "Email")
        payload = self._json_body(request)
        if not isinstance(payload, dict):
            raise malformed("The request body must be a JSON object.")
        unknown = sorted(set(payload) - CONTACT_KEYS)
        if unknown:
            raise malformed(f"The request body has unknown field(s): {', '.join(unknown)}.")
        record = self._known_list(params[0])
        override = query_bool(request.query, "overrideUnsubscribe", False)

        email = payload.get("emailAddress")
        if not isinstance(email, str) or not email.strip() or "@" not in email:
            raise invalid("The emailAddress parameter is missing or is not a valid email address.")
        email = email.strip()
        raw_state = payload.get("subscriptionState")
        state = "Subscribed" if raw_state is None else choice(raw_state, SUBSCRIPTION_STATES)
        if state is None:
            raise invalid("The subscriptionState parameter must be Subscribed or Unsubscribed.")
        values = payload.get("segmentationFieldValues")
        if values is None:  # required by the spec, null included
            raise invalid("The segmentationFieldValues parameter is missing or is not an array.")
        pairs = field_values(values)
        events = request.query.get("eventIds", "").strip()

        with self._lock:
            for field_id, _ in pairs:
                if field_id not in record.fields:
                    raise invalid(
                        f"The segmentationFieldId {field_id} is not a profile field of list {record.list_id}."
                    )
            for field_id, value in pairs:
                profile_field = record.fields[field_id]
                if len(value) > profile_field.max_length:
                    raise invalid(
                        f"The value of profile field {field_id} ({profile_field.name}) is longer than its "
                        f"maximum length of {profile_field.max_length}."
                    )
            contacts = self._contacts.setdefault(record.list_id, {})
            contact = contacts.get(email.lower())
            current = contact["subscriptionState"] if contact is not None else None
            if state == "Unsubscribed":
                _check_unsubscribe(current, pairs, events, refuse_data=self.refuse_unsubscribe_with_data)
            else:
                _check_subscribe(self._standing(contact, email), override)
            if contact is None:
                contact = contacts[email.lower()] = {"emailAddress": email, "subscriptionState": state, "fields": {}}
            contact["subscriptionState"] = state
            contact["fields"].update(pairs)
            self._counters["contact_upserts"] += 1
        return Reply(201, {"status": 201, "resourceId": email})


def _check_subscribe(current: str | None, override: bool) -> None:
    """Listrak's refusals to subscribe (or update) a contact in state `current`."""
    refusals = {
        "Banned": ("ERROR_BANNED_EMAIL_ADDRESS", "The emailAddress has been banned."),
        "Suppressed": ("ERROR_SUPPRESSED_EMAIL", "The emailAddress has already been suppressed."),
        "Pending": (
            "ERROR_PENDING_EMAIL_ADDRESS",
            "The emailAddress is already pending subscription through double opt-in.",
        ),
    }
    if current in refusals:
        raise ApiError(400, *refusals[current])
    if current == "Unsubscribed" and not override:
        raise ApiError(400, "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS", UNSUBSCRIBED_MESSAGE)


def _check_unsubscribe(current: str | None, pairs: list[tuple[int, str]], events: str, *, refuse_data: bool) -> None:
    """Listrak's refusals of subscriptionState Unsubscribed for a contact in state `current`: unsubscribing
    takes no profile data (unless `refuse_data` is off) or events; an unsubscribed contact may have its profile
    data updated; only a subscriber can be unsubscribed."""
    if pairs and refuse_data and current != "Unsubscribed":
        raise ApiError(
            400,
            "ERROR_UNSUBSCRIBE_WITH_SEGMENTATION_DATA",
            "A contact cannot be unsubscribed with profile data.",
        )
    if current == "Subscribed":
        if events:
            raise ApiError(
                400, "ERROR_UNSUBSCRIBE_WITH_EVENTS", "A contact cannot be unsubscribed with a list of events."
            )
        return
    if current == "Unsubscribed":
        if events:
            raise ApiError(
                400,
                "ERROR_UPDATE_UNSUBSCRIBE_WITH_EVENTS",
                "An unsubscribed contact cannot be updated with a list of events.",
            )
        if not pairs:
            raise ApiError(400, "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS", UNSUBSCRIBED_MESSAGE)
        return
    raise ApiError(400, "ERROR_NOT_SUBSCRIBED_EMAIL_ADDRESS", "The emailAddress is not a subscriber of the list.")
