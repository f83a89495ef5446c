"""Which Activity row is which send: Listrak's rows carry no reference, only the message, the address and a date.

A row is taken as an attempt's only when that attempt is the sole candidate for it, after every other attempt the
product knows of for the same message and address has been counted:

- a row whose resendKey a send here already holds is that send's;
- an attempt that is a row's only candidate owns that row, and (one email, one row) is no candidate for any other;
- an attempt known to have been sent, whose span Activity has answered for in full, owns its row when exactly one
  row is left that it could be.

The rules are applied until nothing changes. What is left decides: an attempt that owns a row was sent (with that
row's resendKey); an attempt no row is left for is absent; anything else is ambiguous and is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from listrak_kit.clock import from_iso
from listrak_kit.core.activity_model import ActivityModel
from listrak_kit.core.send_record import Attempt, SendRecord
from listrak_kit.masking import email_fingerprint

_ZONED = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


@dataclass(frozen=True)
class KnownAttempt:
    reference: str
    n: int
    start: float  # the earliest an Activity row for it may be dated (its start, less Listrak's clock offset)
    end: float  # the latest an Activity row for it may be dated
    sent: bool | None  # True: known sent; False: known not sent; None: unknown
    resend_key: str | None = None
    started: float = 0.0  # when it was made


@dataclass(frozen=True)
class Row:
    resend_key: str
    at: float  # its date as read (a zone-less date read as UTC)
    lo: float  # when it may have been sent, zone considered
    hi: float
    naive: bool = False

    def could_be(self, attempt: KnownAttempt) -> bool:
        return attempt.start <= self.hi and self.lo <= attempt.end


@dataclass(frozen=True)
class Verdict:
    kind: Literal["sent", "absent", "ambiguous"]
    n: int | None = None  # the attempt the row belongs to ("sent")
    resend_key: str | None = None
    at: float | None = None  # the row's date ("sent")


def attempts_of(record: SendRecord, after: float, before: float = 0.0) -> list[KnownAttempt]:
    """A record's attempts, each with what is known of whether it was sent, and when its row may be dated: from
    `before` seconds before its start to `after` seconds after it."""
    known = []
    attempts = record.attempts or [Attempt(n=1, startedAt=record.sentAt)]  # a record made before attempts were kept
    last = attempts[-1].n
    for attempt in attempts:
        start = from_iso(attempt.startedAt)
        sent: bool | None
        if attempt.resolvedBy == "resend" or attempt.outcome == "refused" or record.status == "failed":
            sent = False
        elif (attempt.n == last and record.status == "sent") or attempt.outcome == "accepted":
            sent = True
        else:
            sent = None
        key = record.resendKey if (sent and attempt.n == last) else None
        known.append(KnownAttempt(record.reference, attempt.n, start - before, start + after, sent, key, start))
    return known


def judge(
    ours: list[KnownAttempt], others: list[KnownAttempt], rows: list[Row], *, complete_before: float
) -> dict[int, Verdict]:
    """A verdict for each of `ours` (by attempt number). `complete_before`: Activity has shown every row of an
    attempt whose span ended before it."""
    everyone = [a for a in [*ours, *others] if a.sent is not False]
    owner: dict[int, KnownAttempt] = {}  # row index -> the attempt that owns it
    owned: set[tuple[str, int]] = set()
    by_key = {a.resend_key: a for a in everyone if a.resend_key}
    for i, row in enumerate(rows):
        if row.resend_key in by_key:
            holder = by_key[row.resend_key]
            owner[i] = holder
            owned.add((holder.reference, holder.n))

    def candidates(i: int) -> list[KnownAttempt]:
        return [a for a in everyone if (a.reference, a.n) not in owned and a.resend_key is None and rows[i].could_be(a)]

    changed = True
    while changed:
        changed = False
        for i in range(len(rows)):
            if i in owner:
                continue
            found = candidates(i)
            if len(found) == 1:
                owner[i] = found[0]
                owned.add((found[0].reference, found[0].n))
                changed = True
        for attempt in everyone:
            if attempt.sent is not True or (attempt.reference, attempt.n) in owned or attempt.end >= complete_before:
                continue
            left = [i for i in range(len(rows)) if i not in owner and attempt in candidates(i)]
            if len(left) == 1:
                owner[left[0]] = attempt
                owned.add((attempt.reference, attempt.n))
                changed = True

    verdicts: dict[int, Verdict] = {}
    for attempt in ours:
        mine = [i for i, a in owner.items() if (a.reference, a.n) == (attempt.reference, attempt.n)]
        # A row no send known here can be: something unknown sent this message to this address in our span.
        orphans = [i for i, row in enumerate(rows) if i not in owner and not candidates(i) and row.could_be(attempt)]
        if orphans:
            verdicts[attempt.n] = Verdict("ambiguous", attempt.n)
        elif mine:
            row = rows[min(mine, key=lambda i: rows[i].at)]
            verdicts[attempt.n] = Verdict("sent", attempt.n, row.resend_key, row.at)
        elif attempt.sent is False or not any(attempt in candidates(i) for i in range(len(rows)) if i not in owner):
            verdicts[attempt.n] = Verdict("absent", attempt.n)
        else:
            verdicts[attempt.n] = Verdict("ambiguous", attempt.n)
    return verdicts


def rows_from(raw: Iterable[dict[str, Any]], fingerprint: str, model: ActivityModel) -> list[Row]:
    """The Activity rows of one address (matched by fingerprint), with a resendKey and a date."""
    rows = []
    for row in raw:
        key, address, send_date = row.get("resendKey"), row.get("emailAddress"), row.get("sendDate")
        if not key or not isinstance(address, str) or not isinstance(send_date, str):
            continue
        if email_fingerprint(address) == fingerprint:
            naive = not _ZONED.search(send_date)
            at = from_iso(send_date if not naive else send_date + "Z")
            lo, hi = model.date_bounds(at, naive)
            rows.append(Row(str(key), at, lo, hi, naive))
    return rows
