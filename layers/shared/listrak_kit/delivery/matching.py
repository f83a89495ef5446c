"""Which send an Activity row of recipient activity belongs to, by the same rules that settle sends
(listrak_kit.core.activity_match): a row is a send's only when that send is its sole candidate. A row no send can
claim alone is left unmatched, never guessed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from listrak_kit.core.activity_match import KnownAttempt, attempts_of, judge, rows_from
from listrak_kit.core.activity_model import ActivityModel
from listrak_kit.core.send_record import SendRecord


def earliest_send(rows: Iterable[dict[str, Any]], fingerprint: str, model: ActivityModel) -> float | None:
    """The earliest moment any of these rows may have been sent (None: no row has a date and a resendKey)."""
    parsed = rows_from(rows, fingerprint, model)
    return min((row.lo for row in parsed), default=None)


def owners(
    rows: list[dict[str, Any]],
    fingerprint: str,
    records: list[SendRecord],
    model: ActivityModel,
    *,
    span: float,
) -> dict[str, SendRecord]:
    """resendKey -> the send that row belongs to, for each row that has exactly one candidate send."""
    parsed = rows_from(rows, fingerprint, model)
    before, after = model.before_seconds(), model.after_seconds(span)
    known: dict[str, list[KnownAttempt]] = {r.reference: attempts_of(r, after, before) for r in records}
    found: dict[str, SendRecord] = {}
    for record in records:
        ours = known[record.reference]
        others = [a for reference, attempts in known.items() if reference != record.reference for a in attempts]
        # Activity read by activity date never answers for a send's whole span: absence proves nothing here.
        for verdict in judge(ours, others, parsed, complete_before=float("-inf")).values():
            if verdict.kind == "sent" and verdict.resend_key:
                found[verdict.resend_key] = record
    return found
