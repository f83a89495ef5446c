"""listrak-sam send ...: a send's state and delivery, sends by state or by address, an operator's word, resends
through the signed support route, and the log lines of one send."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from listrak_ops.output import emit

CATALOG = "functions/send/catalog.toml"
SEND_STATES = ("sending", "pending", "unconfirmed", "sent", "failed")
# The state machine's own fields: the payload holds the address while a send is unsettled, and never leaves.
PRIVATE_FIELDS = {"payload", "payloadHash", "attemptToken", "emailFingerprint"}


def send_show(args: argparse.Namespace, stack: Any) -> int:
    from listrak_kit.aws.clients import aws_client
    from listrak_kit.aws.send_records import DynamoSendRecords
    from listrak_ops.sends import with_delivery

    aws_client.cache_clear()
    record = DynamoSendRecords(stack.table).get(args.reference)
    if record is None:
        print(f"no send {args.reference!r} in {stack.where} (never sent, or past the resend window)", file=sys.stderr)
        return 1
    view = with_delivery(record, PRIVATE_FIELDS)
    emit(args, view, send_text(view))
    return 0


def delivery_text(delivery: dict[str, Any]) -> str:
    reason = f" ({delivery['bounceReason']})" if delivery.get("bounceReason") else ""
    seen = ", ".join(f"{kind} {at}" for kind, at in delivery.get("seen", {}).items() if kind != "sent")
    return f"{delivery['status']}{reason}" + (f"; seen: {seen}" if seen else "")


def send_history(args: argparse.Namespace, stack: Any) -> int:
    from listrak_kit.aws.clients import aws_client
    from listrak_kit.masking import mask_email
    from listrak_ops.sends import history, with_delivery

    aws_client.cache_clear()
    found = [with_delivery(r, PRIVATE_FIELDS) for r in history(stack.table, args.email_address)]
    lines = [
        f"{r['reference']}  {r['status']}  {r.get('message') or '(raw ids)'}  sent at {r['sentAt']}  "
        f"delivery {delivery_text(r['delivery'])}"
        for r in found
    ]
    to = mask_email(args.email_address)
    emit(args, found, "\n".join([f"sends to {to}:", *lines]) if lines else f"no sends to {to} in {stack.where}")
    return 0


def send_text(view: dict[str, Any]) -> str:
    """A send record for people: one fact a line, its attempts and resends indented below."""
    ids = f"list {view.get('listId')}, transactional message {view.get('transactionalMessageId')}"
    lines = [
        f"reference         {view['reference']}",
        f"status            {view['status']}" + (f": {view['failure']}" if view.get("failure") else ""),
        f"message           {view.get('message') or '(raw ids)'} ({ids})",
        f"to                {view.get('emailMasked')}",
        f"sent at           {view.get('sentAt')}",
        f"resendable until  {view.get('resendableUntil')}"
        + ("" if view.get("resendKey") else " (no resendKey yet: Listrak's activity will give it)"),
        f"delivery          {delivery_text(view['delivery'])}",
    ]
    attempts = view.get("attempts") or []
    if attempts:
        lines.append(f"attempts ({len(attempts)}):")
        for attempt in attempts:
            settled = f", settled by {attempt['resolvedBy']}" if attempt.get("resolvedBy") else ""
            detail = f": {attempt['detail']}" if attempt.get("detail") else ""
            lines.append(f"  {attempt.get('n')}. {attempt.get('startedAt')}  {attempt.get('outcome')}{settled}{detail}")
    resends = view.get("resends") or []
    lines.append(f"resends ({len(resends)}):" if resends else "resends: none")
    for resend in resends:
        to = f"to {resend.get('toMasked')}" + (" (redirected)" if resend.get("redirected") else "")
        by = f" by {resend['credential']}" if resend.get("credential") else ""
        lines.append(f"  {resend.get('at')}  {resend.get('status')} {to}{by}")
    return "\n".join(lines)


def send_list(args: argparse.Namespace, stack: Any) -> int:
    from listrak_kit.aws.clients import aws_client
    from listrak_ops.sends import by_status, unsettled

    aws_client.cache_clear()
    if args.status in (None, "sending", "pending", "unconfirmed"):  # the sparse reconcile index holds exactly those
        newest = sorted(unsettled(stack.table, args.status), key=lambda r: (r.sentAt, r.reference), reverse=True)
        records = newest[: args.limit]
    else:
        records = by_status(stack, args.status, limit=args.limit)
    found = [r.model_dump(mode="json", exclude=PRIVATE_FIELDS) for r in records]
    lines = [
        f"{r['reference']}  {r['status']}  {r.get('message') or '(raw ids)'}  to {r['emailMasked']}  "
        f"sent at {r['sentAt']}" + (f"  ({r['failure']})" if r.get("failure") else "")
        for r in found
    ]
    emit(args, found, "\n".join(lines) or f"no {args.status or 'unsettled'} sends in {stack.where}")
    return 0


def send_redirect(args: argparse.Namespace, stack: Any) -> int:
    """A resend through the support route: to `--to`'s address, or (send resend) to the original one."""
    from listrak_kit.masking import mask_email
    from listrak_ops.api import ApiUnreachable, redirect_path

    if stack.api is None:
        print(f"{stack.where} has no API to call", file=sys.stderr)
        return 2
    to_address = getattr(args, "email_address", None)
    try:
        status, body = stack.api.post(redirect_path(args.reference), {"emailAddress": to_address} if to_address else {})
    except ApiUnreachable as exc:
        print(f"{exc} (with --local: LOCAL_API_URL and the LOCAL_SUPPORT_SECRET make api printed)", file=sys.stderr)
        return 2
    to = mask_email(to_address) if to_address else "the original address"
    said = body.get("message") or body.get("status") or ""
    emit(args, {"status": status, **body}, f"{args.reference}: {status} {said} (to {to})".rstrip())
    return 0 if status in (200, 201) else 1


def send_logs(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.sends import local_log_lines, logs_query, run_logs_query

    if args.print or (stack.log_dir is None and not stack.log_groups):
        groups = " ".join(stack.log_groups) or "(the stack's function log groups)"
        print(f"# CloudWatch Logs Insights, log groups: {groups}\n{logs_query(args.reference)}")
        return 0
    if stack.log_dir is not None:
        lines = local_log_lines(stack.log_dir, args.reference)
        emit(args, lines, "\n".join(lines) or f"no log lines name {args.reference!r} in {stack.log_dir}")
        return 0
    rows = run_logs_query(stack, args.reference, since_seconds=args.since * 3600)
    text = "\n".join(
        f"{r.get('@timestamp', '')}  {r.get('@log', '').rsplit('/', 1)[-1]}  {r.get('level', '')}  "
        f"{r.get('message', '')}"
        for r in rows
    )
    emit(args, rows, text or f"no log lines name {args.reference!r} in the last {args.since:g} hour(s)")
    return 0


def send_settle(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.sends import settle

    outcome = settle(stack.table, args.reference, sent=args.sent)
    emit(args, {"reference": args.reference, "outcome": outcome}, outcome)
    return 0 if outcome.endswith(("sent", "reconcile")) else 1
