"""Which stack and region listrak-sam acts on: samconfig.toml's unless the operator names another, and it says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from listrak_ops.cli import main
from listrak_ops.target import TargetUnknown, find_samconfig, resolve
from local_stack import ROOT

SAMCONFIG = """version = 0.1
[default.global.parameters]
stack_name = "shop-dev"
[prod.global.parameters]
stack_name = "shop-prod"
[prod.deploy.parameters]
region = "eu-west-1"
"""


@pytest.fixture
def samconfig(tmp_path: Path) -> Path:
    path = tmp_path / "samconfig.toml"
    path.write_text(SAMCONFIG, encoding="utf-8")
    return path


def test_the_project_s_own_samconfig_names_the_stacks_sam_deploy_creates() -> None:
    found = find_samconfig(ROOT / "docs")
    assert found == ROOT / "samconfig.toml"
    default = resolve(stack=None, region=None, config_env="default", session_region="us-east-2", samconfig=found)
    prod = resolve(stack=None, region=None, config_env="prod", session_region="us-east-2", samconfig=found)
    assert (default.stack, prod.stack) == ("listrak-sam", "listrak-sam-prod")


def test_samconfig_s_environment_gives_stack_and_region_and_the_source_is_said(samconfig, monkeypatch) -> None:
    monkeypatch.delenv("LISTRAK_STACK", raising=False)
    target = resolve(stack=None, region=None, config_env="prod", session_region="us-east-1", samconfig=samconfig)
    assert (target.stack, target.region) == ("shop-prod", "eu-west-1")
    said = "stack shop-prod in eu-west-1 (samconfig.toml [prod], region from samconfig.toml [prod])"
    assert target.describe() == said


def test_the_command_line_wins_then_the_environment(samconfig, monkeypatch) -> None:
    monkeypatch.setenv("LISTRAK_STACK", "from-env")
    by_env = resolve(stack=None, region=None, config_env="default", session_region="ca-central-1", samconfig=samconfig)
    assert (by_env.stack, by_env.region, by_env.source) == (
        "from-env",
        "ca-central-1",
        "LISTRAK_STACK, region from the AWS configuration",
    )
    named = resolve(stack="mine", region="ap-south-1", config_env="prod", session_region=None, samconfig=samconfig)
    assert (named.stack, named.region, named.source) == ("mine", "ap-south-1", "--stack, --region")


def test_no_region_anywhere_is_one_clear_line(samconfig, monkeypatch) -> None:
    monkeypatch.delenv("LISTRAK_STACK", raising=False)
    with pytest.raises(TargetUnknown, match=r"which region is stack shop-dev in\? pass --region"):
        resolve(stack=None, region=None, config_env="default", session_region=None, samconfig=samconfig)


def test_an_unknown_environment_names_the_ones_there_are(samconfig) -> None:
    with pytest.raises(TargetUnknown, match=r"no environment \[staging\] \(it has: default, prod\)"):
        resolve(stack=None, region=None, config_env="staging", session_region=None, samconfig=samconfig)


def test_no_samconfig_and_no_name_says_what_to_pass(monkeypatch) -> None:
    monkeypatch.delenv("LISTRAK_STACK", raising=False)
    with pytest.raises(TargetUnknown, match="pass --stack NAME, set LISTRAK_STACK, or use --local"):
        resolve(stack=None, region=None, config_env="default", session_region="us-east-1", samconfig=None)


def test_the_command_uses_samconfig_s_stack_and_says_which(stack, samconfig, monkeypatch, capsys) -> None:
    import json

    monkeypatch.delenv("LISTRAK_STACK", raising=False)
    monkeypatch.chdir(samconfig.parent)
    stack.client("cloudformation").create_stack(
        StackName="shop-dev", TemplateBody=json.dumps({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}})
    )

    assert main(["dlq", "list"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("using stack shop-dev in ") and "(samconfig.toml [default]" in err

    assert main(["--config-env", "prod", "dlq", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("stack shop-prod:") and "in eu-west-1" in err


def test_local_with_no_running_stack_says_so_in_one_line_instead_of_attaching_to_a_port(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCAL_STACK_STATE", str(tmp_path / "none.json"))

    assert main(["--local", "dlq", "list"]) == 2

    err = capsys.readouterr().err.strip()
    assert err.startswith("no local stack is running: start one with `make api`") and len(err.splitlines()) == 1
