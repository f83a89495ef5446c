"""`make api` as a user runs it: a process that serves the API, works its queues and schedules, keeps its own
function logs, and says in one line which variable to set when a port it needs is taken."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from local_stack import ROOT, run
from tests.conftest import FIXTURE_CATALOG

KEY = "local-test-key"


def command_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOCAL_", "AWS_ENDPOINT", "LISTRAK_"))}
    paths = {"PYTHONPATH": f"{ROOT / 'layers' / 'shared'}:{ROOT}", "CATALOG_PATH": str(FIXTURE_CATALOG)}
    return env | paths | {"PYTHONUNBUFFERED": "1"} | extra


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "local_stack.api_server", *args],
        cwd=ROOT,
        env=command_env(LOCAL_STACK_STATE=str(tmp_path / "stack.json"), LOCAL_API_KEY=KEY, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A `make api` of its own (every schedule each second), and what its state file says."""
    process = serve(tmp_path, "--port", "0", LOCAL_SCHEDULE_SECONDS="1")
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"API on (http://\S+)", first)
        assert match, first + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        state = json.loads((tmp_path / "stack.json").read_text())
        yield state | {"url": match[1]}
    finally:
        stop(process)


def test_make_api_imports_what_its_nightly_schedule_finds_and_works_the_queue(make_api):
    s3 = boto3.client("s3", endpoint_url=make_api["aws_endpoint"], region_name="us-east-1")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "importbucket" in b["Name"])
    body = "".join(json.dumps({"sku": f"N-{n}"}) + "\n" for n in range(3))
    s3.put_object(Bucket=bucket, Key="products/nightly.jsonl", Body=body.encode())  # no S3 event: the scan finds it

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            answer = s3.get_object(Bucket=bucket, Key="results/products/nightly.jsonl.manifest.json")
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
            continue
        manifest = json.loads(answer["Body"].read())
        if manifest["state"] == "importing":  # planned; its part waits in the queue
            time.sleep(0.5)
            continue
        assert (manifest["state"], manifest["accepted"]) == ("imported", 3)
        return
    pytest.fail("make api neither fired the import schedule nor worked the import queue within 60 s")


def test_another_command_never_deletes_the_logs_of_a_running_make_api(stack, make_api, capsys):
    answer = requests.post(
        f"{make_api['url']}/messages",
        json={
            "emailAddress": "jane@example.com",
            "message": "password-reset",
            "fields": {"firstName": "Jane", "passwordResetLink": "https://shop.example.com/r/1"},
            "reference": "logs-1",
        },
        headers={"x-api-key": KEY},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    logs = Path(make_api.get("log_dir") or ROOT / ".local-stack" / "logs")
    written = (logs / "SendApiFunction.log").read_text()

    assert run.main([str(ROOT / "events" / "api-01-order-confirmation.json")]) == 0  # on the emptied test stack
    capsys.readouterr()

    assert (logs / "SendApiFunction.log").read_text().startswith(written)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize(
    ("how", "variable"),
    [("--port", "PORT"), ("LOCAL_AWS_PORT", "LOCAL_AWS_PORT"), ("LOCAL_LISTRAK_PORT", "LOCAL_LISTRAK_PORT")],
)
def test_a_busy_port_is_one_line_naming_the_variable_to_set(tmp_path, busy_port, how, variable):
    args = ["--port", str(busy_port)] if how == "--port" else ["--port", "0"]
    env = {} if how == "--port" else {how: str(busy_port)}
    process = serve(tmp_path, *args, **env)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        stop(process)
        pytest.fail(f"make api hung on a busy {variable}")
    assert process.returncode == 2, out + err
    [line] = err.strip().splitlines()
    assert f"port {busy_port}" in line and f"{variable}=" in line, line
    assert "Traceback" not in err
