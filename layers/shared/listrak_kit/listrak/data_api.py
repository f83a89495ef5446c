"""The Data Import API: five routes that each take a JSON array of records."""

from __future__ import annotations

from listrak_kit.listrak.authorized import AuthorizedListrak
from listrak_kit.listrak.errors import ListrakNotFound, ListrakRejected

# Listrak answers a body over 250 MB with a 404; chunks are kept far below it.
LISTRAK_MAX_BODY_BYTES = 262_144_000


class ImportTooLarge(ListrakRejected):
    """Listrak answered 404 on a known Data route: it does that for bodies over its size limit."""


class DataApi:
    def __init__(self, listrak: AuthorizedListrak):
        self._listrak = listrak

    def import_records(self, route: str, body: bytes) -> str | None:
        """POSTs an already serialized JSON array; returns Listrak's resourceId (often null)."""
        try:
            answer = self._listrak.call("POST", f"/v1/{route}", body=body, replay_safe=False, what=f"{route} import")
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
