"""`make invoke FN=<LogicalId> EVENT=events/<file>.json`: one invocation, as `sam local invoke` would do it.

When `make api` is running, the invocation runs on its stack (found through .local-stack/stack.json), so a
message sent here is one the API then finds; otherwise on a stack of its own, started for the invocation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from local_stack.cli import UsageError, one_line_errors
from local_stack.stack import LocalStack, running_stack

# What each trigger type hands its function, told apart by one key.
EVENT_KINDS = {
    "httpMethod": ("Api", "an API Gateway event"),
    "detail-type": ("EventBridgeRule", "an EventBridge event"),
    "Records": ("SQS", "an SQS batch"),
}


def read_event(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file (the samples are in events/)") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON event file ({type(exc).__name__})") from None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(event, dict):
        raise UsageError(f"{path}: an event is a JSON object; this file holds a {type(event).__name__}")
    return event


def triggers(stack: LocalStack, function: str) -> dict[str, str]:
    """The function's trigger types, each described as the template declares it."""
    described: dict[str, str] = {}
    for name, ev in stack.functions[function].events.items():
        props = ev.get("Properties", {})
        kind = ev.get("Type", "")
        if kind == "Api":
            text = f"API Gateway ({props.get('Method', '').upper()} {props.get('Path')})"
        elif kind == "EventBridgeRule":
            text = f"EventBridge rule {name}"
        else:
            text = f"{kind} {name}"
        described[kind] = f"{described[kind]}, {text}" if kind in described else text
    return described


def shape_problem(stack: LocalStack, function: str, event: dict[str, Any], path: Path) -> str | None:
    """Why this event cannot reach this function the way the template wires it, or None."""
    kinds = triggers(stack, function)
    key = next((k for k in EVENT_KINDS if k in event), None)
    if key is None:
        if {"Schedule", "ScheduleV2"} & kinds.keys():
            return None  # a schedule passes its Input as it is
        return (
            f"{path} is not an event {function} receives: it has no httpMethod (API Gateway), detail-type "
            f"(EventBridge) or Records (SQS); {function} is triggered by {'; '.join(kinds.values()) or 'nothing'}"
        )
    kind, what = EVENT_KINDS[key]
    if kind == "SQS" and "SQS" in kinds:
        return None
    try:
        routed = stack.route(event) if kind != "SQS" else None
    except LookupError as exc:
        return f"{path}: {exc}"
    if kind in kinds and routed in (None, function):
        return None
    hint = f"; the template sends it to {routed}: make invoke FN={routed} EVENT={path}" if routed else ""
    return f"{path} is {what}, but {function} is triggered by {'; '.join(kinds.values()) or 'nothing'}{hint}"


@one_line_errors("make invoke")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("function", help="the function's logical id in template.yaml")
    parser.add_argument("event", type=Path, help="a JSON event file")
    args = parser.parse_args(argv)
    event = read_event(args.event)
    event.pop("expected", None)  # what `make run` checks the sample against; not part of the event
    running = running_stack()
    with LocalStack(attach_to=running) as stack:
        if args.function not in stack.functions:
            raise UsageError(f"no function {args.function}; the template has: {', '.join(stack.functions)}")
        if running:
            print(f"(on the stack `make api` runs, pid {running['pid']}: its state, and its Listrak)", file=sys.stderr)
        problem = shape_problem(stack, args.function, event, args.event)
        if problem:
            raise UsageError(problem)
        log = stack.log_dir / (args.function + ".log")
        try:
            result = stack.invoke(args.function, event)
        except Exception as exc:  # a function error: reported as Lambda reports it
            print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
            first = str(exc).splitlines()[0] if str(exc) else ""
            print(f"make invoke: {args.function} failed: {type(exc).__name__}: {first} (log: {log})", file=sys.stderr)
            return 1
        print(json.dumps(result, indent=2, default=str))
        # What the function put on a bus goes on to the rules' functions, as EventBridge would send it.
        for target, outcome in stack.deliver_events():
            what = outcome.result if outcome.error is None else f"{type(outcome.error).__name__}: {outcome.error}"
            print(f"(on the bus -> {target}: {json.dumps(what, default=str)})", file=sys.stderr)
        print(f"(function logs: {log})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
