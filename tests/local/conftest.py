"""The local API over real HTTP, on an ephemeral port of 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.api_server import make_server


@pytest.fixture
def api(stack: Any) -> Iterator[tuple[str, str]]:
    server = make_server(stack, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", stack.api_key
    server.shutdown()
    server.server_close()
