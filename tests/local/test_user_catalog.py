"""A user's catalog is theirs: editing functions/send/catalog.toml (new messages, their own IDs) breaks no test."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys

from local_stack import ROOT

# `make check` validates the user's catalog (in `make test`); tests only ever name it to copy it.
ALLOWED = {"tests/local/test_user_catalog.py"}


def names_the_users_catalog(source: str) -> bool:
    """A string in code (comments and docstrings aside) that spells its path, whole or in parts."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }
    whole = any(re.search(r"functions/send/catalog\.toml", s) for s in strings)
    parts = {"functions", "send", "catalog.toml"} <= strings or re.search(r"with_name\(\s*[\"']catalog\.toml", source)
    return whole or bool(parts)


def test_the_check_for_readers_of_the_users_catalog_sees_each_spelling():
    assert names_the_users_catalog('p = ROOT / "functions/send/catalog.toml"')
    assert names_the_users_catalog('p = ROOT / "functions" / "send" / "catalog.toml"')
    assert names_the_users_catalog('p = Path(x).with_name("catalog.toml")')
    assert not names_the_users_catalog("# functions/send/catalog.toml\np = FIXTURE_CATALOG")
    assert not names_the_users_catalog('F = D / "catalog.toml"\nS = F.with_name("no-running-stack.json")')


def test_no_test_reads_the_users_catalog():
    readers = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").rglob("*.py")
        if names_the_users_catalog(path.read_text(encoding="utf-8"))
    }
    assert readers <= ALLOWED, sorted(readers - ALLOWED)


def test_a_sandbox_backed_test_passes_against_a_users_own_catalog(tmp_path):
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns(".venv*", ".git", ".aws-sam", ".local-stack", "*_cache", "__pycache__")
    shutil.copytree(ROOT, copy, ignore=ignore)
    catalog = copy / "functions" / "send" / "catalog.toml"
    text = catalog.read_text(encoding="utf-8")
    # The user's account: other IDs, one more message, one sample message gone.
    text = text.replace("listId = 300001", "listId = 123456").replace("= 5101", "= 9999")
    text = re.sub(r"\[messages\.new-lead\].*?(?=\n\[messages\.loyalty)", "", text, flags=re.S)
    text += "\n[messages.back-in-stock]\nlistId = 123456\ntransactionalMessageId = 8123\n"
    catalog.write_text(text, encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if k != "CATALOG_PATH"}  # as in a developer's shell
    test = "tests/handlers/test_send_api.py::test_send_by_catalog_name_reaches_listrak_with_field_ids"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
