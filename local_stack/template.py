"""Reads template.yaml the way CloudFormation would, for the parts the local stack emulates."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from cfnlint.decode import cfn_yaml


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    environment: dict[str, Any]
    events: dict[str, dict[str, Any]]
    max_async_retries: int
    on_failure_destination: Any | None
    alias: str | None = None  # AutoPublishAlias: the function's own events invoke this alias
    recursive_loop: str = "Terminate"  # RecursiveLoop: Allow lets the function run in a loop through SQS

    @property
    def config_qualifier(self) -> str:
        """What SAM attaches the EventInvokeConfig to, and what the function's own events invoke."""
        return self.alias or "$LATEST"

    @property
    def module_path(self) -> Path:
        module, _ = self.handler.rsplit(".", 1)
        return self.code_uri / (module.replace(".", "/") + ".py")

    @property
    def function_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    def import_module(self, name: str) -> ModuleType:
        """The handler's module, imported by file path as Lambda would (registered, so type hints resolve)."""
        module_spec = importlib.util.spec_from_file_location(name, self.module_path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {self.module_path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        module_spec.loader.exec_module(module)
        return module


@dataclass(frozen=True)
class EventRule:
    function: str
    name: str
    pattern: dict[str, Any]
    where: str  # the rule's detail-type list in the template

    def matches_detail_type(self, detail_type: str) -> bool:
        wanted = self.pattern.get("detail-type")
        if wanted is None:
            return True  # the rule does not filter on it
        return any(
            w == detail_type or (isinstance(w, dict) and detail_type.startswith(w.get("prefix", "\0"))) for w in wanted
        )


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str], *, keep_existing: bool = False) -> Iterator[None]:
    """Sets environment variables for the duration, then puts back exactly what was there."""
    saved = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if not (keep_existing and name in os.environ):
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Template:
    path: Path
    body: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, overrides: dict[str, str] | None = None) -> Template:
        body = _plain(cfn_yaml.load(str(path)))
        parameters = {name: spec.get("Default") for name, spec in body.get("Parameters", {}).items()}
        parameters.update(overrides or {})
        return cls(path=path, body=body, parameters=parameters)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Resources", {})

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == resource_type}

    def condition(self, name: str | None) -> bool:
        """A Conditions entry (Fn::Not, Fn::Equals, Fn::And, Fn::Or, Ref to parameters); no name is true."""
        if name is None:
            return True
        return bool(self._evaluate(self.body.get("Conditions", {})[name]))

    def _evaluate(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.parameters[arg]
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self._evaluate(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate(arg[0])
            if key == "Fn::And":
                return all(self._evaluate(a) for a in arg)
            if key == "Fn::Or":
                return any(self._evaluate(a) for a in arg)
        return node

    def present(self, logical_id: str) -> bool:
        """Whether CloudFormation would create this resource with the current parameters."""
        return self.condition(self.resources[logical_id].get("Condition"))

    def api_stage(self) -> str:
        """The stage the REST API deploys to (its StageName, resolved): what leads every path on AWS."""
        for resource in self.of_type("AWS::Serverless::Api").values():
            stage = self.resolve(resource.get("Properties", {}).get("StageName"), {}, {})
            if isinstance(stage, str) and stage:
                return stage
        raise LookupError(f"{self.path.name} has no AWS::Serverless::Api with a StageName")

    def functions(self) -> dict[str, FunctionSpec]:
        defaults = self.body.get("Globals", {}).get("Function", {})
        specs = {}
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = resource.get("Properties", {})
            env = dict(defaults.get("Environment", {}).get("Variables", {}))
            env.update(props.get("Environment", {}).get("Variables", {}))
            invoke = props.get("EventInvokeConfig", {})
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_uri=(self.path.parent / props.get("CodeUri", defaults.get("CodeUri", "."))).resolve(),
                handler=props.get("Handler", defaults.get("Handler", "")),
                timeout=int(props.get("Timeout", defaults.get("Timeout", 3))),
                environment=env,
                events=props.get("Events", {}),
                max_async_retries=int(invoke.get("MaximumRetryAttempts", 2)),
                on_failure_destination=invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
                alias=props.get("AutoPublishAlias", defaults.get("AutoPublishAlias")),
                recursive_loop=str(props.get("RecursiveLoop", defaults.get("RecursiveLoop", "Terminate"))),
            )
        return specs

    def catalog_rules(self) -> list[EventRule]:
        """The EventBridge rules to the functions that load a catalog (a catalog.toml beside their code): their
        EventBridgeRule events first, then AWS::Events::Rule resources that target them."""
        readers = {k for k, spec in self.functions().items() if (spec.code_uri / "catalog.toml").is_file()}
        rules = [
            EventRule(
                k,
                name,
                ev["Properties"].get("Pattern", {}),
                f"Resources.{k}.Properties.Events.{name}.Properties.Pattern.detail-type",
            )
            for k, spec in self.functions().items()
            if k in readers
            for name, ev in spec.events.items()
            if ev.get("Type") == "EventBridgeRule"
        ]
        for rule_id, resource in self.of_type("AWS::Events::Rule").items():
            props = resource.get("Properties", {})
            for target in props.get("Targets", []):
                function = target_function(target.get("Arn"))
                if function in readers:
                    where = f"Resources.{rule_id}.Properties.EventPattern.detail-type"
                    rules.append(EventRule(function, rule_id, props.get("EventPattern", {}), where))
        return rules

    def resolve(self, value: Any, refs: dict[str, str], attributes: dict[tuple[str, str], str]) -> Any:
        """Ref, Fn::GetAtt and Fn::Sub against the local stack's physical ids; other values unchanged."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                if arg in refs:
                    return refs[arg]
                if arg in self.parameters:
                    return self.parameters[arg]
                pseudo = {"AWS::Region": refs.get("AWS::Region", "us-east-1"), "AWS::AccountId": "123456789012"}
                if arg in pseudo:
                    return pseudo[arg]
                raise KeyError(f"cannot resolve Ref {arg}")
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return attributes[(logical, attribute)]
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]

                def sub(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if "." in name:
                        return str(self.resolve({"Fn::GetAtt": name}, refs, attributes))
                    return str(self.resolve({"Ref": name}, refs, attributes))

                return re.sub(r"\$\{([^}!]+)\}", sub, text)
        if isinstance(value, dict):
            return {k: self.resolve(v, refs, attributes) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, refs, attributes) for v in value]
        return value


def target_function(arn: Any) -> str | None:
    """The function a rule target invokes: `!GetAtt F.Arn`, or its alias `!Ref F.Alias`."""
    if isinstance(arn, dict) and "Fn::GetAtt" in arn:
        return str(arn["Fn::GetAtt"][0])
    if isinstance(arn, dict) and str(arn.get("Ref", "")).endswith(".Alias"):
        return str(arn["Ref"]).removesuffix(".Alias")
    return None


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node
