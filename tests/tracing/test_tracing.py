"""Every function is traced with the shared Tracer; outside Lambda the Tracer stays silent and patches nothing."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from local_stack import ROOT
from local_stack.template import Template

PROBE_SCRIPT = Path(__file__).with_name("sampled_probe.py")

# Run as a Lambda container would import the layer, then make one AWS call; print what the Tracer did.
PROBE = """
import json, logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
from listrak_kit.observability import tracer
import boto3
boto3.client("sqs").list_queues()
print(json.dumps({
    "disabled": tracer.disabled,
    "sdk": "aws_xray_sdk" in sys.modules,
    "patched": sorted(sys.modules["aws_xray_sdk.core.patcher"]._PATCHED_MODULES)
    if "aws_xray_sdk.core.patcher" in sys.modules else [],
}))
"""
# A Lambda container with tracing on (Tracing: Active): Lambda's variables, POWERTOOLS_TRACE_DISABLED unset.
LAMBDA_ENV = {
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "Probe",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "POWERTOOLS_SERVICE_NAME": "probe",
}
IMPORTS = """
import importlib.util, json, sys
seen = {}
for name, path in json.loads(sys.argv[1]).items():
    spec = importlib.util.spec_from_file_location("handler_" + name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(__import__("pathlib").Path(path).parent))
    spec.loader.exec_module(module)
    seen[name] = sorted(m for m in sys.modules if m.split(".")[0] in ("aws_xray_sdk", "wrapt"))
print(json.dumps(seen))
"""


def _lambda_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_TRACE", "_X_AMZN", "AWS_XRAY"))}
    env.update(LAMBDA_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)])
    env.update(extra or {})
    return env


def _probe(stack, extra_env: dict[str, str]) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_TRACE")}
    env.update(stack.environment_for("SendApiFunction"))
    env.update(extra_env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT)])
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_the_local_stack_runs_functions_untraced_without_x_ray_errors(stack) -> None:
    # Even where Lambda's own variables are present (as in a container), the local environment turns tracing off.
    seen, stderr = _probe(stack, {"LAMBDA_TASK_ROOT": "/var/task"})
    assert seen == {"disabled": True, "sdk": False, "patched": []}
    assert "segment" not in stderr.lower() and "xray" not in stderr.lower(), stderr


def test_in_lambda_importing_the_tracer_imports_no_x_ray_sdk(stack) -> None:
    seen, _ = _probe(stack, {**LAMBDA_ENV, "POWERTOOLS_TRACE_DISABLED": "false"})
    assert seen == {"disabled": False, "sdk": False, "patched": []}


def test_no_handler_import_loads_the_x_ray_sdk_with_tracing_on() -> None:
    # The X-Ray SDK (and wrapt, which it brings) costs a cold start about as much as boto3: a handler's import
    # must not load it; the first sampled invocation does (or the SnapStart hook, before the snapshot).
    functions = Template.load(ROOT / "template.yaml", {}).functions()
    paths = {logical_id: str(spec.module_path) for logical_id, spec in functions.items()}
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS, json.dumps(paths)],
        env=_lambda_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(seen) == set(paths)
    assert seen == {logical_id: [] for logical_id in paths}, seen


def test_a_sampled_invocation_records_the_handler_and_its_aws_and_listrak_calls() -> None:
    done = subprocess.run(
        [sys.executable, str(PROBE_SCRIPT)], env=_lambda_env(), capture_output=True, text=True, timeout=120, check=True
    )
    unsampled, sampled, again = json.loads(done.stdout.strip().splitlines()[-1])
    # Lambda did not sample the cold start: it ran bare, and nothing was recorded.
    assert unsampled == {"sdk": False, "patched": [], "documents": []}
    # The first sampled invocation loaded the Tracer, patched both libraries, and recorded every call.
    assert sampled["sdk"] and sampled["patched"] == ["botocore", "requests"]
    documents = {d["name"]: d for d in sampled["documents"]}
    assert set(documents) == {"## handler", "dynamodb", "api.listrak.test"}, sampled["documents"]
    root = documents["## handler"]
    assert root["parent_id"] == "53995c3f42cd8ad8"  # Lambda's own segment, from the trace header
    assert root["annotations"]["ColdStart"] is False  # the unsampled invocation was the cold start
    assert {d["trace_id"] for d in documents.values()} == {"1-5759e988-bd862e3fe1be46a994272201"}
    assert documents["dynamodb"]["parent_id"] == documents["api.listrak.test"]["parent_id"] == root["id"]
    assert documents["dynamodb"]["aws"]["operation"] == "GetItem"
    assert documents["api.listrak.test"]["http"]["request"]["method"] == "POST"
    # Once loaded, the Tracer stays: an unsampled invocation goes through it and still records nothing.
    assert again["documents"] == []


class RecordingProvider:
    """Powertools' provider interface, keeping the names of the subsegments opened."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    @contextlib.contextmanager
    def in_subsegment(self, name: str, **_: object) -> Iterator[Any]:
        self.opened.append(name)
        yield types.SimpleNamespace(put_annotation=lambda **_: None, put_metadata=lambda **_: None)


def test_a_provider_given_to_the_shared_tracer_traces_every_invocation(monkeypatch) -> None:
    # Powertools' escape hatch keeps working through the lazy Tracer, even where tracing is off (as here).
    from listrak_kit.observability import tracer

    provider = RecordingProvider()
    monkeypatch.setattr(tracer, "provider", provider)

    @tracer.capture_lambda_handler(capture_response=False)
    def handler(event: dict, context: object) -> str:
        return "ok"

    assert handler({}, None) == "ok"
    assert provider.opened == ["## handler"]
