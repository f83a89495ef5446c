"""HTTP plumbing: a threading server on 127.0.0.1 whose handler reads whole bodies and hands them to the sandbox."""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from local_stack.sandbox.wire import (
    DIGITS,
    JSON_CONTENT_TYPE,
    Outcome,
    Reply,
    Request,
    error_reply,
)


class Served(Protocol):
    """What the server needs of the sandbox it serves (local_stack.sandbox.core.ListrakSandbox)."""

    max_body_bytes: int
    _stopping: threading.Event

    def _track(self, connection: socket.socket) -> None: ...

    def _untrack(self, connection: socket.socket) -> None: ...

    def _serve(self, request: Request) -> Outcome: ...


_DRAIN_CHUNK = 65_536

# ----------------------------------------------------------------------------------------------------
# HTTP plumbing


class _BadFraming(Exception):
    """The request body's framing (Content-Length, chunks) could not be read."""


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], sandbox: Served):
        self.sandbox = sandbox
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on a machine without DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = port

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # a client that went away; nothing to report
            return
        super().handle_error(request, client_address)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ListrakSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't wait on delayed ACKs
    server: SandboxServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        pass

    def setup(self) -> None:
        super().setup()
        self.server.sandbox._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.sandbox._untrack(self.connection)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        sandbox = self.server.sandbox
        try:
            body = self._read_body(sandbox.max_body_bytes)
        except _BadFraming:
            self.close_connection = True
            self._write(error_reply(400, "ERROR_MALFORMED_REQUEST_BODY", "The request body could not be read."))
            return
        except OSError:
            self.close_connection = True
            return
        split = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(split.query, keep_blank_values=True).items()}
        request = Request(self.command, split.path, query, self.headers, body)
        try:
            outcome = sandbox._serve(request)
        except Exception:  # a sandbox bug should look like Listrak's 500, not a hung client
            outcome = Outcome(error_reply(500, "ERROR_UNHANDLED_EXCEPTION", "An unhandled exception occurred."))
        if outcome.delay > 0:
            sandbox._stopping.wait(outcome.delay)
        if outcome.reply is None:
            self.close_connection = True  # the socket is closed with no answer at all
            return
        self._write(outcome.reply)

    def _write(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", JSON_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    # -- request bodies: always read to the end, so the connection stays usable ----------------------------

    def _read_body(self, limit: int) -> bytes | None:
        """The body, or None when it was over `limit` (then it is read and discarded, never held)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        if not DIGITS.match(raw_length.strip()):
            raise _BadFraming
        length = int(raw_length)
        if length > limit:  # decided from the header alone, before reading anything
            self._discard(length)
            return None
        data = self.rfile.read(length)
        if len(data) < length:
            raise OSError("the client closed the connection mid-body")
        return data

    def _discard(self, length: int) -> None:
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(_DRAIN_CHUNK, remaining))
            if not chunk:
                raise OSError("the client closed the connection mid-body")
            remaining -= len(chunk)

    def _read_chunked(self, limit: int) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise OSError("the client closed the connection mid-body")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadFraming from None
            if size == 0:
                break
            total += size
            if total > limit:
                parts = []
                self._discard(size)
            else:
                data = self.rfile.read(size)
                if len(data) < size:
                    raise OSError("the client closed the connection mid-body")
                parts.append(data)
            self.rfile.readline(1024)  # the CRLF after each chunk
        while True:  # trailers, up to the blank line
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n", b""):
                break
        return None if total > limit else b"".join(parts)
