"""The catalog's SMS messages: Listrak's IDs, a text with `{field}` placeholders, and a bound on its segments.

Listrak sends the text we compose, so the catalog holds it; the check that its worst case (every field at its
maxLength, in the costliest alphabet) fits maxSegments runs when the catalog loads, and so in `make check`.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from listrak_kit.core.fields import INT32_MAX
from listrak_kit.core.segments import SegmentCount, worst_case

PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_-]{0,63})\}")
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
Path_ = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$")]
Id = Annotated[int, Field(gt=0, le=INT32_MAX)]
DEFAULT_FIELD_MAX_LENGTH = 100
MAX_SEGMENTS = 10  # Listrak's SMS API takes at most 1,600 characters: ten segments


def _listed(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _named(value: object) -> object:
    """`fields = ["orderNumber", ...]` is short for `{orderNumber = {}, ...}`."""
    if isinstance(value, list):
        return {name: {} for name in value}
    return value


ListedPaths = Annotated[list[Path_], Field(min_length=1), BeforeValidator(_listed)]


class SmsField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required: bool = False
    # In UTF-16 code units, as Listrak counts a string (an emoji is two); a longer value is refused at send time.
    maxLength: int = Field(DEFAULT_FIELD_MAX_LENGTH, ge=1, le=1600)


class SmsTrigger(BaseModel):
    """An event that sends this SMS: as an email trigger, with `phoneNumber` paths instead of an address."""

    model_config = ConfigDict(extra="forbid")

    detailType: Annotated[str, StringConstraints(min_length=1)]
    when: Annotated[dict[Path_, Annotated[str, StringConstraints(min_length=1)]], Field(max_length=1)] = {}
    phoneNumber: ListedPaths
    reference: Annotated[list[Path_], BeforeValidator(_listed)] = []
    fields: dict[Name, ListedPaths] = {}

    @property
    def condition(self) -> tuple[str, str] | None:
        return next(iter(self.when.items()), None)


class SmsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    senderCodeId: Id
    phoneListId: Id
    transactionalMessageId: Id
    text: Annotated[str, StringConstraints(min_length=1, max_length=1600)]
    fields: Annotated[dict[Name, SmsField], BeforeValidator(_named)] = {}
    maxSegments: int = Field(ge=1, le=MAX_SEGMENTS)
    triggers: list[SmsTrigger] = []

    @cached_property
    def placeholders(self) -> list[str]:
        """Every placeholder, in order, as often as the text holds it."""
        return PLACEHOLDER.findall(self.text)

    def worst_case(self) -> SegmentCount:
        literal = PLACEHOLDER.sub("", self.text)  # what every SMS of this message holds
        return worst_case(literal, [self.fields[name].maxLength for name in self.placeholders])

    @model_validator(mode="after")
    def _consistent(self) -> SmsSpec:
        undeclared = list(dict.fromkeys(n for n in self.placeholders if n not in self.fields))
        if undeclared:
            raise ValueError(f"text has placeholders that are not fields: {', '.join(undeclared)}")
        unused = [n for n in self.fields if n not in self.placeholders]
        if unused:
            raise ValueError(f"fields the text never uses: {', '.join(unused)}")
        for i, trigger in enumerate(self.triggers):
            unknown = [n for n in trigger.fields if n not in self.fields]
            if unknown:
                raise ValueError(f"triggers[{i}].fields names fields this SMS does not have: {', '.join(unknown)}")
        worst = self.worst_case()
        if worst.segments > self.maxSegments:
            raise ValueError(
                f"its worst case takes {worst.segments} segments ({worst.units} {worst.encoding} units, every field "
                f"at its maxLength), more than maxSegments = {self.maxSegments}: shorten the text, lower a field's "
                "maxLength, or raise maxSegments"
            )
        return self

    def render(self, values: dict[str, str]) -> str:
        """The text with each placeholder replaced by its value (an absent optional field by nothing), in one pass:
        a value that looks like a placeholder stays as it is."""
        return PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), self.text)
