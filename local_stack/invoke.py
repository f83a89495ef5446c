"""`make invoke FN=<LogicalId> EVENT=events/<file>.json`: one invocation, as `sam local invoke` would do it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from local_stack.stack import LocalStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("function", help="the function's logical id in template.yaml")
    parser.add_argument("event", type=Path, help="a JSON event file")
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text(encoding="utf-8"))
    with LocalStack() as stack:
        if args.function not in stack.functions:
            print(f"no function {args.function}; the template has: {', '.join(stack.functions)}", file=sys.stderr)
            return 2
        try:
            result = stack.invoke(args.function, event)
        except Exception as exc:
            print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
            print(f"(function logs: {stack.log_dir / (args.function + '.log')})", file=sys.stderr)
            return 1
        print(json.dumps(result, indent=2, default=str))
        # What the function put on a bus goes on to the rules' functions, as EventBridge would send it.
        for target, outcome in stack.deliver_events():
            what = outcome.result if outcome.error is None else f"{type(outcome.error).__name__}: {outcome.error}"
            print(f"(on the bus -> {target}: {json.dumps(what, default=str)})", file=sys.stderr)
        print(f"(function logs: {stack.log_dir / (args.function + '.log')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
