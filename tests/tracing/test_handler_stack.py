"""The handler stack every function runs under: what a trace, a log and the metrics get from one invocation."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from local_stack import ROOT
from local_stack.api_server import proxy_event

ADDRESS = "jane.doe@example.com"
# A probe handler records no application metric: Powertools says so, as it would in Lambda's log.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


class Subsegment:
    def __init__(self, name: str) -> None:
        self.name = name
        self.metadata: dict[str, Any] = {}
        self.annotations: dict[str, Any] = {}

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.metadata[key] = repr(value)  # as X-Ray would serialise it when the subsegment closes

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value


class RecordingProvider:
    """Stands in for X-Ray: keeps the subsegments the Tracer opens and what it writes into them."""

    def __init__(self) -> None:
        self.subsegments: list[Subsegment] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: str, **_: Any) -> Iterator[Subsegment]:
        subsegment = Subsegment(name)
        self.subsegments.append(subsegment)
        yield subsegment


class Context:
    function_name = "StackProbe"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:StackProbe"
    aws_request_id = "req-1"
    log_group_name = "/aws/lambda/StackProbe"
    log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> RecordingProvider:
    from listrak_kit.observability import tracer

    provider = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", provider)
    cold_start.reset_cold_start_flag()
    return provider


def _emf_metrics(text: str) -> list[dict[str, Any]]:
    blobs = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            blob = json.loads(line)
            if isinstance(blob, dict) and "_aws" in blob:
                blobs.append(blob)
    return blobs


@pytest.mark.parametrize("kind", ["message", "model"])
def test_an_escaping_error_reaches_the_trace_and_the_caller_masked(trace: RecordingProvider, kind: str) -> None:
    from pydantic import BaseModel

    from listrak_kit.observability import observed

    class Detail(BaseModel):
        count: int

    @observed()
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if kind == "model":  # pydantic renders the input itself: the mask replaces the exception
            Detail.model_validate({"count": event["to"]})
        raise LookupError(f"no customer {event['to']}")

    with pytest.raises(Exception) as caught:
        handler({"to": ADDRESS}, Context())
    # An address is masked whole: in pydantic's text, input_value='jane.doe@... is all one address.
    masked = "j***@example.com" if kind == "message" else "i***@example.com"
    assert ADDRESS not in str(caught.value) and masked in str(caught.value)
    [subsegment] = trace.subsegments
    recorded = subsegment.metadata["handler error"]
    assert ADDRESS not in recorded and masked in recorded


def test_the_correlation_id_is_read_from_the_path_given(trace: RecordingProvider) -> None:
    from listrak_kit.observability import logger, observed

    seen: list[str | None] = []

    @observed(correlation_id_path="requestContext.requestId")
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(logger.get_correlation_id())
        return {}

    handler({"requestContext": {"requestId": "abc-123"}}, Context())
    assert seen == ["abc-123"]


def test_the_cold_start_metric_is_emitted_once_and_the_response_stays_out_of_the_trace(
    trace: RecordingProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    from listrak_kit.observability import observed

    @observed()
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"secret": ADDRESS}

    assert handler({}, Context()) == {"secret": ADDRESS}
    assert handler({}, Context()) == {"secret": ADDRESS}
    blobs = _emf_metrics(capsys.readouterr().out)
    cold = [b for b in blobs if "ColdStart" in b]
    assert len(cold) == 1 and cold[0]["function_name"] == "StackProbe"
    assert [s.metadata for s in trace.subsegments] == [{}, {}]  # capture_response=False


def _api(path: str) -> dict[str, Any]:
    return proxy_event("GET", path, {"Content-Type": "application/json"}, b"", path, {}, "v1")


def _storefront_event() -> dict[str, Any]:
    # A webhook topic the catalog does not send for: the function answers "ignored" without calling anyone.
    sample = json.loads((ROOT / "events" / "shopify-5-products-update-not-in-catalog.json").read_text())
    sample.pop("expected")
    return sample


# Each function's cheapest invocation, and where its correlation id comes from (None: it has none).
PROBES: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], str] | None]] = {
    "SendApiFunction": (lambda: _api("/nowhere"), lambda e: e["requestContext"]["requestId"]),
    "ResendFunction": (lambda: _api("/nowhere"), lambda e: e["requestContext"]["requestId"]),
    "HooksFunction": (lambda: _api("/nowhere"), lambda e: e["requestContext"]["requestId"]),
    "ImportApiFunction": (lambda: _api("/nowhere"), lambda e: e["requestContext"]["requestId"]),
    "SendEventFunction": (_storefront_event, lambda e: e["id"]),
    "ReconcileFunction": (lambda: {}, None),
    "DeliveryFunction": (lambda: {"action": "delivery"}, None),
    "ImportFunction": (lambda: {"action": "scan"}, None),
    "PrivacyApiFunction": (lambda: _api("/nowhere"), lambda e: e["requestContext"]["requestId"]),
    "PrivacyFunction": (lambda: {"action": "sweep"}, None),
}


def test_every_function_emits_its_cold_start_metric_and_sets_its_correlation_id(stack: Any) -> None:
    from listrak_kit.observability import logger

    assert set(PROBES) == set(stack.functions), "a new function needs its probe here"
    for logical_id, (build, correlation) in PROBES.items():
        log = stack.log_dir / f"{logical_id}.log"
        log.unlink(missing_ok=True)
        cold_start.reset_cold_start_flag()
        logger.set_correlation_id(None)
        event = build()
        stack.invoke(logical_id, event)
        cold = [b for b in _emf_metrics(log.read_text()) if "ColdStart" in b]
        assert len(cold) == 1 and cold[0]["function_name"] == logical_id, logical_id
        expected = correlation(event) if correlation else None
        assert logger.get_correlation_id() == expected, logical_id
