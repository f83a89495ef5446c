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


def _dry_run(target: str) -> str:
    # -o: never remake the venv from here, only say what the target runs.
    done = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_make_quick_runs_the_layer_and_template_suites_only() -> None:
    [command] = [line for line in _dry_run("quick").splitlines() if "pytest" in line]
    suites = [word for word in command.split() if word.startswith("tests/")]
    assert sorted(suites) == ["tests/layer", "tests/template"]
    assert all((ROOT / suite).is_dir() for suite in suites)


def test_make_unit_reports_coverage_with_the_plugin_requirements_dev_pins() -> None:
    commands = _dry_run("unit")
    assert "--cov" in commands and "coverage report" in commands
    pins = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert re.search(r"^pytest-cov==\S+", pins, re.MULTILINE) and re.search(r"^coverage==\S+", pins, re.MULTILINE)
