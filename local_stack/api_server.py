"""`make api`: the template's API routes on http://127.0.0.1:3000, served in-process against the local stack.

Like API Gateway: routes and methods come from the template, a route that requires an API key answers 403
without a valid `x-api-key`, a route with `Authorizer: AWS_IAM` answers 403 unless the request is SigV4-signed with
the local support key (local_stack.iam_auth), and the handler receives a REST API (v1) proxy event. GET /swagger
is the API's OpenAPI document (openapi.json) in Powertools' Swagger UI, its "Try it out" aimed at this server;
GET /swagger?format=json is the document itself.
"""

from __future__ import annotations

import argparse
import hmac
import json
import signal
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from listrak_kit.errors import ConfigurationError
from listrak_kit.masking import mask_addresses
from local_stack import ROOT, iam_auth
from local_stack.background import Background, schedule_seconds_from_env
from local_stack.cli import UsageError, one_line_errors
from local_stack.config import log_dir_for, require_free_port
from local_stack.stack import REGION, LocalStack

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
BODY_TIMEOUT_SECONDS = 10.0  # a caller that stops sending gets a 408, and its thread is freed
LISTEN_BACKLOG = 128  # callers connecting at once wait to be accepted, as they would at a gateway
LOCAL_API_KEY_ID = "local-api-key"  # the id API Gateway gives the key (never its value) in requestContext
SWAGGER_PATH = "/swagger"
OPENAPI_DOCUMENT = ROOT / "openapi.json"


def swagger_page(base_url: str) -> tuple[str, str]:
    """The Swagger UI page and the document it shows, with the document's server set to `base_url`.

    Powertools' own page and its bundled Swagger UI assets (inlined, so the page needs no network).
    """
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    document = json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
    document["servers"] = [{"url": base_url, "description": "make api (the local stack)"}]
    spec = json.dumps(document, indent=2)
    assets = Path(swagger_ui.__file__).parent
    page = generate_swagger_html(
        spec.replace("</", "<\\/"),  # as Powertools does: no "</script>" can end the page's script early
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )
    return page, spec


def proxy_event(
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    resource: str,
    path_params: dict[str, str],
    stage: str,
    identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    url = urlsplit(raw_path)
    query = parse_qs(url.query, keep_blank_values=True)
    text = body.decode("utf-8", errors="replace") if body else None
    return {
        "resource": resource,
        "path": url.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{url.path}",
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": identity
            or {"sourceIp": "127.0.0.1", "apiKey": headers.get("x-api-key"), "apiKeyId": LOCAL_API_KEY_ID},
        },
        "body": text,
        "isBase64Encoded": False,
    }


def gateway_answers(stack: LocalStack) -> dict[str, tuple[int, str]]:
    """The API's GatewayResponses (template.yaml): API Gateway's own refusals, as status and JSON body."""
    answers = {"INVALID_API_KEY": (403, '{"message": "Forbidden"}')}
    answers["MISSING_AUTHENTICATION_TOKEN"] = (403, '{"message": "Missing Authentication Token"}')
    for api in stack.template.of_type("AWS::Serverless::Api").values():
        for kind, answer in (api.get("Properties", {}).get("GatewayResponses") or {}).items():
            template = (answer.get("ResponseTemplates") or {}).get("application/json")
            if kind in answers and template:
                answers[kind] = (int(answer.get("StatusCode") or answers[kind][0]), template)
    return answers


def _without_stage(path: str, stage: str) -> str:
    prefix = f"/{stage}"
    return path[len(prefix) :] or "/" if path == prefix or path.startswith(prefix + "/") else path


