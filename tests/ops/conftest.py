"""The operator command's tests: `listrak-sam --local ...` run in-process against the test's local stack."""

from __future__ import annotations

import contextlib
import io

import pytest

from listrak_ops.cli import main
from local_stack.stack import LocalStack
from tests.local.conftest import api  # noqa: F401  (the local API server over HTTP, for the signed routes)


@pytest.fixture
def cli(stack, monkeypatch):
    """Runs `listrak-sam --local ...` in-process against the test's local stack; returns (exit code, out, err)."""
    for name, url in stack.listrak_urls.items():
        monkeypatch.setenv(name, url)
    attach = LocalStack.attach

    def attach_with_the_test_s_settings(self: LocalStack) -> LocalStack:
        self.env_overrides.update(stack.env_overrides)  # short Listrak retries, as the test's own stack has
        self.runner.log_dir = stack.log_dir  # the running stack's own function logs
        return attach(self)

    monkeypatch.setattr(LocalStack, "attach", attach_with_the_test_s_settings)

    def run(*argv: str) -> tuple[int, str, str]:
        # Not capsys: a handler imported during the command keeps the stdout it saw, which capsys closes after
        # the test, and the next test's invocations would write to a closed file.
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--local", *argv])
        return code, out.getvalue(), err.getvalue()

    return run
