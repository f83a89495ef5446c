"""How many SMS segments a text takes: GSM 03.38 (7-bit) when every character is in its alphabet, else UCS-2.

One segment holds 160 septets (GSM-7) or 70 UTF-16 code units (UCS-2). A longer text is split into segments of
153 septets or 67 units (the rest is the concatenation header); a GSM-7 extension character (escape + character,
two septets) and a UTF-16 surrogate pair (an emoji) are never split across two segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # two septets each
SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def unit_sizes(text: str) -> tuple[Encoding, list[int]]:
    """The encoding and how many units each character takes in it."""
    if is_gsm7(text):
        return "GSM-7", [2 if c in GSM7_EXTENSION else 1 for c in text]
    return "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]


def count_segments(text: str) -> SegmentCount:
    encoding, sizes = unit_sizes(text)
    return SegmentCount(encoding, sum(sizes), segments_of(encoding, sizes))


def segments_of(encoding: Encoding, sizes: list[int]) -> int:
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= SINGLE[encoding]:
        return 1
    room, segments, used = PART[encoding], 1, 0
    for size in sizes:
        if used + size > room:  # a two-unit character starts the next segment whole
            segments, used = segments + 1, 0
        used += size
    return segments


def worst_case(literal: str, field_lengths: list[int]) -> SegmentCount:
    """The most segments a text can take when its fields (each up to its maxLength in UTF-16 units) are filled
    with anything: GSM-7 with every field character an extension one, or UCS-2 (the literal's own encoding
    decides whether GSM-7 is possible at all)."""
    filled = sum(field_lengths)
    _, literal_units = unit_sizes(literal)
    ucs2 = [2 if ord(c) > 0xFFFF else 1 for c in literal] + [1] * filled
    candidates = [SegmentCount("UCS-2", sum(ucs2), segments_of("UCS-2", ucs2))]
    if is_gsm7(literal):
        gsm = literal_units + [2] * filled
        candidates.append(SegmentCount("GSM-7", sum(gsm), segments_of("GSM-7", gsm)))
    return max(candidates, key=lambda c: (c.segments, c.units))
