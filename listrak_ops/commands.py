"""listrak-sam imports ..., dlq ..., doctor and privacy ...: the commands that are not about one send."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from listrak_ops.output import emit
from listrak_ops.send_commands import CATALOG


def imports_list(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.imports import recent

    found = recent(stack, limit=args.limit, rejects=args.rejects)
    lines = []
    for entry in found:
        m = entry["manifest"]
        state = m.get("state") or ("imported" if m.get("finishedAt") else "")
        lines.append(
            f"{m.get('key')}  {state}  records {m.get('records')}, accepted {m.get('accepted')}, "
            f"rejected {m.get('rejected')}  ({entry['manifestKey']})"
        )
        if m.get("reason"):
            lines.append(f"  reason: {m['reason']}")
        for reject in entry["firstRejects"]:
            lines.append(f"  line {reject.get('line')}: {reject.get('field')}: {reject.get('reason')}")
        if entry["rejectLines"] > len(entry["firstRejects"]):
            lines.append(f"  ... and {entry['rejectLines'] - len(entry['firstRejects'])} more rejected line(s)")
    emit(args, found, "\n".join(lines) or f"no import results in {stack.where}")
    return 0


def imports_resume(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.imports import resume

    outcome = resume(stack, args.key, version=args.version_id)
    emit(args, {"key": args.key, "outcome": outcome}, f"{args.key}: {outcome}")
    return 0 if outcome.startswith("resumed") else 1


def dlq_list(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.dlq import list_queues

    found = list_queues(stack, peek=args.peek)
    lines = []
    for queue in found:
        fed = f" (fed by {', '.join(u.rsplit('/', 1)[-1] for u in queue['sources'])})" if queue["sources"] else ""
        lines.append(f"{queue['queue']}: {queue['messages']} message(s){fed}")
        for first in queue["first"]:
            lines.append(f"  {first['id']}" + (f"  {first['about']}" if first["about"] else ""))
            to = f" -> {first['target']}" if first["target"] else ""
            lines.append(f"    [{first['kind']}{to}]{' PERMANENT' if first['permanent'] else ''} {first['reason']}")
    emit(args, found, "\n".join(lines))
    return 0


def dlq_redrive(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.dlq import redrive

    try:
        outcome = redrive(
            stack, args.queue, limit=args.limit, message_id=args.message_id, force=args.force, dry_run=args.dry_run
        )
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    if outcome["moveTask"]:
        text = f"{args.queue}: SQS is moving its messages back (task {outcome['moveTask']})"
    else:
        verb = "would move back" if args.dry_run else "moved back"
        text = "\n".join(
            [f"{args.queue}: {len(outcome['moved'])} {verb}, {len(outcome['kept'])} kept"]
            + [f"  {'would move' if args.dry_run else 'moved'} {m}" for m in outcome["moved"]]
            + [f"  kept {k}" for k in outcome["kept"]]
        )
    emit(args, outcome, text)
    return 1 if outcome["kept"] else 0


def dlq_delete(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.dlq import delete

    try:
        outcome = delete(stack, args.queue, args.message_id, dry_run=args.dry_run)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    message = outcome["message"]
    said = "deleted" if outcome["deleted"] else "would delete"
    about = f" ({message['about']})" if message["about"] else ""
    emit(args, outcome, f"{args.queue}: {said} {message['id']}{about}: {message['reason']}")
    return 0


def doctor(args: argparse.Namespace, stack: Any) -> int:
    from pathlib import Path

    from listrak_kit.catalog.model import load_catalog
    from listrak_kit.errors import ConfigurationError
    from listrak_ops.doctor import diagnose, email_client
    from listrak_ops.target import find_samconfig

    project = find_samconfig()
    path = Path(args.catalog) if args.catalog else (project.parent if project else Path.cwd()) / CATALOG
    from listrak_kit.aws.clients import aws_client

    aws_client.cache_clear()
    try:
        catalog = load_catalog(path)
        report = diagnose(catalog, email_client(stack))
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 1
    emit(
        args, {"catalog": str(path), "findings": report.findings, "checked": report.checked}, "\n".join(report.lines())
    )
    return 1 if report.findings else 0


def _request_line(view: dict[str, Any]) -> str:
    done = f", completed {view['completedAt']}" if view.get("completedAt") else ""
    listrak = f", Listrak {view['listrakStatus']}" if view.get("listrakStatus") else ""
    error = f", last error: {view['lastError']}" if view.get("lastError") and not done else ""
    return (
        f"{view['requestId']}  {view['kind']}  {view['status']}  asked by {view['requestedBy']} "
        f"at {view['requestedAt']}{listrak}{done}{error}"
    )


def privacy_list(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.privacy import listing

    found = listing(stack, args.limit)
    emit(args, found, "\n".join(_request_line(v) for v in found) or f"no privacy requests in {stack.where}")
    return 0


def privacy_show(args: argparse.Namespace, stack: Any) -> int:
    from listrak_kit.errors import NotFound
    from listrak_ops.privacy import show

    try:
        view = show(stack, args.request_id)
    except NotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    emit(args, view, json.dumps(view, indent=2))
    return 0


def privacy_lift(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.privacy import lift

    if not (args.email or args.phone):
        print("privacy lift needs --email, --phone, or both", file=sys.stderr)
        return 2
    view = lift(stack, email=args.email, phone=args.phone)
    emit(args, view, "tombstone lifted: " + _request_line(view))
    return 0
