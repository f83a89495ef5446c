"""The catalog checked against the Listrak account the stack runs with, before a wrong ID reaches a customer.

`make check` checks the catalog against the template; only Listrak knows whether its IDs are real. This asks, with
the stack's own Email credentials (the send function's secrets, the same shared token): every list and
transactional message exists, every profile field exists on its list, the item block's field can hold at least one
rendered item, and Activity is readable (without it an ambiguous send can never be confirmed). One line per finding.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from listrak_ops.stack import StackResources

SEND_FUNCTION = "SendApiFunction"  # its environment names the Email integration's secrets and Listrak's URLs


@dataclass
class Report:
    findings: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        ok = f"checked: {', '.join(self.checked)}" if self.checked else "nothing was checked"
        return [*self.findings, ok]


def email_client(stack: StackResources) -> Any:
    """The Email integration's client, built by the layer's composition root from the send function's settings."""
    from listrak_kit.services import email_client as build
    from listrak_kit.settings import EmailSettings

    return build(EmailSettings.model_validate(stack.function_env(SEND_FUNCTION)))


def diagnose(catalog: Any, listrak: Any, *, now: datetime | None = None) -> Report:
    from listrak_kit.listrak.errors import ListrakError, ListrakNotFound

    report = Report()
    by_list: dict[int, list[tuple[str, Any]]] = {}
    for name, spec in catalog.messages.items():
        by_list.setdefault(spec.listId, []).append((name, spec))
    messages = fields = 0
    for list_id, specs in sorted(by_list.items()):
        try:
            known = {
                m.get("transactionalMessageId") for m in _data(listrak, f"/v1/List/{list_id}/TransactionalMessage")
            }
        except ListrakNotFound:
            names = ", ".join(n for n, _ in specs)
            report.findings.append(f"list {list_id} (used by {names}): Listrak has no such list for this integration")
            continue
        except ListrakError as exc:
            report.findings.append(f"list {list_id}: could not be checked: {exc}")
            continue
        profile = _profile_fields(listrak, list_id, report)
        for name, spec in specs:
            messages += 1
            if spec.transactionalMessageId not in known:
                report.findings.append(
                    f"messages.{name}.transactionalMessageId = {spec.transactionalMessageId}: "
                    f"no such transactional message on list {list_id}"
                )
            if profile is None:
                continue
            for field_name, field_id in spec.fields.items():
                fields += 1
                found = profile.get(field_id)
                if found is None:
                    report.findings.append(
                        f"messages.{name}.fields.{field_name} = {field_id}: no such profile field on list {list_id}"
                    )
                elif spec.items is not None and spec.items.field == field_name:
                    one_item = len(html.escape(spec.items.template))
                    if found[1] < one_item:
                        report.findings.append(
                            f"messages.{name}.fields.{field_name} = {field_id}: Listrak's field {found[0]!r} "
                            f"holds {found[1]} characters, less than one item of the escaped template ({one_item})"
                        )
        _activity(listrak, list_id, specs[0][1].transactionalMessageId, report, now or datetime.now(UTC))
    report.checked.append(f"{messages} message(s) on {len(by_list)} list(s), {fields} profile field(s), Activity")
    return report


def _profile_fields(listrak: Any, list_id: int, report: Report) -> dict[int, tuple[str, int]] | None:
    """segmentationFieldId -> (name, maxLength) of every field of the list's groups; None if they can't be read."""
    from listrak_kit.listrak.errors import ListrakError

    try:
        found: dict[int, tuple[str, int]] = {}
        for group in _data(listrak, f"/v1/List/{list_id}/SegmentationFieldGroup"):
            group_id = group.get("segmentationFieldGroupId")
            for item in _data(listrak, f"/v1/List/{list_id}/SegmentationFieldGroup/{group_id}/SegmentationField"):
                found[int(item["segmentationFieldId"])] = (
                    str(item.get("segmentationFieldName")),
                    int(item.get("maxLength") or 0),
                )
        return found
    except ListrakError as exc:
        report.findings.append(f"list {list_id}: its profile fields could not be read: {exc}")
        return None


def _activity(listrak: Any, list_id: int, message_id: int, report: Report, now: datetime) -> None:
    from listrak_kit.listrak.errors import ListrakError, ListrakRejected, ListrakUnauthorized

    params = {
        "dateType": "Send",
        "startDate": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "endDate": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cursor": "Start",
        "count": "1",
    }
    path = f"/v1/List/{list_id}/TransactionalMessage/{message_id}/Activity"
    try:
        listrak.call("GET", path, params=params, replay_safe=True, what="transactional activity")
    except (ListrakUnauthorized, ListrakRejected) as exc:
        if exc.status in (401, 403):
            report.findings.append(
                f"list {list_id}: Listrak refused Activity ({exc.status}): give the Email integration Listrak's "
                "reporting (Activity) permission, or ambiguous sends can never be confirmed"
            )
        else:
            report.findings.append(f"list {list_id}: Activity answered {exc.status}: {exc}")
    except ListrakError as exc:
        report.findings.append(f"list {list_id}: Activity could not be checked: {exc}")


def _data(listrak: Any, path: str) -> list[dict[str, Any]]:
    answer = listrak.call("GET", path, replay_safe=True, what="catalog check")
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    return [item for item in data or [] if isinstance(item, dict)]
