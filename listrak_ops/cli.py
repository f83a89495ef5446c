"""listrak-sam: look into a deployed stack (--stack NAME) or the local stack (--local), and act on what went wrong.

  listrak-sam --stack listrak send show REFERENCE      a send's state and history (its resends)
  listrak-sam --stack listrak imports list             recent imports: manifests and their first rejects
  listrak-sam --stack listrak imports resume KEY       a failed or abandoned import file imported again
  listrak-sam --stack listrak dlq list                 dead-letter queues: counts and why the first messages failed
  listrak-sam --stack listrak dlq redrive QUEUE        a dead-letter queue's messages back to where they came from
  listrak-sam --stack listrak privacy list             privacy requests: who asked, when, how far, when completed
  listrak-sam --stack listrak privacy show REQUEST_ID  one privacy request
  listrak-sam --stack listrak privacy lift --email A   lift a forgotten person's tombstone (imports take them again)

AWS credentials and region come from the usual places (AWS_PROFILE, --profile, --region). --local uses the stack
a running `make api` serves (moto on port 5000, the Listrak sandbox on 8025).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from listrak_ops import project_version

DEFAULT_STACK = "listrak"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="listrak-sam", description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.epilog = "\n".join(__doc__.split("\n")[2:])
    parser.add_argument("--version", action="version", version=f"%(prog)s {project_version()}")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", default=os.environ.get("LISTRAK_STACK", DEFAULT_STACK), help="the stack's name")
    where.add_argument("--local", action="store_true", help="the local stack (make api) instead of AWS")
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    parser.add_argument("--profile", help="an AWS CLI profile")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    commands = parser.add_subparsers(dest="area", required=True)

    send = commands.add_parser("send", help="sends").add_subparsers(dest="command", required=True)
    show = send.add_parser("show", help="a send's state and history")
    show.add_argument("reference")

    imports = commands.add_parser("imports", help="imports").add_subparsers(dest="command", required=True)
    listing = imports.add_parser("list", help="recent imports with their manifests and rejects")
    listing.add_argument("--limit", type=int, default=10, help="how many files (newest first)")
    listing.add_argument("--rejects", type=int, default=5, help="rejected lines shown per file")
    resume = imports.add_parser("resume", help="import a failed or abandoned file again from its last accepted chunk")
    resume.add_argument("key", help="the file's key in the import bucket, e.g. orders/2026-11-22.csv")
    resume.add_argument("--version-id", help="the S3 VersionId (default: the current version)")

    dlq = commands.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="command", required=True)
    dlq_list = dlq.add_parser("list", help="each dead-letter queue's count and its first messages' reasons")
    dlq_list.add_argument("--peek", type=int, default=3, help="messages shown per queue")
    dlq_redrive = dlq.add_parser("redrive", help="move a queue's messages back to their functions or queue")
    dlq_redrive.add_argument("queue", help="the queue's logical id, e.g. SendDeadLetterQueue")
    dlq_redrive.add_argument("--limit", type=int, help="at most this many messages")

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

    return aws_stack(args.stack, boto3.Session(profile_name=args.profile, region_name=args.region))


def _print(args: argparse.Namespace, value: Any, text: str) -> None:
    print(json.dumps(value, indent=2, default=str) if args.json else text)


def send_show(args: argparse.Namespace, stack: Any) -> int:
    from listrak_kit.aws.clients import aws_client
    from listrak_kit.aws.send_records import DynamoSendRecords

    aws_client.cache_clear()
    record = DynamoSendRecords(stack.table).get(args.reference)
    if record is None:
        print(f"no send {args.reference!r} in {stack.where} (never sent, or past the resend window)", file=sys.stderr)
        return 1
    view = record.model_dump(mode="json")
    _print(args, view, json.dumps(view, indent=2))
    return 0


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
            to = f" -> {first['target']}" if first["target"] else ""
            lines.append(f"  [{first['kind']}{to}] {first['reason']}")
    _print(args, found, "\n".join(lines))
    return 0


def dlq_redrive(args: argparse.Namespace, stack: Any) -> int:
    from listrak_ops.dlq import redrive

    try:
        outcome = redrive(stack, args.queue, limit=args.limit)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    if outcome["moveTask"]:
        text = f"{args.queue}: SQS is moving its messages back (task {outcome['moveTask']})"
    else:
        text = "\n".join(
            [f"{args.queue}: {len(outcome['moved'])} moved back, {len(outcome['kept'])} kept"]
            + [f"  moved {m}" for m in outcome["moved"]]
            + [f"  kept {k}" for k in outcome["kept"]]
        )
    _print(args, outcome, text)
    return 1 if outcome["kept"] else 0


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
    ("imports", "list"): imports_list,
    ("imports", "resume"): imports_resume,
    ("dlq", "list"): dlq_list,
    ("dlq", "redrive"): dlq_redrive,
    ("privacy", "list"): privacy_list,
    ("privacy", "show"): privacy_show,
    ("privacy", "lift"): privacy_lift,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from listrak_ops.stack import StackNotFound

    try:
        stack = _resources(args)
        return COMMANDS[args.area, args.command](args, stack)
    except StackNotFound as exc:
        print(f"{exc} (name it with --stack, or use --local)", file=sys.stderr)
    except NoCredentialsError:
        print("no AWS credentials: set AWS_PROFILE or pass --profile (or use --local)", file=sys.stderr)
    except ImportError as exc:
        print(f"this layer lacks what {args.area} {args.command} needs: {exc}", file=sys.stderr)
    except (BotoCoreError, ClientError) as exc:
        print(f"AWS refused or could not be reached: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
