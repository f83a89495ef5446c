"""SnapStart hooks, run in-process as the Lambda runtime runs them: priming before the snapshot, and after a restore
a fresh random seed, no pooled connection left over, and the cold start reported again."""

from __future__ import annotations

import random
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
import requests
import snapshot_restore_py

from listrak_kit import snapstart

SNAPSTART_FUNCTIONS = ("SendApiFunction", "ResendFunction", "SendEventFunction", "ImportApiFunction", "HooksFunction")
BUILDERS = {"ImportApiFunction": "importer", "HooksFunction": "doors"}  # the others' is `path`


@pytest.fixture
def registry() -> Iterator[tuple[list, list]]:
    """The runtime's registries, empty for the test and as they were afterwards."""
    before, after = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
    saved = (list(before), list(after))
    before.clear()
    after.clear()
    yield before, after
    before[:], after[:] = saved


def run(hooks: list) -> list:
    return [func(*args, **kwargs) for func, args, kwargs in hooks]


@pytest.mark.parametrize("logical_id", SNAPSTART_FUNCTIONS)
def test_priming_builds_the_path_and_loads_what_the_first_call_needs_without_calling_out(
    stack, registry, logical_id, monkeypatch
):
    before, after = registry
    spec = stack.functions[logical_id]
    sys.modules.pop("email_validator", None)
    with stack.function_env(logical_id):
        module = spec.import_module(f"snapstart_{logical_id}")
        assert len(before) == 1 and len(after) == 1  # registered at import, run by the runtime later
        builder = getattr(module, BUILDERS.get(logical_id, "path"))
        assert builder.cache_info().currsize == 0  # nothing built at import

        from aws_lambda_powertools.metrics.provider import cold_start

        monkeypatch.setattr(cold_start, "is_cold_start", True)  # a fresh container, whatever ran before
        connects: list = []
        real_connect = socket.socket.connect
        monkeypatch.setattr(socket.socket, "connect", lambda s, a: connects.append(a) or real_connect(s, a))
        run(before)
    assert builder.cache_info().currsize == 1  # settings read, clients made, catalog parsed
    assert connects == []  # no token, secret or record fetched: nothing of the kind is frozen in the snapshot
    if logical_id not in BUILDERS:
        assert "email_validator" in sys.modules
    assert cold_start.is_cold_start  # priming is not an invocation


def test_the_send_api_rehearsal_is_refused_by_validation_before_any_route(stack):
    with stack.function_env("SendApiFunction"):
        module = stack.functions["SendApiFunction"].import_module("snapstart_rehearsal")
        assert snapstart.rehearse(module.app, "POST", "/messages") == 400
    assert stack.sandbox.sent_messages == []


def test_after_restore_each_container_draws_its_own_random_numbers():
    random.seed(1234)  # whatever the snapshot held
    frozen = random.getstate()
    draws = []
    for _ in range(2):  # two containers restored from the same snapshot
        random.setstate(frozen)
        snapstart.after_restore()
        draws.append([random.random() for _ in range(3)])
    random.setstate(frozen)
    assert draws[0] != draws[1]
    assert random.random() not in (draws[0][0], draws[1][0])  # neither kept the snapshot's sequence


class Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client may pool the connection
    connections = 0
    body = b'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Buckets/></ListAllMyBucketsResult>'

    def setup(self):
        type(self).connections += 1
        super().setup()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Counting.connections = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_after_restore_no_pooled_connection_is_reused(server):
    session = requests.Session()
    s3 = boto3.client("s3", endpoint_url=server, region_name="us-east-1")
    for _ in range(2):
        assert session.get(f"{server}/ping", timeout=5).status_code == 200
        s3.list_buckets()
    assert Counting.connections == 2  # one pooled connection each, reused before the snapshot

    assert snapstart.after_restore() >= 2

    assert session.get(f"{server}/ping", timeout=5).status_code == 200
    s3.list_buckets()
    assert Counting.connections == 4  # each opened a fresh one: no socket from before the snapshot


def test_after_restore_the_first_invocation_reports_a_cold_start():
    import aws_lambda_powertools.logging.logger as logging_module
    import aws_lambda_powertools.tracing.tracer as tracer_module
    from aws_lambda_powertools.metrics.provider import cold_start

    from listrak_kit.observability import metrics

    cold_start.is_cold_start = False  # as if something had invoked the handler before the snapshot
    logging_module.is_cold_start = False
    tracer_module.is_cold_start = False
    metrics.clear_metrics()
    snapstart.after_restore()
    assert cold_start.is_cold_start and logging_module.is_cold_start and tracer_module.is_cold_start
    assert "SnapStartRestore" in metrics.metric_set
    metrics.clear_metrics()


def test_install_without_the_runtime_module_registers_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)
    assert snapstart.install(lambda: None) is False


class LoadCounter:
    def __init__(self, *, disabled: bool):
        self.disabled = disabled
        self.loads = 0

    def load(self) -> None:
        self.loads += 1


@pytest.mark.parametrize("disabled", [False, True])
def test_the_tracer_is_loaded_before_the_snapshot_where_tracing_is_on(monkeypatch, disabled):
    # A restored container then records its first sampled invocation without importing the X-Ray SDK.
    tracer = LoadCounter(disabled=disabled)
    monkeypatch.setattr(snapstart, "tracer", tracer)
    primed: list[int] = []
    snapstart.before_snapshot(lambda: primed.append(tracer.loads))
    assert tracer.loads == primed[0] == (0 if disabled else 1)
