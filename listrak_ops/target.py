"""Which deployed stack a command acts on, and in which region: said by the operator, or samconfig.toml's.

The stack: `--stack`, else `LISTRAK_STACK`, else the `stack_name` of samconfig.toml's `[<config env>]` (its global,
then its deploy parameters: what `sam deploy --config-env` used). The region, in the order `sam` itself follows:
`--region`, else samconfig.toml's, else the AWS configuration's (AWS_REGION, AWS_DEFAULT_REGION, the profile).
Every command says which stack and region it chose, and where each came from, so that an operator never acts on
the wrong one unawares.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

SAMCONFIG = "samconfig.toml"


class TargetUnknown(Exception):
    """No stack name or no region could be found; the message says what to pass."""


@dataclass(frozen=True)
class Target:
    stack: str
    region: str
    source: str  # e.g. "samconfig.toml [prod]", "--stack", "LISTRAK_STACK"

    def describe(self) -> str:
        return f"stack {self.stack} in {self.region} ({self.source})"


def find_samconfig(start: Path | None = None) -> Path | None:
    """samconfig.toml in the current folder or the nearest folder above it (a project checkout)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / SAMCONFIG
        if candidate.is_file():
            return candidate
    return None


def samconfig_parameters(path: Path, config_env: str) -> dict[str, str]:
    """The stack_name and region an environment of samconfig.toml gives `sam deploy` (global, then deploy)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TargetUnknown(f"{path} cannot be read: {exc}") from None
    environment = document.get(config_env)
    if not isinstance(environment, dict):
        known = ", ".join(k for k, v in document.items() if isinstance(v, dict)) or "none"
        raise TargetUnknown(f"{path} has no environment [{config_env}] (it has: {known})")
    found: dict[str, str] = {}
    for command in ("global", "deploy"):
        parameters = (environment.get(command) or {}).get("parameters") or {}
        for key in ("stack_name", "region"):
            if isinstance(parameters.get(key), str) and key not in found:
                found[key] = parameters[key]
    return found


def resolve(
    *,
    stack: str | None,
    region: str | None,
    config_env: str,
    session_region: str | None,
    samconfig: Path | None,
) -> Target:
    """The stack and region to act on; `session_region` is what boto3 found in the environment and profile."""
    config = samconfig_parameters(samconfig, config_env) if samconfig is not None else {}
    where = f"{SAMCONFIG} [{config_env}]"
    sources: list[str] = []
    if stack:
        sources.append("--stack")
    elif os.environ.get("LISTRAK_STACK"):
        stack = os.environ["LISTRAK_STACK"]
        sources.append("LISTRAK_STACK")
    elif config.get("stack_name"):
        stack = config["stack_name"]
        sources.append(where)
    else:
        looked = f"; {samconfig} names none in [{config_env}]" if samconfig else f"; no {SAMCONFIG} here or above"
        raise TargetUnknown(f"which stack? pass --stack NAME, set LISTRAK_STACK, or use --local{looked}")
    if region:
        sources.append("--region")
    elif config.get("region"):
        region = config["region"]
        sources.append(f"region from {where}")
    elif session_region:
        region = session_region
        sources.append("region from the AWS configuration")
    else:
        raise TargetUnknown(
            f"which region is stack {stack} in? pass --region, set AWS_REGION, or add region to {SAMCONFIG}"
        )
    return Target(stack=stack, region=region, source=", ".join(sources))
