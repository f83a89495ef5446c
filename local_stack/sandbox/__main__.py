"""python -m local_stack.sandbox --port 8025: serve the sandbox alone, seeded with its default clients."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from local_stack.sandbox.core import ListrakSandbox
from local_stack.sandbox.wire import (
    ACTIVITY_LAG_SECONDS,
    DIGITS,
    INTEGRATIONS,
)

# ----------------------------------------------------------------------------------------------------
# Command line


def _parse_client(text: str) -> tuple[str, str, str]:
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or parts[2] not in INTEGRATIONS:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:CLIENT_SECRET:Email|Data|Privacy|SMS")
    return parts[0], parts[1], parts[2]


def _parse_message(text: str) -> tuple[int, int]:
    try:
        list_id, message_id = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected LIST_ID:TRANSACTIONAL_MESSAGE_ID (integers)") from None
    return list_id, message_id


def _parse_list(text: str) -> tuple[int, str]:
    raw_id, _, name = text.partition(":")
    if not DIGITS.match(raw_id.strip()) or not name:
        raise argparse.ArgumentTypeError("expected LIST_ID:LIST_NAME")
    return int(raw_id), name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack.sandbox", description="Serve a local Listrak stand-in."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025, help="0 picks a free port (default 8025)")
    parser.add_argument("--token-ttl", type=int, default=3599, help="expires_in of minted tokens, in seconds")
    parser.add_argument(
        "--activity-delay",
        type=float,
        default=ACTIVITY_LAG_SECONDS,
        help=f"seconds before a send shows in Activity (default {ACTIVITY_LAG_SECONDS:g})",
    )
    parser.add_argument(
        "--resend-key-in-response",
        action="store_true",
        help='answer sends with their resendKey as resourceId (Listrak answers "null")',
    )
    parser.add_argument(
        "--client", action="append", type=_parse_client, default=[], metavar="ID:SECRET:Email|Data|Privacy|SMS"
    )
    parser.add_argument("--message", action="append", type=_parse_message, default=[], metavar="LIST:MESSAGE")
    parser.add_argument("--list", action="append", type=_parse_list, default=[], metavar="ID:NAME", dest="lists")
    args = parser.parse_args(argv)

    sandbox = ListrakSandbox(
        args.host,
        args.port,
        token_ttl_seconds=args.token_ttl,
        activity_delay_seconds=args.activity_delay,
        resend_key_in_send_response=args.resend_key_in_response,
    )
    sandbox.seed_defaults()
    for client_id, client_secret, integration in args.client:
        sandbox.add_client(client_id, client_secret, integration)
    for list_id, message_id in args.message:
        sandbox.add_transactional_message(list_id, message_id)
    for list_id, name in args.lists:
        sandbox.add_list(list_id, name)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sandbox.start()
    except OSError as exc:
        print(f"local_stack.sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    with sandbox._lock:
        clients = sorted(sandbox._clients.items())
        messages = sorted(sandbox._messages)
        lists = sorted((list_id, record.name) for list_id, record in sandbox._lists.items())
    lines = [
        f"Listrak sandbox serving on {sandbox.url}",
        f"  auth_url       {sandbox.auth_url}",
        f"  email_api_url  {sandbox.email_api_url}",
        f"  data_api_url   {sandbox.data_api_url}",
        f"  sms_api_url    {sandbox.sms_api_url}",
        f"  control        {sandbox.url}/_sandbox/stats",
        "                 (also /counts, /sends, /sms, /contacts, /faults, /advance, /revoke, /reset)",
        "Clients (integration  client_id  client_secret):",
        *(f"  {client.integration:<5}  {client_id}  {client.secret}" for client_id, client in clients),
        "Transactional messages (listId  transactionalMessageId):",
        *(f"  {list_id}  {message_id}" for list_id, message_id in messages),
        *(["Lists (listId  listName):"] if lists else []),
        *(f"  {list_id}  {name}" for list_id, name in lists),
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
