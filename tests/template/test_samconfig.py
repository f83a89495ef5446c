"""samconfig.toml and the Makefile's SAM targets: what `sam local`, `sam sync`, `sam logs` and `sam delete` get."""

from __future__ import annotations

import json
import subprocess
import tomllib

import pytest

from local_stack import ROOT

CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(ROOT), *args], capture_output=True, text=True)


@pytest.mark.parametrize("command", ["local_invoke", "local_start_api"])
def test_sam_local_reads_the_environment_of_the_local_stack(command):
    env_vars = CONFIG["default"][command]["parameters"]["env_vars"]
    assert env_vars == "env.json"
    values = json.loads((ROOT / env_vars).read_text())
    assert values["Parameters"]["TABLE_NAME"]  # every function gets these, pointed at the local stack
    assert values["Parameters"]["LISTRAK_EMAIL_API_URL"].startswith("http://host.docker.internal:")


def test_sync_watches_with_the_deploy_parameters_and_logs_include_traces():
    default = CONFIG["default"]
    assert default["sync"]["parameters"]["watch"] is True
    assert (
        default["sync"]["parameters"]["parameter_overrides"] == default["deploy"]["parameters"]["parameter_overrides"]
    )
    assert "sync" not in CONFIG["prod"]
    for env in ("default", "prod"):
        assert CONFIG[env]["logs"]["parameters"]["include_traces"] is True


def test_make_sync_logs_and_delete_run_sam_with_the_config_env():
    sync = make("-n", "sync").stdout.splitlines()[-1]
    assert sync.endswith("sam sync --watch --template template.yaml --config-env default")
    logs = make("-n", "logs", "FN=SendApiFunction").stdout.split()
    assert logs[-5:] == ["--config-env", "default", "--name", "SendApiFunction", "--tail"]
    assert "--name" not in make("-n", "logs").stdout
    assert make("-n", "delete", "CONFIG_ENV=prod").stdout.strip().endswith("sam delete --config-env prod")


def test_make_sync_refuses_prod():
    result = make("sync", "CONFIG_ENV=prod")
    assert result.returncode != 0
    assert "not for prod" in result.stdout


def test_make_help_lists_the_sam_targets():
    listed = {line.split()[1] for line in make("help").stdout.splitlines()}
    assert {"sync", "logs", "delete", "deploy", "build"} <= listed
