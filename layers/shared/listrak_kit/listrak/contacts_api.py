"""The Email API's list, profile field, contact and ListImport calls that audience sync makes."""

from __future__ import annotations

from typing import Any

from listrak_kit.listrak.authorized import AuthorizedListrak


class ContactsApi:
    def __init__(self, listrak: AuthorizedListrak):
        self._listrak = listrak

    def lists(self) -> list[dict[str, Any]]:
        return self._data("/v1/List", "list lookup")

    def field_groups(self, list_id: int) -> list[dict[str, Any]]:
        return self._data(f"/v1/List/{list_id}/SegmentationFieldGroup", "profile field groups")

    def fields(self, list_id: int, group_id: Any) -> list[dict[str, Any]]:
        return self._data(f"/v1/List/{list_id}/SegmentationFieldGroup/{group_id}/SegmentationField", "profile fields")

    def upsert_contact(self, list_id: int, body: dict[str, Any], *, override_unsubscribe: bool) -> None:
        self._listrak.call(
            "POST",
            f"/v1/List/{list_id}/Contact",
            json=body,
            params={"overrideUnsubscribe": "true"} if override_unsubscribe else None,
            replay_safe=True,
            what="contact upsert",
        )

    def start_list_import(self, list_id: int, body: dict[str, Any]) -> str:
        """Submits a ListImport; returns its id (Listrak's resourceId)."""
        answer = self._listrak.call(
            "POST", f"/v1/List/{list_id}/ListImport", json=body, replay_safe=False, what="list import"
        )
        return str(answer.body.get("resourceId")) if isinstance(answer.body, dict) else ""

    def list_import_status(self, list_id: int, import_id: str) -> str:
        answer = self._listrak.call(
            "GET", f"/v1/List/{list_id}/ListImport/{import_id}/Status", replay_safe=True, what="list import status"
        )
        data = answer.body.get("data") if isinstance(answer.body, dict) else {}
        return str((data or {}).get("status") or "")

    def list_import_summary(self, list_id: int, import_id: str) -> dict[str, Any]:
        answer = self._listrak.call(
            "GET", f"/v1/List/{list_id}/ListImport/{import_id}/Summary", replay_safe=True, what="list import summary"
        )
        return dict(answer.body.get("data") or {}) if isinstance(answer.body, dict) else {}

    def _data(self, path: str, what: str) -> list[dict[str, Any]]:
        answer = self._listrak.call("GET", path, replay_safe=True, what=what)
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        return [item for item in data or [] if isinstance(item, dict)]
