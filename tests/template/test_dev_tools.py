"""The pre-commit hooks are the checks make lint runs, with the tools requirements-dev.txt pins."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from local_stack import ROOT

CONFIG = ROOT / ".pre-commit-config.yaml"


def _hooks() -> dict[str, dict]:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def test_the_hooks_are_ruff_its_format_mypy_and_trailing_whitespace() -> None:
    assert set(_hooks()) == {"trailing-whitespace", "ruff", "ruff-format", "mypy"}


def test_each_hook_runs_a_tool_requirements_dev_pins() -> None:
    pinned = {
        line.split("==")[0].strip()
        for line in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    for hook_id, hook in _hooks().items():
        if hook["language"] != "system":
            continue
        tool = Path(hook["entry"].split()[0]).name
        assert tool in pinned, f"{hook_id} runs {tool}, which requirements-dev.txt does not pin"


def test_pre_commit_accepts_the_config() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_trailing_whitespace_hook_finds_trailing_whitespace() -> None:
    pattern = re.compile(_hooks()["trailing-whitespace"]["entry"], re.MULTILINE)
    assert pattern.search("value = 1 \nnext = 2") and pattern.search("value = 1\t")
    assert not pattern.search("value = 1\nnext = 2\n")