class GatewayServer(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True  # a stuck caller never holds the process open


def make_server(
    stack: LocalStack, host: str = "127.0.0.1", port: int = 3000, *, body_timeout: float = BODY_TIMEOUT_SECONDS
) -> ThreadingHTTPServer:
    routes = stack.api_routes()
    stage = stack.template.api_stage()
    refusals = gateway_answers(stack)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # small JSON answers otherwise wait ~40 ms for the next packet
        timeout = body_timeout  # every read of the socket: a stalled body or an idle connection ends

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            # A path or query string may hold an address (a reference can be one): masked as the functions' logs are.
            sys.stderr.write(mask_addresses(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n"))

        def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            for name, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                if length > MAX_BODY_BYTES:
                    self.rfile.read(length)
                    return self._answer(413, json.dumps({"message": "Request Too Long"}))
                body = self.rfile.read(length) if length else b""
            except TimeoutError:
                self.close_connection = True
                return self._answer(408, json.dumps({"message": "Request Timeout"}), {"Connection": "close"})
            url = urlsplit(self.path)
            # As on AWS the stage leads the path (/v1/messages); without it, as `sam local start-api` serves.
            path = _without_stage(url.path, stage)
            try:
                if stack.reload_catalog_if_changed():
                    sys.stderr.write(f"{stack.catalog_path.name} changed: the functions load it again\n")
            except ConfigurationError as exc:
                sys.stderr.write(f"make api: {exc}\n")  # the functions will say so too (502)
            if self.command == "GET" and path.rstrip("/") == SWAGGER_PATH:
                page, spec = swagger_page(f"http://{self.headers.get('Host') or '127.0.0.1'}")
                if parse_qs(url.query).get("format") == ["json"]:
                    return self._answer(200, spec)
                return self._answer(200, page, {"Content-Type": "text/html; charset=utf-8"})
            path_and_query = path + (f"?{url.query}" if url.query else "")
            for route in routes:
                params = route.match(self.command, path)
                if params is None:
                    continue
                given = (self.headers.get("x-api-key") or "").encode("utf-8", "surrogateescape")
                if route.api_key_required and not hmac.compare_digest(given, stack.api_key.encode()):
                    return self._answer(*refusals["INVALID_API_KEY"])
                headers = dict(self.headers.items())
                identity = None
                if route.iam_auth:
                    try:
                        principal = iam_auth.authenticate(
                            {stack.support.access_key_id: stack.support},
                            method=self.command,
                            url=f"http://{self.headers.get('Host', 'localhost')}{self.path}",
                            headers=headers,
                            body=body,
                            region=REGION,
                        )
                    except iam_auth.SignatureRefused as exc:
                        return self._answer(403, json.dumps({"message": str(exc)}))
                    identity = {"sourceIp": "127.0.0.1", **principal.identity()}
                event = proxy_event(self.command, path_and_query, headers, body, route.path, params, stage, identity)
                try:
                    result = stack.invoke(route.logical_id, event)
                except Exception as exc:  # a function error: API Gateway answers 502
                    sys.stderr.write(f"{route.logical_id} failed: {type(exc).__name__}: {exc}\n")
                    return self._answer(502, json.dumps({"message": "Internal server error"}))
                out_headers = dict(result.get("headers") or {})
                for name, values in (result.get("multiValueHeaders") or {}).items():
                    out_headers[name] = ", ".join(values)
                self._answer(int(result.get("statusCode", 200)), result.get("body") or "", out_headers)
                # Events the function put on a bus reach their rules' functions, as EventBridge would.
                for function, outcome in stack.deliver_events():
                    what = (
                        outcome.result if outcome.error is None else f"{type(outcome.error).__name__}: {outcome.error}"
                    )
                    sys.stderr.write(mask_addresses(f"  event -> {function}: {what}\n"))
                return None
            # API Gateway's answer for a path or method the API does not have.
            return self._answer(*refusals["MISSING_AUTHENTICATION_TOKEN"])

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

    return GatewayServer((host, port), Handler)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a `kill` stops it as Ctrl-C does: the stack and its state file go


@one_line_errors("make api")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="the API's port (make api PORT=N); 0: any free one")
    args = parser.parse_args(argv)
    require_free_port(args.port, "PORT")  # before the stack starts: said at once, in one line
    every = schedule_seconds_from_env()
    with LocalStack(log_dir=log_dir_for("api")) as stack, stack.advertised():  # `make invoke` runs on it too
        try:
            server = make_server(stack, args.host, args.port)
        except OSError as exc:  # taken since the check, or a host this machine does not have
            raise UsageError(f"cannot serve on {args.host}:{args.port} ({exc.strerror}): choose PORT=<port>") from None
        print(f"API on http://{args.host}:{server.server_address[1]} (API key: {stack.api_key})")
        for route in stack.api_routes():
            auth = "IAM (SigV4)" if route.iam_auth else "API key" if route.api_key_required else "none"
            print(f"  {route.method:<6} {route.path:<40} -> {route.logical_id} [{auth}]")
        print(f"Swagger UI: http://{args.host}:{server.server_address[1]}{SWAGGER_PATH}")
        print(
            f"Support routes (IAM): sign with access key {stack.support.access_key_id}, secret "
            f"{stack.support.secret_access_key}, region {REGION}, service execute-api "
            "(awscurl, or curl --aws-sigv4)"
        )
        print(f"AWS (moto) at {stack.aws_endpoint}; Listrak at {stack.listrak_urls['LISTRAK_EMAIL_API_URL']}")
        print("Try:")
        print(
            f"  curl -s -X POST http://{args.host}:{server.server_address[1]}/messages -H 'x-api-key: {stack.api_key}' "
            '-H \'Content-Type: application/json\' -d \'{"emailAddress": "jane@example.com", '
            '"message": "password-reset", "fields": {"firstName": "Jane", '
            '"passwordResetLink": "https://shop.example.com/r/1"}, "reference": "reset-1"}\''
        )
        print("`make invoke` runs on this stack while it serves; catalog edits apply from the next request.")
        background = Background(stack, every=every)
        logs = stack.log_dir.relative_to(ROOT) if stack.log_dir.is_relative_to(ROOT) else stack.log_dir
        print(f"Function logs: {logs}/; {background.describe()}")
        print("Ctrl-C stops it.")
        signal.signal(signal.SIGTERM, _stop)
        try:
            with background:
                server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
