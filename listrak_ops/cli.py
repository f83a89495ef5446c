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
import os
import sys
from collections.abc import Iterator
from typing import Any

from listrak_ops import project_version
from listrak_ops.commands import (
    dlq_delete,
    dlq_list,
    dlq_redrive,
    doctor,
    imports_list,
    imports_resume,
    privacy_lift,
    privacy_list,
    privacy_show,
)
from listrak_ops.send_commands import (
    SEND_STATES,
    send_history,
    send_list,
    send_logs,
    send_redirect,
    send_settle,
    send_show,
)


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
        print(exc if args.local else f"{exc} (name it with --stack, or use --local)", file=sys.stderr)
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
