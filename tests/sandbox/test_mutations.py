"""Mutation check: the suite, against the strict sandbox, fails when one rule of the project is broken.

Each case copies the project (its files, not what git ignores), breaks one thing in the copy, and runs there the
one test that must catch it. Turning an import rule off in imports/record_models.py or record_types.py, or
mis-casing a path in the client, has to make that test fail, or the sandbox is too kind to guard it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORD_MODELS = "layers/shared/listrak_kit/imports/record_models.py"
RECORD_TYPES = "layers/shared/listrak_kit/imports/record_types.py"
EMAIL_API = "layers/shared/listrak_kit/listrak/email_api.py"

MUTATIONS = {
    # The order status enum (of orders and their items) no longer checked: a "placed" order goes to Listrak.
    "order-status-enum-off": (
        RECORD_MODELS,
        "    status: OrderStatus | None = None",
        "    status: str | None = None",
        "tests/handlers/test_imports.py::test_each_entity_imports_its_valid_records_and_rejects_the_invalid[orders]",
    ),
    # maxLength 100 no longer checked (a customer's 101-character email goes to Listrak).
    "max-length-100-off": (
        RECORD_TYPES,
        "Str100 = Annotated[str, Field(max_length=100)]",
        "Str100 = Annotated[str, Field(max_length=1000)]",
        "tests/handlers/test_imports.py::test_each_entity_imports_its_valid_records_and_rejects_the_invalid[customers]",
    ),
    # The send path mis-cased: Listrak's routes match exactly, so the send is an unknown route.
    "send-path-case": (
        EMAIL_API,
        "/TransactionalMessage/{transactional_message_id}/Message",
        "/TransactionalMessage/{transactional_message_id}/message",
        "tests/handlers/test_send_api.py::test_send_by_catalog_name_reaches_listrak_with_field_ids",
    ),
}


def _copy_project(destination: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in tracked)):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _start(root: Path, name: str) -> subprocess.Popen[str]:
    path, original, broken, target = MUTATIONS[name]
    copy = root / name
    _copy_project(copy)
    text = (copy / path).read_text(encoding="utf-8")
    assert original in text, f"{path} no longer holds {original!r}: update this mutation"
    (copy / path).write_text(text.replace(original, broken), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LISTRAK_", "AWS_ENDPOINT"))}
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", target, "-x", "-q", "-p", "no:cacheprovider"],
        cwd=copy,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every mutated copy's target test, run side by side (each starts its own local stack)."""
    root = tmp_path_factory.mktemp("mutations")
    processes = {name: _start(root, name) for name in sorted(MUTATIONS)}
    try:
        outputs = {name: process.communicate(timeout=300)[0] for name, process in processes.items()}
        yield {name: (processes[name].returncode, output) for name, output in outputs.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_breaking_one_rule_makes_a_test_fail(runs, name):
    returncode, output = runs[name]

    assert returncode == 1, output[-3000:]  # 1: tests ran and failed (not a usage or collection error)
    assert "1 failed" in output and " error" not in output.split("short test summary")[-1], output[-3000:]
