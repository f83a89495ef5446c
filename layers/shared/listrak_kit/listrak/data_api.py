"""The Data Import API: five routes that each take a JSON array of records."""

from __future__ import annotations

from listrak_kit.listrak.authorized import AuthorizedListrak
from listrak_kit.listrak.errors import ListrakNotFound, ListrakRejected

# Listrak answers a body over 250 MB with a 404; chunks are kept far below it.
LISTRAK_MAX_BODY_BYTES = 262_144_000
# A chunk is retried in-process this many times at most (and never past the time its caller has left).
IMPORT_ATTEMPTS = 8
IMPORT_RETRY_BUDGET_SECONDS = 120.0


class ImportTooLarge(ListrakRejected):
    """Listrak answered 404 on a known Data route: it does that for bodies over its size limit."""


class DataApi:
    def __init__(
        self,
        listrak: AuthorizedListrak,
        *,
        attempts: int = IMPORT_ATTEMPTS,
        budget_seconds: float = IMPORT_RETRY_BUDGET_SECONDS,
    ):
        self._listrak = listrak
        self.attempts = attempts
        self.budget_seconds = budget_seconds

    def import_records(self, route: str, body: bytes, *, budget_seconds: float | None = None) -> str | None:
        """POSTs an already serialized JSON array; returns Listrak's resourceId (often null).

        Replay-safe, so retried even after an ambiguous answer (a read timeout, a connection dropped after the body
        was written): every Data Import route upserts by the record's natural key (`orderNumber`, `sku`, `email`,
        `providerReviewID`, `providerProductID`), so a repeated chunk re-applies the same records and adds none.
        Bounded by IMPORT_ATTEMPTS and by `budget_seconds` (what the invocation can spare).
        """
        budget = (
            IMPORT_RETRY_BUDGET_SECONDS if budget_seconds is None else min(budget_seconds, IMPORT_RETRY_BUDGET_SECONDS)
        )
        try:
            answer = self._listrak.call(
                "POST",
                f"/v1/{route}",
                body=body,
                replay_safe=True,
                what=f"{route} import",
                max_attempts=self.attempts,
                budget_seconds=max(0.0, budget),
            )
        except ListrakNotFound as exc:
            raise ImportTooLarge(
                f"Listrak refused a {len(body)}-byte {route} import with 404, its answer to an over-size body; "
                "lower IMPORT_CHUNK_MAX_BYTES",
                status=404,
                code=exc.code,
                detail=exc.detail,
            ) from exc
        data = answer.body if isinstance(answer.body, dict) else {}
        resource = data.get("resourceId")
        return None if resource is None else str(resource)
