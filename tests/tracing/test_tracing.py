"""Every function is traced with the shared Tracer; outside Lambda the Tracer stays silent and patches nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from local_stack import ROOT

# Run as a Lambda container would import the layer, then make one AWS call; print what the Tracer did.
PROBE = """
import json, logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
from listrak_kit.observability import tracer
import boto3
boto3.client("sqs").list_queues()
print(json.dumps({
    "disabled": tracer.disabled,
    "patched": sorted(sys.modules["aws_xray_sdk.core.patcher"]._PATCHED_MODULES)
    if "aws_xray_sdk.core.patcher" in sys.modules else [],
}))
"""


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
    assert seen == {"disabled": True, "patched": []}
    assert "segment" not in stderr.lower() and "xray" not in stderr.lower(), stderr


def test_in_lambda_the_tracer_patches_botocore_and_requests(stack) -> None:
    env = {
        "LAMBDA_TASK_ROOT": "/var/task",
        "POWERTOOLS_TRACE_DISABLED": "false",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    }
    seen, _ = _probe(stack, env)
    assert seen == {"disabled": False, "patched": ["botocore", "requests"]}
