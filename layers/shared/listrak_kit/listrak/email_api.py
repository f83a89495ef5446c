"""The Email API calls this project makes, each with a bearer token and one replay after a 401."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from listrak_kit.listrak.authorized import AuthorizedListrak
from listrak_kit.listrak.errors import ListrakUnavailable

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class SendReceipt:
    resource_id: str | None

    @property
    def resend_key(self) -> str | None:
        """Listrak's resendKey when the 201 carried one; it has also answered with the string "null"."""
        if self.resource_id and _UUID.match(self.resource_id):
            return self.resource_id
        return None


class EmailApi:
    def __init__(self, listrak: AuthorizedListrak):
        self._listrak = listrak

    def send_transactional(
        self,
        *,
        list_id: int,
        transactional_message_id: int,
        email_address: str,
        segmentation_field_values: list[dict[str, Any]],
    ) -> SendReceipt:
        answer = self._listrak.call(
            "POST",
            f"/v1/List/{list_id}/TransactionalMessage/{transactional_message_id}/Message",
            json={"emailAddress": email_address, "segmentationFieldValues": segmentation_field_values},
            replay_safe=False,
            what="transactional send",
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        resource = body.get("resourceId")
        return SendReceipt(resource_id=str(resource) if resource is not None else None)

    def activity(
        self,
        *,
        list_id: int,
        transactional_message_id: int,
        start_date: str,
        end_date: str,
        page_size: int = 1000,
        max_pages: int = 50,
        email_address: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Activity rows for sends between the dates (to one address if given), following Listrak's cursors."""
        cursor = "Start"
        for _ in range(max_pages):
            params = {
                "dateType": "Send",
                "startDate": start_date,
                "endDate": end_date,
                "cursor": cursor,
                "count": str(page_size),
            }
            if email_address:
                params["emailAddress"] = email_address
            answer = self._listrak.call(
                "GET",
                f"/v1/List/{list_id}/TransactionalMessage/{transactional_message_id}/Activity",
                params=params,
                replay_safe=True,
                what="transactional activity",
            )
            body = answer.body if isinstance(answer.body, dict) else {}
            yield from (row for row in body.get("data") or [] if isinstance(row, dict))
            following = body.get("nextPageCursor")
            if not following:
                return
            cursor = str(following)
        # Activity did not answer for the whole span: what was not read cannot be taken for absence.
        raise ListrakUnavailable(
            f"transactional activity: more than {max_pages} pages; the span was not read to its end",
            status=503,
            code="ACTIVITY_INCOMPLETE",
        )

    def activity_page(
        self,
        *,
        list_id: int,
        transactional_message_id: int,
        date_type: str,
        start_date: str,
        end_date: str,
        cursor: str = "Start",
        page_size: int = 1000,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of Activity rows whose date of `date_type` (Send or Activity) is between the dates, and the
        cursor of the next page (None: this was the last)."""
        answer = self._listrak.call(
            "GET",
            f"/v1/List/{list_id}/TransactionalMessage/{transactional_message_id}/Activity",
            params={
                "dateType": date_type,
                "startDate": start_date,
                "endDate": end_date,
                "cursor": cursor,
                "count": str(page_size),
            },
            replay_safe=True,
            what="transactional activity",
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        following = body.get("nextPageCursor")
        rows = [row for row in body.get("data") or [] if isinstance(row, dict)]
        return rows, str(following) if following else None

    def resend_transactional(
        self,
        *,
        list_id: int,
        transactional_message_id: int,
        resend_key: str,
        forward_address: str | None = None,
    ) -> SendReceipt:
        answer = self._listrak.call(
            "POST",
            f"/v1/List/{list_id}/TransactionalMessage/{transactional_message_id}/Resend/{quote(resend_key)}",
            params={"forwardAddress": forward_address} if forward_address else None,
            replay_safe=False,
            what="transactional resend",
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        resource = body.get("resourceId")
        return SendReceipt(resource_id=str(resource) if resource is not None else None)
