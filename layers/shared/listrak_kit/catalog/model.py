"""The catalog file (TOML), validated on load; every error names the entry it is about."""

from __future__ import annotations

import html
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from listrak_kit.catalog.sms import SmsSpec, SmsTrigger
from listrak_kit.core.fields import INT32_MAX, MESSAGE_NAME
from listrak_kit.core.paths import lookup
from listrak_kit.errors import ConfigurationError

PLACEHOLDER = re.compile(r"\{([^{}\s][^{}]*)\}")
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
Path_ = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$")]
Id = Annotated[int, Field(gt=0, le=INT32_MAX)]


class ItemBlock(BaseModel):
    """A repeating block: `template` is HTML with `{Placeholder}` slots filled from each item's keys."""

    model_config = ConfigDict(extra="forbid")

    field: Name
    template: Annotated[str, StringConstraints(min_length=1)]

    @cached_property
    def placeholders(self) -> list[str]:
        return list(dict.fromkeys(PLACEHOLDER.findall(self.template)))

    @cached_property
    def segments(self) -> list[tuple[str, str | None]]:
        """The template in order as (HTML-escaped literal, None) and ("", slot) pieces, for bounded rendering."""
        pieces: list[tuple[str, str | None]] = []
        position = 0
        for match in PLACEHOLDER.finditer(self.template):
            if match.start() > position:
                pieces.append((html.escape(self.template[position : match.start()]), None))
            pieces.append(("", match.group(1)))
            position = match.end()
        if position < len(self.template):
            pieces.append((html.escape(self.template[position:]), None))
        return pieces

    @model_validator(mode="after")
    def _has_slots(self) -> ItemBlock:
        if not self.placeholders:
            raise ValueError("template has no {Placeholder} slot")
        return self


class EventMapping(BaseModel):
    """The simplified trigger: `detailTypes`, and dotted paths into the event's `detail` (profile, properties)."""

    model_config = ConfigDict(extra="forbid")

    detailTypes: Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1)]
    emailAddress: Path_
    reference: Path_ | None = "unique_id"
    items: Path_ | None = None
    fields: dict[Name, Path_] = {}

    def triggers(self) -> list[Trigger]:
        return [
            Trigger(
                detailType=detail_type,
                emailAddress=self.emailAddress,
                reference=[self.reference] if self.reference else [],
                items=self.items,
                fields=self.fields,
            )
            for detail_type in self.detailTypes
        ]


Paths = Annotated[list[Path_], Field(min_length=1)]


def _listed(value: object) -> object:
    return [value] if isinstance(value, str) else value


ListedPaths = Annotated[Paths, BeforeValidator(_listed)]


class Trigger(BaseModel):
    """An event that sends this message, as the platform emits it: its detail-type and, optionally, the value at
    one path of its `detail` (a Shopify topic, a Klaviyo metric name). Every other entry is a dotted path into
    `detail`, or a list of them (the first one present wins)."""

    model_config = ConfigDict(extra="forbid")

    detailType: Annotated[str, StringConstraints(min_length=1)]
    when: Annotated[dict[Path_, Annotated[str, StringConstraints(min_length=1)]], Field(max_length=1)] = {}
    emailAddress: ListedPaths
    # The platform's own id of the event; without one, the EventBridge event id is the key.
    reference: Annotated[list[Path_], BeforeValidator(_listed)] = []
    items: Path_ | None = None
    # Item block slot -> path inside each item (default: the slot's own name), and values for slots an item lacks.
    itemFields: dict[Name, ListedPaths] = {}
    itemDefaults: dict[Name, str] = {}
    fields: dict[Name, ListedPaths] = {}

    @property
    def condition(self) -> tuple[str, str] | None:
        return next(iter(self.when.items()), None)


class FieldSpec(BaseModel):
    """A profile field written as a table: `resetLink = { id = 5109, required = true }`."""

    model_config = ConfigDict(extra="forbid")

    id: Id
    # A send without it (or with it blank) is refused before Listrak is called: a reset email without its link
    # is worse than none.
    required: bool = False


class MessageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    listId: Id
    transactionalMessageId: Id
    fields: dict[Name, Id] = {}
    # Filled from the fields written `{ id = N, required = true }`; not a key of its own in the file.
    requiredFields: Annotated[list[Name], Field(exclude=True)] = []
    items: ItemBlock | None = None
    event: EventMapping | None = None
    triggers: list[Trigger] = []
    # May support resend this message to another address? false for anything whose content acts on the account
    # (a password-reset or sign-in link, an address verification): sent elsewhere, it hands the account over.
    redirect: bool = True
    # When Listrak's answer was ambiguous and its Activity can neither confirm nor be trusted to refute the send:
    # "never-twice" (the default) leaves it unconfirmed and alarmed; "send-again" sends it once more (at least
    # once: two emails beat none for, say, a password reset).
    ambiguous: Literal["never-twice", "send-again"] = "never-twice"

    @model_validator(mode="before")
    @classmethod
    def _field_tables(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        if "requiredFields" in data:
            raise ValueError("requiredFields is not a catalog key: write the field as { id = N, required = true }")
        fields = data.get("fields")
        if not isinstance(fields, dict):
            return data
        ids: dict[object, object] = {}
        required: list[object] = []
        for name, value in fields.items():
            if isinstance(value, dict):
                try:
                    spec = FieldSpec.model_validate(value)
                except ValidationError as exc:
                    problems = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
                    raise ValueError(f"fields.{name}: {problems}") from None
                ids[name] = spec.id
                if spec.required:
                    required.append(name)
            else:
                ids[name] = value
        return {**data, "fields": ids, "requiredFields": required}

    def missing_required(self, given: dict[str, str], *, has_items: bool) -> list[str]:
        """The required fields a send lacks or leaves blank (the item block's field counts as given with items)."""
        block = self.items.field if self.items is not None else None
        return [
            name
            for name in self.requiredFields
            if not (has_items if name == block else bool(given.get(name, "").strip()))
        ]

    @model_validator(mode="after")
    def _consistent(self) -> MessageSpec:
        seen: dict[int, str] = {}
        for name, field_id in self.fields.items():
            if field_id in seen:
                raise ValueError(f"fields {seen[field_id]} and {name} share segmentationFieldId {field_id}")
            seen[field_id] = name
        if self.items is not None and self.items.field not in self.fields:
            raise ValueError(f"items.field {self.items.field!r} is not one of this message's fields")
        for where, trigger in self.all_triggers():
            unknown = [n for n in trigger.fields if n not in self.fields]
            if unknown:
                raise ValueError(f"{where}.fields names fields this message does not have: {', '.join(unknown)}")
            if trigger.items and self.items is None:
                raise ValueError(f"{where}.items is set but the message has no item block")
            slots = self.items.placeholders if self.items else []
            stray = [n for n in (*trigger.itemFields, *trigger.itemDefaults) if n not in slots]
            if stray:
                raise ValueError(f"{where} maps item slots the item block does not have: {', '.join(stray)}")
        return self

    def all_triggers(self) -> list[tuple[str, Trigger]]:
        simplified = [("event", t) for t in self.event.triggers()] if self.event else []
        return [*simplified, *((f"triggers[{i}]", t) for i, t in enumerate(self.triggers))]


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: dict[Annotated[str, StringConstraints(pattern=MESSAGE_NAME)], MessageSpec]
    sms: dict[Annotated[str, StringConstraints(pattern=MESSAGE_NAME)], SmsSpec] = {}

    @model_validator(mode="after")
    def _unique_triggers(self) -> Catalog:
        self._index()  # raises on any ambiguity
        both = sorted(set(self.messages) & set(self.sms))
        if both:  # one name, one message: requests and references name it
            raise ValueError(f"names used by both an email and an SMS message: {', '.join(both)}")
        self._sms_index()
        return self

    def _sms_index(self) -> dict[str, TriggerIndex[SmsTrigger]]:
        index: dict[str, TriggerIndex[SmsTrigger]] = {}
        for name, spec in self.sms.items():
            for trigger in spec.triggers:
                entry = index.setdefault(trigger.detailType, TriggerIndex(detail_type=trigger.detailType))
                entry.add(name, trigger)
        return index

    @cached_property
    def sms_triggers(self) -> dict[str, TriggerIndex[SmsTrigger]]:
        """detail-type -> which SMS message each event of that type triggers (beside any email it triggers)."""
        return self._sms_index()

    def sms_trigger_for(self, *, detail_type: str, detail: Any) -> tuple[str, SmsTrigger] | None:
        """The SMS message this event triggers and how to read it, or None."""
        entry = self.sms_triggers.get(detail_type)
        if entry is None or not isinstance(detail, dict):
            return None
        if entry.unconditional is not None:
            return entry.unconditional
        assert entry.path is not None
        value = lookup(detail, entry.path)
        return entry.by_value.get(value) if isinstance(value, str) else None

    def _index(self) -> dict[str, TriggerIndex[Trigger]]:
        index: dict[str, TriggerIndex[Trigger]] = {}
        for name, spec in self.messages.items():
            for _, trigger in spec.all_triggers():
                entry = index.setdefault(trigger.detailType, TriggerIndex(detail_type=trigger.detailType))
                entry.add(name, trigger)
        return index

    @cached_property
    def triggers(self) -> dict[str, TriggerIndex[Trigger]]:
        """detail-type -> which message each event of that type triggers."""
        return self._index()

    def unknown_message(self, name: str) -> str:
        """Why a message name is refused, with the catalog's nearest names (a typo is the usual cause)."""
        import difflib

        near = difflib.get_close_matches(name, list(self.messages), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        return f"message {name!r} is not in the catalog{hint}"

    def redirect_allowed(self, *, message: str | None, list_id: int, transactional_message_id: int) -> bool:
        """A message's `redirect` flag; for raw IDs, that of every catalog message with the same IDs (default on)."""
        if message is not None and message in self.messages:
            return self.messages[message].redirect
        same = [
            m
            for m in self.messages.values()
            if (m.listId, m.transactionalMessageId) == (list_id, transactional_message_id)
        ]
        return all(m.redirect for m in same)

    def sends_again_if_unsure(self, message: str | None) -> bool:
        return message is not None and message in self.messages and self.messages[message].ambiguous == "send-again"

    @cached_property
    def by_detail_type(self) -> dict[str, str]:
        """The detail-types of the simplified format (one message each)."""
        return {dt: entry.unconditional[0] for dt, entry in self.triggers.items() if entry.unconditional}


class Conditional(Protocol):
    @property
    def condition(self) -> tuple[str, str] | None: ...


T = TypeVar("T", bound=Conditional)


@dataclass
class TriggerIndex(Generic[T]):
    """The triggers sharing one detail-type: all test the same path (or none does), each for its own value."""

    detail_type: str
    path: str | None = None
    unconditional: tuple[str, T] | None = None
    by_value: dict[str, tuple[str, T]] = field(default_factory=dict)

    def add(self, name: str, trigger: T) -> None:
        condition = trigger.condition
        if condition is None:
            if self.unconditional or self.by_value:
                other = self.unconditional[0] if self.unconditional else next(iter(self.by_value.values()))[0]
                raise ValueError(f"detail-type {self.detail_type!r} triggers both {other} and {name}")
            self.unconditional = (name, trigger)
            return
        path, value = condition
        if self.unconditional:
            raise ValueError(f"detail-type {self.detail_type!r} triggers both {self.unconditional[0]} and {name}")
        if self.path is not None and path != self.path:
            raise ValueError(
                f"the triggers on detail-type {self.detail_type!r} test different paths ({self.path}, {path}); "
                "use one path per detail-type"
            )
        if value in self.by_value:
            raise ValueError(
                f"{path} = {value!r} on detail-type {self.detail_type!r} triggers both {self.by_value[value][0]} "
                f"and {name}"
            )
        self.path = path
        self.by_value[value] = (name, trigger)


def load_catalog(path: str | Path) -> Catalog:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"catalog {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"catalog {path} is not valid TOML: {exc}") from None
    try:
        return Catalog.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"catalog {path} is invalid: {problems}") from None
