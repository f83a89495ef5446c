"""listrak-sam: look into a deployed stack (--stack NAME) or the local stack (--local), and act on what went wrong.

  listrak-sam send show REFERENCE      a send's state and history (its resends)
  listrak-sam send list [--status S]   sends in one state (unconfirmed, pending, failed...), newest first
  listrak-sam send history --email A   every send to one address (by its fingerprint), with its delivery
  listrak-sam send settle REF --sent | --send-again   an operator's word on an unconfirmed send
  listrak-sam send logs REFERENCE      every function's log lines about one send (--print: the query)
  listrak-sam send resend REF          a resend to the original address, signed with your AWS credentials
  listrak-sam send redirect REF --to A a resend to a corrected address, likewise
  listrak-sam imports list             recent imports: manifests and their first rejects
  listrak-sam imports resume KEY       a failed or abandoned import file imported again
  listrak-sam dlq list                 dead-letter queues: counts and why the first messages failed
  listrak-sam dlq redrive QUEUE        a dead-letter queue's messages back to where they came from
                                       (--message-id ID, --dry-run, --force for permanent failures)
  listrak-sam dlq delete QUEUE ID      one message deleted, by decision
  listrak-sam doctor                   the catalog checked against the stack's Listrak account
  listrak-sam privacy list             privacy requests: who asked, when, how far, when completed
  listrak-sam privacy show REQUEST_ID  one privacy request
  listrak-sam privacy lift --email A   lift a forgotten person's tombstone (imports take them again)

The stack is samconfig.toml's (its [default] environment, or --config-env prod), unless --stack or LISTRAK_STACK
names another; the region is --region's, else samconfig.toml's, else the AWS configuration's. Every command says
which it used. --local uses the stack a running `make api` serves.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from listrak_ops import project_version


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="listrak-sam", description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.epilog = "\n".join(__doc__.split("\n")[2:])
    parser.add_argument("--version", action="version", version=f"%(prog)s {project_version()}")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", help="the stack's name (default: LISTRAK_STACK, else samconfig.toml's)")
    where.add_argument("--local", action="store_true", help="the local stack (make api) instead of AWS")
    parser.add_argument(
        "--config-env",
        default=os.environ.get("LISTRAK_CONFIG_ENV", "default"),
        help="the samconfig.toml environment that names the stack (default: default; LISTRAK_CONFIG_ENV)",
    )
    parser.add_argument("--region", help="the stack's region (default: samconfig.toml's, else the AWS configuration's)")
    parser.add_argument("--profile", help="an AWS CLI profile")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    commands = parser.add_subparsers(dest="area", required=True)

    send = commands.add_parser("send", help="sends").add_subparsers(dest="command", required=True)
    show = send.add_parser("show", help="a send's state and history")
    show.add_argument("reference")
    sent_to = send.add_parser("history", help="every send to one address, newest first, with its delivery")
    sent_to.add_argument("--email", required=True, dest="email_address", help="the address (never printed whole)")
    listing_sends = send.add_parser("list", help="sends in one state (default: every unsettled one), newest first")
    listing_sends.add_argument("--status", choices=SEND_STATES, help="the state")
    listing_sends.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    settled = send.add_parser("settle", help="settle an unconfirmed send: it went, or send it again")
    settled.add_argument("reference")
    word = settled.add_mutually_exclusive_group(required=True)
    word.add_argument("--sent", action="store_true", help="the recipient has it: mark it sent")
    word.add_argument("--send-again", action="store_true", help="it never went: send it once more")
    resend = send.add_parser("resend", help="resend to the original address (support route, SigV4)")
    resend.add_argument("reference")
    redirect = send.add_parser("redirect", help="resend to another address (support route, SigV4)")
    redirect.add_argument("reference")
    redirect.add_argument("--to", required=True, dest="email_address", help="the corrected address")
    logs = send.add_parser("logs", help="every function's log lines about one reference")
    logs.add_argument("reference")
    logs.add_argument("--since", type=float, default=24.0, help="hours back (default 24)")
    logs.add_argument("--print", action="store_true", help="print the Logs Insights query instead of running it")

    imports = commands.add_parser("imports", help="imports").add_subparsers(dest="command", required=True)
    listing = imports.add_parser("list", help="recent imports with their manifests and rejects")
    listing.add_argument("--limit", type=int, default=10, help="how many files (newest first)")
    listing.add_argument("--rejects", type=int, default=5, help="rejected lines shown per file")
    resume = imports.add_parser("resume", help="import a failed or abandoned file again from its last accepted chunk")
    resume.add_argument("key", help="the file's key in the import bucket, e.g. orders/2026-11-22.csv")
    resume.add_argument("--version-id", help="the S3 VersionId (default: the current version)")

    doctor = commands.add_parser("doctor", help="check the catalog against the stack's Listrak account")
    doctor.add_argument("--catalog", help="the catalog file (default: functions/send/catalog.toml of this project)")

    dlq = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="command", required=True)
    dlq_list = dlq.add_parser("list", help="each dead-letter queue's count and its first messages' reasons")
    dlq_list.add_argument("--peek", type=int, default=3, help="messages shown per queue")
    dlq_redrive = dlq.add_parser("redrive", help="move a queue's messages back to their functions or queue")
    dlq_redrive.add_argument("queue", help="the queue's logical id, e.g. SendDeadLetterQueue")
    dlq_redrive.add_argument("--limit", type=int, help="at most this many messages")
    dlq_redrive.add_argument("--message-id", help="only this message (its id from dlq list)")
    dlq_redrive.add_argument(
        "--force", action="store_true", help="permanent failures too (after the catalog or sender is fixed)"
    )
    dlq_redrive.add_argument("--dry-run", action="store_true", help="say what would move, move nothing")
    dlq_delete = dlq.add_parser("delete", help="delete one message, by decision (it will never be sent)")
    dlq_delete.add_argument("queue", help="the queue's logical id, e.g. SendDeadLetterQueue")
    dlq_delete.add_argument("message_id", help="the message's id from dlq list")
    dlq_delete.add_argument("--dry-run", action="store_true", help="show the message, delete nothing")

    privacy = commands.add_parser("privacy", help="privacy requests").add_subparsers(dest="command", required=True)
    privacy_list = privacy.add_parser("list", help="privacy requests, newest first")
    privacy_list.add_argument("--limit", type=int, default=20, help="how many requests")
    privacy_show = privacy.add_parser("show", help="one privacy request")
    privacy_show.add_argument("request_id")
    privacy_lift = privacy.add_parser("lift", help="lift a forgotten person's tombstone")
    privacy_lift.add_argument("--email", help="the person's address")
    privacy_lift.add_argument("--phone", help="the person's phone number")
    return parser


def _resources(args: argparse.Namespace) -> Any:
    from listrak_ops.stack import aws_stack, local_stack

    if args.local:
        return local_stack()
    import boto3

    from listrak_ops.stack import StackNotFound
    from listrak_ops.target import find_samconfig, resolve

    session = boto3.Session(profile_name=args.profile)
    target = resolve(
        stack=args.stack,
        region=args.region,
        config_env=args.config_env,
        session_region=session.region_name,
        samconfig=find_samconfig(),
    )
    try:
        found = aws_stack(target.stack, boto3.Session(profile_name=args.profile, region_name=target.region))
    except StackNotFound as exc:
        raise StackNotFound(f"{exc} [{target.describe()}]") from None
    # The layer's own adapters (send records, secrets) use boto3's default session: the same account and region.
    boto3.setup_default_session(profile_name=args.profile, region_name=target.region)
    print(f"using {target.describe()}", file=sys.stderr)
    return found


def _print(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, indent=2, default=str) if args.json else text)


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
    _print(args, view, send_text(view))
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
    _print(args, found, "\n".join([f"sends to {to}:", *lines]) if lines else f"no sends to {to} in {stack.where}")
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
    _print(args, found, "\n".join(lines) or f"no {args.status or 'unsettled'} sends in {stack.where}")
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
    _print(args, {"status": status, **body}, f"{args.reference}: {status} {said} (to {to})".rstrip())
    return 0 if status in (200, 201) else 1


def send_logs(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.sends import local_log_lines, logs_query, run_logs_query

    if args.print or (stack.log_dir is None and not stack.log_groups):
        groups = " ".join(stack.log_groups) or "(the stack's function log groups)"
        print(f"# CloudWatch Logs Insights, log groups: {groups}\n{logs_query(args.reference)}")
        return 0
    if stack.log_dir is not None:
        lines = local_log_lines(stack.log_dir, args.reference)
        _print(args, lines, "\n".join(lines) or f"no log lines name {args.reference!r} in {stack.log_dir}")
        return 0
    rows = run_logs_query(stack, args.reference, since_seconds=args.since * 3600)
    text = "\n".join(
        f"{r.get('@timestamp', '')}  {r.get('@log', '').rsplit('/', 1)[-1]}  {r.get('level', '')}  "
        f"{r.get('message', '')}"
        for r in rows
    )
    _print(args, rows, text or f"no log lines name {args.reference!r} in the last {args.since:g} hour(s)")
    return 0


def send_settle(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.sends import settle

    outcome = settle(stack.table, args.reference, sent=args.sent)
    _print(args, {"reference": args.reference, "outcome": outcome}, outcome)
    return 0 if outcome.endswith(("sent", "reconcile")) else 1


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
    _print(args, found, "\n".join(lines) or f"no import results in {stack.where}")
    return 0


def imports_resume(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.imports import resume

    outcome = resume(stack, args.key, version=args.version_id)
    _print(args, {"key": args.key, "outcome": outcome}, f"{args.key}: {outcome}")
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
    _print(args, found, "\n".join(lines))
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
    _print(args, outcome, text)
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
    _print(args, outcome, f"{args.queue}: {said} {message['id']}{about}: {message['reason']}")
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
    _print(
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
    _print(args, found, "\n".join(_request_line(v) for v in found) or f"no privacy requests in {stack.where}")
    return 0


def privacy_show(args: argparse.Namespace, stack: Any) -> int:
    from listrak_kit.errors import NotFound
    from listrak_ops.privacy import show

    try:
        view = show(stack, args.request_id)
    except NotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    _print(args, view, json.dumps(view, indent=2))
    return 0


def privacy_lift(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.privacy import lift

    if not (args.email or args.phone):
        print("privacy lift needs --email, --phone, or both", file=sys.stderr)
        return 2
    view = lift(stack, email=args.email, phone=args.phone)
    _print(args, view, "tombstone lifted: " + _request_line(view))
    return 0


COMMANDS = {
    ("send", "show"): send_show,
    ("send", "list"): send_list,
    ("send", "history"): send_history,
    ("send", "logs"): send_logs,
    ("send", "redirect"): send_redirect,
    ("send", "resend"): send_redirect,
    ("send", "settle"): send_settle,
    ("imports", "list"): imports_list,
    ("imports", "resume"): imports_resume,
    ("dlq", "list"): dlq_list,
    ("dlq", "redrive"): dlq_redrive,
    ("dlq", "delete"): dlq_delete,
    ("doctor", None): doctor,
    ("privacy", "list"): privacy_list,
    ("privacy", "show"): privacy_show,
    ("privacy", "lift"): privacy_lift,
}


@contextlib.contextmanager
def _layer_logs_quiet() -> Iterator[None]:
    """The layer's INFO lines (token cache, sends) belong in a function's log, not in the operator's output."""
    from listrak_kit.observability import logger

    previous = logger.log_level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(previous)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from listrak_ops.sends import QueryFailed
    from listrak_ops.stack import StackNotFound
    from listrak_ops.target import TargetUnknown

    try:
        stack = _resources(args)
        with _layer_logs_quiet():
            return COMMANDS[args.area, getattr(args, "command", None)](args, stack)
    except (TargetUnknown, QueryFailed) as exc:
        print(exc, file=sys.stderr)
    except StackNotFound as exc:
        print(f"{exc} (name it with --stack, or use --local)", file=sys.stderr)
    except NoCredentialsError:
        print("no AWS credentials: set AWS_PROFILE or pass --profile (or use --local)", file=sys.stderr)
    except ImportError as exc:
        what = " ".join(filter(None, (args.area, getattr(args, "command", None))))
        print(f"this layer lacks what {what} needs: {exc}", file=sys.stderr)
    except (BotoCoreError, ClientError) as exc:
        print(f"AWS refused or could not be reached: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
