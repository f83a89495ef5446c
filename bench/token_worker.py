"""One cold container of the token-economy benchmark: imports the send handler fresh, then sends 20."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
import time
import uuid
from pathlib import Path

from local_stack.api_server import proxy_event


class Context:
    function_name = "SendApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:SendApiFunction"

    def __init__(self):
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def main() -> int:
    handler_path, layer, sends, ready, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    sys.path.insert(0, layer)
    spec = importlib.util.spec_from_file_location("send_api", handler_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["send_api"] = module
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
    statuses: list[int] = []
    # Every container is loaded before any sends: the fleet then starts at one instant, as a burst would.
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.05)
    with contextlib.redirect_stdout(io.StringIO()):
        for n in range(sends):  # a Lambda container serves one invocation at a time
            body = json.dumps(
                {
                    "emailAddress": f"c{n}@example.com",
                    "message": "password-reset",
                    "fields": {"firstName": "A"},
                    "reference": f"economy-{uuid.uuid4()}",
                }
            ).encode()
            event = proxy_event("POST", "/messages", {"Content-Type": "application/json"}, body, "/messages", {}, "v1")
            statuses.append(module.lambda_handler(event, Context())["statusCode"])
    print(json.dumps({"statuses": statuses}))
    return 0 if statuses.count(201) == sends else 1


if __name__ == "__main__":
    sys.exit(main())
