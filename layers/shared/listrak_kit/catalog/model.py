"""The catalog file (TOML), validated on load; every error names the entry it is about."""

from __future__ import annotations

import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from listrak_kit.core.fields import INT32_MAX, MESSAGE_NAME
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

    @model_validator(mode="after")
    def _has_slots(self) -> ItemBlock:
        if not self.placeholders:
            raise ValueError("template has no {Placeholder} slot")
        return self


class EventMapping(BaseModel):
    """Where a storefront event's `detail` holds the address, fields, items and reference (dotted paths)."""

    model_config = ConfigDict(extra="forbid")

    detailTypes: Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1)]
    emailAddress: Path_
    reference: Path_ | None = "unique_id"
    items: Path_ | None = None
    fields: dict[Name, Path_] = {}


class MessageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    listId: Id
    transactionalMessageId: Id
    fields: dict[Name, Id] = {}
    items: ItemBlock | None = None
    event: EventMapping | None = None

    @model_validator(mode="after")
    def _consistent(self) -> MessageSpec:
        seen: dict[int, str] = {}
        for name, field_id in self.fields.items():
            if field_id in seen:
                raise ValueError(f"fields {seen[field_id]} and {name} share segmentationFieldId {field_id}")
            seen[field_id] = name
        if self.items is not None and self.items.field not in self.fields:
            raise ValueError(f"items.field {self.items.field!r} is not one of this message's fields")
        if self.event is not None:
            unknown = [n for n in self.event.fields if n not in self.fields]
            if unknown:
                raise ValueError(f"event.fields names fields this message does not have: {', '.join(unknown)}")
            if self.event.items and self.items is None:
                raise ValueError("event.items is set but the message has no item block")
        return self


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: dict[Annotated[str, StringConstraints(pattern=MESSAGE_NAME)], MessageSpec]

    @model_validator(mode="after")
    def _unique_triggers(self) -> Catalog:
        owner: dict[str, str] = {}
        for name, spec in self.messages.items():
            for detail_type in spec.event.detailTypes if spec.event else []:
                if detail_type in owner:
                    raise ValueError(f"detail-type {detail_type!r} triggers both {owner[detail_type]} and {name}")
                owner[detail_type] = name
        return self

    @cached_property
    def by_detail_type(self) -> dict[str, str]:
        return {dt: name for name, spec in self.messages.items() if spec.event for dt in spec.event.detailTypes}


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
