"""`make invoke` and `make api` share one stack; a running `make api` picks up catalog edits."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import requests

from local_stack import ROOT, invoke
from local_stack.stack import running_stack
from tests.conftest import FIXTURE_CATALOG

ORDER = ROOT / "events" / "api-01-order-confirmation.json"


def test_invoke_runs_on_the_stack_make_api_serves(stack, api, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_STACK_STATE", str(tmp_path / "stack.json"))
    url, key = api
    with stack.advertised():
        assert invoke.main(["SendApiFunction", str(ORDER)]) == 0

    out, err = capsys.readouterr()
    assert json.loads(out.split("\n}\n")[0] + "\n}")["statusCode"] == 201
    assert f"on the stack `make api` runs, pid {os.getpid()}" in err
    assert stack.sandbox.stats["sends"] == 1  # the API's Listrak received it
    found = requests.get(f"{url}/messages/order-1001", headers={"x-api-key": key}, timeout=10)
    assert found.status_code == 200, found.text  # and the API finds the send in its table
    assert not (tmp_path / "stack.json").exists()  # gone with the server


def test_a_state_file_left_by_a_stopped_stack_is_ignored(stack, tmp_path, monkeypatch):
    monkeypatch.setenv("LOCAL_STACK_STATE", str(tmp_path / "stack.json"))
    with stack.advertised():
        assert running_stack() is not None
        done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        # That process has ended: its pid names no running stack.
        state = json.loads((tmp_path / "stack.json").read_text())
        (tmp_path / "stack.json").write_text(json.dumps(state | {"pid": int(done.stdout)}))
        assert running_stack() is None


def test_a_running_api_picks_up_catalog_edits(stack, api, tmp_path, monkeypatch, capsys):
    catalog = tmp_path / "catalog.toml"
    shutil.copy(FIXTURE_CATALOG, catalog)
    monkeypatch.setenv("CATALOG_PATH", str(catalog))
    url, key = api
    body = {"emailAddress": "jane@example.com", "message": "password-reset", "fields": {"firstName": "Jane"}}

    def send(reference: str) -> tuple[int, int]:
        answer = requests.post(
            f"{url}/messages", json=body | {"reference": reference}, headers={"x-api-key": key}, timeout=10
        )
        assert answer.status_code == 201, answer.text
        sent = stack.sandbox.sent_messages[-1]
        return sent["listId"], sent["transactionalMessageId"]

    assert send("reset-1") == (300001, 7003)
    text = catalog.read_text()
    catalog.write_text(text.replace("transactionalMessageId = 7003", "transactionalMessageId = 70099"))

    assert send("reset-2") == (300001, 70099)
    assert "catalog.toml changed: the functions load it again" in capsys.readouterr().err
