"""The template's API served over HTTP on 127.0.0.1 (local_stack.api_server), against the per-test local stack."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from local_stack.api_server import make_server
from local_stack.iam_auth import Principal


@dataclass
class Api:
    url: str
    key: str
    session: requests.Session
    support: Principal  # the IAM principal the support routes take (SigV4)


@pytest.fixture
def api(stack: Any) -> Iterator[Api]:
    server = make_server(stack, port=0)
    # The handler writes status, headers and body in separate small writes; without TCP_NODELAY each answer
    # waits out the client's delayed ACK (~40 ms), which would dominate a fuzzing run.
    server.RequestHandlerClass.disable_nagle_algorithm = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="hostile-api", daemon=True
    )
    thread.start()
    session = requests.Session()
    try:
        yield Api(
            url=f"http://127.0.0.1:{server.server_address[1]}",
            key=stack.api_key,
            session=session,
            support=stack.support,
        )
    finally:
        session.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
