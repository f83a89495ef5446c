"""Each profile field's own maxLength, as Listrak declares it: a rendered item block longer than its field's is
refused here, before anything is sent, instead of by Listrak (whose refusal would come back as a 502)."""

from __future__ import annotations

from typing import Any, Protocol

from listrak_kit.clock import Clock
from listrak_kit.errors import ConfigurationError
from listrak_kit.listrak.errors import ListrakInvalidCredentials
from listrak_kit.observability import logger

KEEP_SECONDS = 3600.0  # the lengths of a list's fields, per container
RETRY_SECONDS = 60.0  # after a failed lookup (the check is skipped meanwhile: Listrak still refuses)


class ProfileFields(Protocol):
    def field_groups(self, list_id: int) -> list[dict[str, Any]]: ...

    def fields(self, list_id: int, group_id: Any) -> list[dict[str, Any]]: ...


class FieldLengths:
    def __init__(self, contacts: ProfileFields, clock: Clock):
        self._contacts = contacts
        self._clock = clock
        self._known: dict[int, tuple[float, dict[int, int]]] = {}

    def max_length(self, list_id: int, field_id: int) -> int | None:
        now = self._clock.now()
        kept = self._known.get(list_id)
        if kept is None or now >= kept[0]:
            kept = self._look_up(list_id, now)
            self._known[list_id] = kept
        return kept[1].get(field_id)

    def _look_up(self, list_id: int, now: float) -> tuple[float, dict[int, int]]:
        try:
            lengths = {
                int(field["segmentationFieldId"]): int(field["maxLength"])
                for group in self._contacts.field_groups(list_id)
                for field in self._contacts.fields(list_id, group["segmentationFieldGroupId"])
                if field.get("maxLength") is not None
            }
        except (ListrakInvalidCredentials, ConfigurationError):
            raise  # misconfigured: the send would fail the same way; said once, as such
        except Exception:
            logger.warning("profile field lengths not read; Listrak checks them itself", extra={"listId": list_id})
            return now + RETRY_SECONDS, {}
        return now + KEEP_SECONDS, lengths
