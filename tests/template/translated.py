"""template.yaml as CloudFormation receives it: packaged like `sam package`, translated by the SAM transform."""

from __future__ import annotations

import copy
import hashlib
import json
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from local_stack import ROOT, TEMPLATE
from local_stack.template import Template

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
RUNNER = Path(__file__).with_name("sam_translate.py")
ENVIRONMENTS = ("default", "prod")
CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}


def deploy_parameters(environment: str) -> dict[str, str]:
    """samconfig.toml's parameter_overrides for `sam deploy --config-env <environment>`."""
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = config[environment]["deploy"]["parameters"].get("parameter_overrides", "")
    return dict(pair.split("=", 1) for pair in shlex.split(overrides))


def stack_name(environment: str) -> str:
    return str(tomllib.loads((ROOT / "samconfig.toml").read_text())[environment]["global"]["parameters"]["stack_name"])


def folder_digest(folder: Path) -> str:
    """What `sam package` names an upload by: a digest of the folder's files."""
    digest = hashlib.md5(usedforsecurity=False)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def packaged(body: dict[str, Any], content: dict[str, str] | None = None) -> dict[str, Any]:
    """The template with each local code folder replaced by an S3 location named by its content, as `sam package`
    leaves it; `content` overrides a resource's digest (a changed layer, without changing the files)."""
    body = copy.deepcopy(body)
    for logical_id, resource in body["Resources"].items():
        prop = CODE_PROPERTIES.get(resource.get("Type", ""))
        if prop is None:
            continue
        folder = ROOT / resource["Properties"][prop]
        key = (content or {}).get(logical_id) or folder_digest(folder)
        resource["Properties"][prop] = f"s3://deploy-artifacts/{key}"
    return body


def source() -> dict[str, Any]:
    return Template.load(TEMPLATE).body


def translate_all(cases: list[tuple[dict[str, Any], dict[str, str]]]) -> list[dict[str, Any]]:
    """Each (SAM template, parameter values) through the SAM transform, in one run of the SAM CLI's interpreter."""
    if not SAM_PYTHON.exists():
        pytest.fail(f"{SAM_PYTHON} is missing: `make install` puts the SAM CLI (and its translator) there")
    payload = json.dumps([{"template": t, "parameters": p} for t, p in cases])
    result = subprocess.run(
        [str(SAM_PYTHON), str(RUNNER)], input=payload, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    translated: list[dict[str, Any]] = json.loads(result.stdout)
    return translated
