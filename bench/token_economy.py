"""Token economy: 50 cold containers (processes) start sending at one instant, 20 messages each, with the shared
token 5 minutes from expiry. Counts the tokens minted and the token-cache secret versions written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import LAYER, ROOT

CONTAINERS = 50
SENDS_EACH = 20


def moto_process() -> tuple[subprocess.Popen, str]:
    """moto in its own process for this run: a thousand concurrent sends would starve an in-process server."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(100):
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)
    return server, url


def measure(stack) -> dict:
    sandbox, sm = stack.sandbox, stack.client("secretsmanager")
    secret = stack.refs["EmailTokenCacheSecret"]
    token = sandbox.issue_token("Email", ttl_seconds=300)
    sm.put_secret_value(
        SecretId=secret, SecretString=json.dumps({"accessToken": token, "expiresAt": time.time() + 300})
    )
    versions_before = len(sm.list_secret_version_ids(SecretId=secret, IncludeDeprecated=True)["Versions"])
    before = sandbox.stats

    env = {
        **os.environ,
        **stack.environment_for("SendApiFunction"),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        # Files, not pipes: a child blocked on a full pipe would stall the whole fleet's token refresh.
        outputs = [Path(folder) / f"worker-{n}.log" for n in range(CONTAINERS)]
        go = Path(folder) / "go"
        workers = []
        for n, output in enumerate(outputs):
            with output.open("w") as sink:
                workers.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "bench.token_worker",
                            str(ROOT / "functions/send/rest.py"),
                            str(LAYER),
                            str(SENDS_EACH),
                            str(Path(folder) / f"ready-{n}"),
                            str(go),
                        ],
                        env=env,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )
                )
        while len(list(Path(folder).glob("ready-*"))) < CONTAINERS and all(w.poll() is None for w in workers):
            time.sleep(0.1)
        started = time.perf_counter()
        go.touch()
        codes = [w.wait(timeout=900) for w in workers]
        failures = [o.read_text()[-800:] for o, code in zip(outputs, codes, strict=True) if code != 0]
    elapsed = time.perf_counter() - started
    after = sandbox.stats
    versions_after = len(sm.list_secret_version_ids(SecretId=secret, IncludeDeprecated=True)["Versions"])
    return {
        "containers": CONTAINERS,
        "sends": after["sends"] - before["sends"],
        "tokens_minted": after["tokens_minted"] - before["tokens_minted"],
        "secret_versions_written": versions_after - versions_before,
        "failed_containers": len(failures),
        "first_failure": failures[0] if failures else None,
        "seconds": round(elapsed, 1),
    }
