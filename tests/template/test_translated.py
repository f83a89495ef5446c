"""What CloudFormation gets: template.yaml packaged and translated by the SAM transform, per samconfig environment."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack import ROOT
from tests.template.translated import (
    ENVIRONMENTS,
    deploy_parameters,
    packaged,
    source,
    stack_name,
    translate_all,
)

# Shopify's partner rule exists only with a source; every environment is checked with one.
SHOPIFY = {"ShopifyEventSourceName": "aws.partner/shopify.com/1234567/storefront"}


@pytest.fixture(scope="module")
def deployed() -> dict[str, dict[str, Any]]:
    """Each samconfig environment's template as its deploy translates it (with the Shopify rule present)."""
    body = packaged(source())
    translated = translate_all([(body, {**deploy_parameters(env), **SHOPIFY}) for env in ENVIRONMENTS])
    return dict(zip(ENVIRONMENTS, translated, strict=True))


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def aliases(template: dict[str, Any]) -> dict[str, str]:
    """Alias logical id -> its function's logical id, for every `live` alias."""
    return {
        k: v["Properties"]["FunctionName"]["Ref"]
        for k, v in of_type(template, "AWS::Lambda::Alias").items()
        if v["Properties"]["Name"] == "live"
    }


def invokers(template: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(where, what it invokes) for every way something outside invokes a function."""
    paths = template["Resources"]["RestApi"]["Properties"]["Body"]["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            [target] = re.findall(r"functions/\$\{([^}]+)\}/invocations", uri)
            yield f"API {method.upper()} {path}", {"Ref": target}
    for rule_id, rule in of_type(template, "AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            yield f"rule {rule_id}", target["Arn"]
    for schedule_id, schedule in of_type(template, "AWS::Scheduler::Schedule").items():
        yield f"schedule {schedule_id}", schedule["Properties"]["Target"]["Arn"]
    for mapping_id, mapping in of_type(template, "AWS::Lambda::EventSourceMapping").items():
        yield f"queue mapping {mapping_id}", mapping["Properties"]["FunctionName"]
    for permission_id, permission in of_type(template, "AWS::Lambda::Permission").items():
        yield f"permission {permission_id}", permission["Properties"]["FunctionName"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_function_has_a_live_alias_and_every_invocation_source_targets_it(deployed, env):
    template = deployed[env]
    live = aliases(template)
    assert set(live.values()) == set(of_type(template, "AWS::Lambda::Function"))
    found = list(invokers(template))
    assert any(where.startswith("rule ShopifyWebhookRule") for where, _ in found)
    for where, target in found:
        assert isinstance(target, dict) and set(target) == {"Ref"}, (where, target)
        assert target["Ref"] in live, f"{where} invokes {target}, not a live alias"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_retries_and_dead_letter_destinations_are_the_alias_s(deployed, env):
    template = deployed[env]
    configs = of_type(template, "AWS::Lambda::EventInvokeConfig")
    assert {c["Properties"]["FunctionName"]["Ref"] for c in configs.values()} >= {"SendEventFunction", "ImportFunction"}
    for config_id, config in configs.items():
        assert config["Properties"]["Qualifier"] == "live", config_id
        assert "OnFailure" in config["Properties"]["DestinationConfig"], config_id


def versions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, tuple[str, Any]]:
    """Function logical id -> what publishes its `live` version: the version's logical id, and its description as
    the deploy resolves it (a version cannot change in place: a new id or a new description publishes anew)."""
    values = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()} | parameters
    found = {}
    for alias, function in aliases(template).items():
        version = template["Resources"][alias]["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]
        description = template["Resources"][version]["Properties"].get("Description")
        found[function] = (version, resolve(description, values, "stack", {}))
    return found


def test_a_changed_layer_publishes_a_new_version_of_every_function():
    body = source()
    parameters = deploy_parameters("default")
    before, after = translate_all(
        [(packaged(body), parameters), (packaged(body, {"SharedLayer": "a-changed-layer-digest"}), parameters)]
    )
    old, new = versions(before, parameters), versions(after, parameters)
    assert old.keys() == new.keys()
    assert [f for f in old if old[f] == new[f]] == []


def parameters_read(node: Any, resources: dict[str, Any], parameters: set[str]) -> set[str]:
    """The template parameters a value resolves from: directly, or through a resource named by one."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= parameters_read(item, resources, parameters)
    elif isinstance(node, dict):
        names: list[str] = []
        if "Ref" in node:
            names.append(node["Ref"])
        if "Fn::GetAtt" in node:
            names.append(node["Fn::GetAtt"][0])
        if "Fn::Sub" in node:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            names += [n.split(".")[0] for n in re.findall(r"\$\{([^}!]+)\}", text)]
        for name in names:
            if name in parameters:
                found.add(name)
            elif name in resources:
                found |= parameters_read(resources[name].get("Properties", {}).get("Name"), resources, parameters)
        for value in node.values():
            found |= parameters_read(value, resources, parameters)
    return found


def another_value(spec: dict[str, Any], current: str) -> str:
    if "AllowedValues" in spec:
        return str(next(v for v in spec["AllowedValues"] if str(v) != current))
    if spec["Type"] == "Number":
        return str(int(float(current)) + 1)
    return current + "1" if current else "1"


def test_a_changed_parameter_publishes_a_new_version_of_each_function_it_reaches():
    body = source()
    base = deploy_parameters("default")
    specs = body["Parameters"]
    current = {name: str(base.get(name, spec.get("Default", ""))) for name, spec in specs.items()}
    [reference] = translate_all([(packaged(body), base)])
    resources = reference["Resources"]
    reached: dict[str, set[str]] = {}  # parameter -> functions whose configuration (not their role) it reaches
    for function_id, function in of_type(reference, "AWS::Lambda::Function").items():
        configuration = {k: v for k, v in function["Properties"].items() if k != "Role"}
        for name in parameters_read(configuration, resources, set(specs)):
            reached.setdefault(name, set()).add(function_id)
    assert {"LogLevel", "SendMaxAttempts", "StorefrontBusName", "ContactsListName"} <= reached.keys()
    # Each version's description names exactly the parameters its function reads: a new description always comes
    # with a changed configuration, from which Lambda publishes (it publishes nothing from an unchanged one).
    for function_id, (version_id, _) in versions(reference, base).items():
        described = parameters_read(resources[version_id]["Properties"]["Description"], resources, set(specs))
        assert described == {name for name, functions in reached.items() if function_id in functions}, function_id
    changed = sorted(reached)
    translations = translate_all(
        [(packaged(body), {**base, name: another_value(specs[name], current[name])}) for name in changed]
    )
    old = versions(reference, base)
    stale = [
        (name, function)
        for name, translated in zip(changed, translations, strict=True)
        for function in sorted(reached[name])
        if versions(translated, {**base, name: another_value(specs[name], current[name])})[function] == old[function]
    ]
    assert stale == [], "a deploy that changes only these parameters would leave these functions' live alias as it was"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_version_description_fits_lambda_s_limit(deployed, env):
    # It carries the function's settings; Lambda refuses a description over 256 characters.
    described = versions(deployed[env], deploy_parameters(env))
    for function_id, (_, description) in described.items():
        assert isinstance(description, str) and len(description) <= 256, function_id


def resolve(node: Any, parameters: dict[str, str], stack: str, conditions: dict[str, bool]) -> Any:
    """A name as CloudFormation would resolve it from parameters and the stack's name; resource references stay."""
    if isinstance(node, dict) and len(node) == 1:
        ((key, arg),) = node.items()
        if key == "Ref" and arg == "AWS::StackName":
            return stack
        if key == "Ref" and arg in parameters:
            return parameters[arg]
        if key == "Fn::Sub" and isinstance(arg, str):
            return re.sub(r"\$\{([^}!.]+)\}", lambda m: str(resolve({"Ref": m.group(1)}, parameters, stack, {})), arg)
        if key == "Fn::If":
            name, when_true, when_false = arg
            return resolve(when_true if conditions[name] else when_false, parameters, stack, conditions)
    return node


SCOPED_NAMES = {"AWS::Lambda::Alias"}  # named within their function, which the stack names afresh
NAME_PROPERTIES = {
    "AWS::Events::EventBus": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::ApiGateway::ApiKey": "Name",
    "AWS::ApiGateway::UsagePlan": "UsagePlanName",
}


def explicit_names(env: str, template: dict[str, Any]) -> set[tuple[str, str]]:
    """(type, physical name) of every resource the template names itself, as this environment's deploy resolves."""
    parameters = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    parameters.update(deploy_parameters(env))
    conditions = {"HasShopifyEventSource": False}  # samconfig's environments connect no Shopify source
    names = set()
    for logical_id, resource in template["Resources"].items():
        if resource.get("Condition") in conditions and not conditions[resource["Condition"]]:
            continue
        props = resource.get("Properties", {})
        if resource["Type"] in SCOPED_NAMES:
            continue
        known = NAME_PROPERTIES.get(resource["Type"])
        assert known or not {"Name", "RoleName", "TableName", "QueueName", "BucketName"} & props.keys(), logical_id
        if known and known in props:
            name = resolve(props[known], parameters, stack_name(env), conditions)
            assert isinstance(name, str), (logical_id, name)
            names.add((resource["Type"], name))
    return names


def test_the_two_environments_share_no_physical_name(deployed):
    default, prod = (explicit_names(env, deployed[env]) for env in ENVIRONMENTS)
    assert default and prod
    assert default & prod == set()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_send_records_table_is_protected_from_deletion(deployed, env):
    table = deployed[env]["Resources"]["Table"]
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def redirect_route_arn(statement: dict[str, Any]) -> list[Any]:
    resources = statement["Resource"]
    return resources if isinstance(resources, list) else [resources]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_the_support_role_may_call_the_redirect_route(deployed, env):
    template = deployed[env]
    body = template["Resources"]["RestApi"]["Properties"]
    policy = body.get("Policy") or body["Body"].get("x-amazon-apigateway-policy")
    assert policy, "the API has no resource policy"
    role = {"Fn::GetAtt": ["SupportRole", "Arn"]}
    assert template["Resources"]["SupportRole"]["Type"] == "AWS::IAM::Role"
    route = "/POST/support/messages/*/redirect"
    denies = [
        s
        for s in policy["Statement"]
        if s["Effect"] == "Deny" and any(route in str(r) for r in redirect_route_arn(s)) and s.get("Condition")
    ]
    assert denies, "nothing denies the redirect route to callers other than the support role"
    [deny] = denies
    assert deny["Principal"] == "*" and deny["Action"] == "execute-api:Invoke"
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": role}}
    # The routes that API keys guard stay open to the gateway's own checks: the policy allows everyone else in.
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert any(s["Principal"] == "*" and s["Action"] == "execute-api:Invoke" for s in allows)
    # The support role holds the permission the route's IAM check needs.
    managed = [p for p in of_type(template, "AWS::IAM::ManagedPolicy").values() if p["Properties"].get("Roles")]
    assert [p["Properties"]["Roles"] for p in managed] == [[{"Ref": "SupportRole"}]]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_unauthenticated_webhook_route_is_throttled(deployed, env):
    [stage] = of_type(deployed[env], "AWS::ApiGateway::Stage").values()
    settings = stage["Properties"].get("MethodSettings", [])
    [webhook] = [s for s in settings if s["ResourcePath"] == "/~1webhooks~1shopify" and s["HttpMethod"] == "POST"]
    assert webhook["ThrottlingRateLimit"] == {"Ref": "WebhookRateLimit"}
    assert webhook["ThrottlingBurstLimit"] == {"Ref": "WebhookBurstLimit"}
    parameters = deployed[env]["Parameters"]
    assert parameters["WebhookRateLimit"]["Type"] == parameters["WebhookBurstLimit"]["Type"] == "Number"


def deployer_policy() -> dict[str, Any]:
    text = (ROOT / "docs" / "deploying.md").read_text()
    section = text.split("### Permissions to deploy", 1)[1]
    [document] = re.findall(r"```json\n(.*?)```", section.split("\n### ", 1)[0], re.S)
    policy: dict[str, Any] = json.loads(document)
    return policy


def test_the_documented_deployer_policy_covers_every_service_the_stack_creates(deployed):
    policy = deployer_policy()
    [through_cloudformation] = [s for s in policy["Statement"] if "aws:CalledVia" in json.dumps(s.get("Condition"))]
    granted = {action.split(":")[0] for action in through_cloudformation["Action"]}
    services = {
        resource["Type"].split("::")[1].lower()
        for env in ENVIRONMENTS
        for resource in deployed[env]["Resources"].values()
        if resource["Type"] != "AWS::CloudFormation::WaitConditionHandle"
    }
    assert services <= granted
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"iam:PassRole", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"} <= actions
    transform = "arn:aws:cloudformation:REGION:aws:transform/Serverless-2016-10-31"
    assert any(transform in s["Resource"] for s in policy["Statement"])
