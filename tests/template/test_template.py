"""What template.yaml promises: runtime, architecture, protection of every route, least privilege, retention."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from listrak_kit.catalog.model import load_catalog
from local_stack import ROOT, TEMPLATE
from local_stack.template import Template
from tests.conftest import FIXTURE_CATALOG


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(TEMPLATE)


def function_props(template: Template) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in template.of_type("AWS::Serverless::Function").items()}


def test_functions_and_layer_run_a_long_supported_python_on_arm64(template):
    defaults = template.body["Globals"]["Function"]
    assert defaults["Runtime"] == "python3.13"
    assert defaults["Architectures"] == ["arm64"]
    layer = template.resources["SharedLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_the_layer_build_installs_arm64_wheels_for_313_and_compiles_unchecked_hash_bytecode(template, tmp_path):
    # SAM runs `make build-<LogicalId>` in a copy of ContentUri with ARTIFACTS_DIR set; -n shows what would run.
    content = ROOT / template.resources["SharedLayer"]["Properties"]["ContentUri"]
    result = subprocess.run(
        ["make", "-n", "-C", str(content), "build-SharedLayer", f"ARTIFACTS_DIR={tmp_path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    joined = re.sub(r"\\\n\s*", " ", result.stdout)
    commands = [" ".join(line.split()) for line in joined.splitlines() if not line.startswith("make")]
    [pip] = [c for c in commands if " -m pip install " in c]
    for flag in (
        "--platform manylinux2014_aarch64",
        "--python-version 3.13",
        "--implementation cp",
        "--only-binary=:all:",
    ):
        assert flag in pip
    # Exactly the lock: every package pinned, each file checked against its hash, nothing resolved afresh.
    assert f'--no-deps --require-hashes --target "{tmp_path}/python" -r requirements.lock' in pip
    assert "--no-compile" in pip  # pip would compile with timestamps; compileall below does it once, by hash
    [compile_all] = [c for c in commands if " -m compileall " in c]
    assert compile_all.endswith(f'--invalidation-mode unchecked-hash "{tmp_path}/python"')
    interpreter = compile_all.split(" -m compileall ")[0].strip()
    version = subprocess.run(
        [interpreter, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    )
    assert version.stdout.strip() == "(3, 13)", interpreter  # the Lambda runtime's bytecode
    steps = [
        next(i for i, c in enumerate(commands) if needle in c)
        for needle in ("pip install", "cp -R listrak_kit", "compileall")
    ]
    assert steps == sorted(steps)


def test_every_api_route_needs_an_api_key_but_the_signed_webhook_and_the_iam_routes(template):
    [api] = template.of_type("AWS::Serverless::Api").values()
    auth = api["Properties"]["Auth"]
    assert auth["ApiKeyRequired"] is True
    assert auth["UsagePlan"]["CreateUsagePlan"] == "PER_API"
    assert set(auth["UsagePlan"]["Throttle"]) == {"RateLimit", "BurstLimit"}
    open_routes, iam_routes = [], []
    for props in function_props(template).values():
        for event in props.get("Events", {}).values():
            if event["Type"] != "Api":
                continue
            route_auth = event["Properties"].get("Auth", {})
            if route_auth.get("Authorizer") == "AWS_IAM":
                iam_routes.append(event["Properties"]["Path"])
                assert route_auth["InvokeRole"] == "NONE"  # not the caller's credentials: no lambda:Invoke needed
            elif route_auth.get("ApiKeyRequired", True) is not True:
                open_routes.append(event["Properties"]["Path"])
    # Shopify cannot send an API key; the HMAC of the body authenticates it instead.
    assert open_routes == ["/webhooks/shopify"]
    # Only the support and privacy routes take IAM instead of the storefront key.
    assert sorted(iam_routes) == [
        "/privacy/forget",
        "/privacy/forget/{requestId}",
        "/support/messages/{reference}/redirect",
    ]


def test_the_webhook_door_can_only_queue_on_the_storefront_bus_and_read_its_own_secret(template):
    by_sid = {s["Sid"]: s for s in statements(function_props(template)["HooksFunction"])}
    assert set(by_sid) == {"QueueStorefrontEvents", "ReadShopifyWebhookSecret"}
    assert by_sid["QueueStorefrontEvents"]["Action"] == "events:PutEvents"
    assert by_sid["QueueStorefrontEvents"]["Resource"] == {"Fn::GetAtt": ["StorefrontBus", "Arn"]}
    assert by_sid["ReadShopifyWebhookSecret"]["Resource"] == {"Ref": "ShopifyWebhookSecret"}
    assert template.resources["ShopifyWebhookSecret"]["Properties"]["SecretString"] == "REPLACE_ME"


def test_shopify_s_partner_source_has_its_own_rule_to_the_send_function_with_the_dead_letter_queue(template):
    rule = template.resources["ShopifyWebhookRule"]
    assert rule["Condition"] == "HasShopifyEventSource"
    assert rule["Properties"]["EventBusName"] == {"Ref": "ShopifyEventBus"}
    assert rule["Properties"]["EventPattern"] == {
        "source": [{"Ref": "ShopifyEventSourceName"}],
        "detail-type": ["shopifyWebhook"],
    }
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "SendEventFunction.Alias"}  # the alias: its snapshot, retries and queue
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SendDeadLetterQueue", "Arn"]}
    bus = template.resources["ShopifyEventBus"]["Properties"]
    assert bus["EventSourceName"] == bus["Name"] == {"Ref": "ShopifyEventSourceName"}


def test_the_support_policy_grants_exactly_the_iam_routes(template):
    statement = template.resources["SupportRedirectPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in statement] == ["execute-api:Invoke"]
    assert statement[0]["Resource"]["Fn::Sub"].endswith("${RestApi}/${StageName}/POST/support/messages/*/redirect")


def test_the_storefront_rule_listens_for_the_fixture_catalog_triggers(template):
    # A user's own triggers are checked against the rule by `make check` (tests/local/test_check.py).
    catalog = load_catalog(FIXTURE_CATALOG)
    rule = function_props(template)["SendEventFunction"]["Events"]["Storefront"]["Properties"]
    assert set(catalog.triggers) <= set(rule["Pattern"]["detail-type"])
    assert rule["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SendDeadLetterQueue", "Arn"]}


def test_failed_events_are_parked_in_the_dead_letter_queue(template):
    config = function_props(template)["SendEventFunction"]["EventInvokeConfig"]
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["SendDeadLetterQueue", "Arn"]},
    }


def test_the_table_is_on_demand_with_ttl_and_point_in_time_recovery(template):
    table = template.resources["Table"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert template.resources["Table"]["DeletionPolicy"] == "Retain"


def test_every_function_logs_to_its_own_group_with_retention(template):
    groups = template.of_type("AWS::Logs::LogGroup")
    for name, props in function_props(template).items():
        group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert group in groups, name
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def statements(props: dict) -> list[dict]:
    found = []
    for policy in props.get("Policies", []):
        assert isinstance(policy, dict) and "Statement" in policy, "only inline, reviewable statements"
        found.extend(policy["Statement"])
    return found


def test_iam_is_least_privilege_no_wildcard_actions_or_resources(template):
    for name, props in function_props(template).items():
        for statement in statements(props):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in a for a in actions), (name, actions)
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                text = json.dumps(resource)
                # Only object keys under a named prefix may end in a wildcard (".../orders/*").
                assert "*" not in text or re.search(r"\}/[a-z-]+/\*\"", text), (name, resource)


def test_send_functions_touch_only_the_email_secrets_and_their_own_table_keys(template):
    for name in ("SendApiFunction", "SendEventFunction", "ReconcileFunction"):
        by_sid = {s["Sid"]: s for s in statements(function_props(template)[name])}
        assert by_sid["ShareEmailToken"]["Resource"] == {"Ref": "EmailTokenCacheSecret"}
        readable = by_sid["ReadEmailCredentialsAndToken"]["Resource"]
        assert {"Ref": "DataCredentialsSecret"} not in readable
        keys = by_sid["SendRecordsAndTokenLock"]["Condition"]["ForAllValues:StringLike"]
        assert set(keys["dynamodb:LeadingKeys"]) == {"send#*", "lock#token#email"}


def test_the_key_prefixes_iam_allows_are_the_ones_the_code_writes():
    from listrak_kit.aws.send_records import RECIPIENT_INDEX, RECONCILE_INDEX, RESEND_KEY_INDEX, DynamoSendRecords

    assert DynamoSendRecords.item_id("x").startswith("send#")
    indexes = {
        i["IndexName"] for i in Template.load(TEMPLATE).resources["Table"]["Properties"]["GlobalSecondaryIndexes"]
    }
    assert indexes == {RECONCILE_INDEX, RESEND_KEY_INDEX, RECIPIENT_INDEX}


def test_pending_sends_are_swept_on_a_schedule_with_a_dead_letter_queue(template):
    sweep = function_props(template)["ReconcileFunction"]["Events"]["Sweep"]
    assert sweep["Type"] == "ScheduleV2"
    assert sweep["Properties"]["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SendDeadLetterQueue", "Arn"]}
    environments = [
        function_props(template)[n]["Environment"]["Variables"]
        for n in ("SendApiFunction", "SendEventFunction", "ReconcileFunction")
    ]
    assert all(env["SEND_RECONCILE_AFTER_SECONDS"] == {"Ref": "SendReconcileAfterSeconds"} for env in environments)
    failed = template.resources["SendFailedAlarm"]["Properties"]
    assert (failed["Namespace"], failed["MetricName"]) == ("Listrak", "SendFailed")
    unconfirmed = template.resources["SendUnconfirmedAlarm"]["Properties"]
    assert (unconfirmed["MetricName"], unconfirmed["AlarmActions"]) == ("SendUnconfirmed", [{"Ref": "AlarmTopic"}])


def test_credentials_are_created_for_the_user_to_fill(template):
    for name in ("EmailCredentialsSecret", "DataCredentialsSecret"):
        assert "REPLACE_ME" in template.resources[name]["Properties"]["SecretString"]
    for name in ("EmailTokenCacheSecret", "DataTokenCacheSecret"):
        assert template.resources[name]["Properties"]["SecretString"] == "{}"


def test_resend_has_its_own_narrow_permissions(template):
    by_sid = {s["Sid"]: s for s in statements(function_props(template)["ResendFunction"])}
    records = by_sid["ReadAndAnnotateSendRecords"]
    assert records["Action"] == ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    assert records["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["send#*"]
    assert by_sid["FindSendByResendKey"]["Action"] == "dynamodb:Query"
    assert by_sid["FindSendByResendKey"]["Resource"] == [
        {"Fn::Sub": "${Table.Arn}/index/byResendKey"},
        {"Fn::Sub": "${Table.Arn}/index/byRecipient"},
    ]
    assert {"Ref": "DataCredentialsSecret"} not in by_sid["ReadEmailCredentialsAndToken"]["Resource"]


def test_every_route_is_served_by_exactly_one_function():
    from local_stack.stack import LocalStack

    routes = [(r.method, r.path) for r in LocalStack().api_routes()]
    assert sorted(routes) == sorted(
        [
            ("POST", "/messages"),
            ("POST", "/messages/{reference}/resend"),
            ("POST", "/support/messages/{reference}/redirect"),
            ("POST", "/resends"),
            ("GET", "/messages/{reference}"),
            ("POST", "/imports"),
            ("POST", "/webhooks/shopify"),
            ("POST", "/events"),
            ("POST", "/privacy/forget"),
            ("GET", "/privacy/forget/{requestId}"),
        ]
    )


def test_the_import_function_reads_only_the_drop_prefixes_and_writes_only_results(template):
    by_sid = {s["Sid"]: s for s in statements(function_props(template)["ImportFunction"])}
    reads = [r["Fn::Sub"] for r in by_sid["ReadImportFiles"]["Resource"]]
    assert reads == [
        f"${{ImportBucket.Arn}}/{p}/*"
        for p in ("customers", "orders", "products", "reviews", "rating-summaries", "contacts")
    ]
    assert by_sid["WriteResults"]["Resource"] == {"Fn::Sub": "${ImportBucket.Arn}/results/*"}
    keys = by_sid["LedgerAndTokenLock"]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert keys == ["import#*", "lock#token#data", "lock#token#email"]
    assert {"Ref": "EmailCredentialsSecret"} not in by_sid["ReadDataCredentialsAndToken"]["Resource"]
    assert by_sid["ShareEmailToken"]["Resource"] == {"Ref": "EmailTokenCacheSecret"}  # contacts use the Email API


def test_the_drop_bucket_is_private_encrypted_and_announces_new_objects(template):
    bucket = template.resources["ImportBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_the_nightly_scan_is_a_scheduler_cron_with_retries_and_a_dead_letter_queue(template):
    nightly = function_props(template)["ImportFunction"]["Events"]["Nightly"]
    assert nightly["Type"] == "ScheduleV2"
    props = nightly["Properties"]
    assert props["ScheduleExpression"] == {"Ref": "ImportSchedule"}
    assert json.loads(props["Input"]) == {"action": "scan"}
    assert props["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert props["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]}


def test_sqs_feeds_parts_back_to_the_same_function_with_partial_batch_failures(template):
    parts = function_props(template)["ImportFunction"]["Events"]["Parts"]["Properties"]
    assert parts["Queue"] == {"Fn::GetAtt": ["ImportQueue", "Arn"]}
    assert parts["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = template.resources["ImportQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * function_props(template)["ImportFunction"]["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]}
    # The function fails a file on the last delivery SQS allows, so it must know the same number.
    variables = function_props(template)["ImportFunction"]["Environment"]["Variables"]
    assert int(variables["IMPORT_MAX_RECEIVES"]) == queue["RedrivePolicy"]["maxReceiveCount"]


def test_the_import_function_reads_the_object_version_it_claimed(template):
    assert template.resources["ImportBucket"]["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    [read] = [
        s
        for s in function_props(template)["ImportFunction"]["Policies"][0]["Statement"]
        if s["Sid"] == "ReadImportFiles"
    ]
    assert "s3:GetObjectVersion" in read["Action"]


def test_dead_letter_queues_and_error_rates_raise_alarms(template):
    alarms = template.of_type("AWS::CloudWatch::Alarm")
    queues = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms.values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    }
    dead_letters = {q for q in template.of_type("AWS::SQS::Queue") if "DeadLetter" in q}
    assert queues == dead_letters
    rated = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for a in alarms.values()
        for m in a["Properties"].get("Metrics", [])
        if "MetricStat" in m and m["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda"
    }
    assert rated == set(template.of_type("AWS::Serverless::Function"))
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    failed = alarms["ImportFilesFailedAlarm"]["Properties"]  # a failed file is consumed, not parked in a DLQ
    assert (failed["Namespace"], failed["MetricName"]) == ("Listrak", "ImportFilesFailed")


def test_everything_that_stores_data_is_encrypted_at_rest(template):
    assert template.resources["Table"]["Properties"]["SSESpecification"]["SSEEnabled"] is True
    for name, queue in template.of_type("AWS::SQS::Queue").items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, name
    assert template.resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"]
    assert template.resources["ImportBucket"]["Properties"]["BucketEncryption"]


def test_alarms_reach_the_topic_through_a_key_cloudwatch_may_use(template):
    # The AWS-managed alias/aws/sns key's policy does not let CloudWatch use it: alarms would publish nowhere.
    topic = template.resources["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmKey"}
    key = template.resources["AlarmKey"]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    by_sid = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    admin = by_sid["AccountAdministersTheKey"]
    assert admin["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    assert admin["Action"] == "kms:*"
    cloudwatch = by_sid["CloudWatchAlarmsPublish"]
    assert cloudwatch["Effect"] == "Allow"
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


def test_the_topic_policy_lets_only_this_accounts_alarms_publish(template):
    policies = [
        p["Properties"]
        for p in template.of_type("AWS::SNS::TopicPolicy").values()
        if {"Ref": "AlarmTopic"} in p["Properties"]["Topics"]
    ]
    assert len(policies) == 1
    [statement] = policies[0]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Resource"] == {"Ref": "AlarmTopic"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
    }


def test_every_alarm_notifies_the_topic_and_an_alarm_email_subscribes_only_when_set(template):
    alarms = template.of_type("AWS::CloudWatch::Alarm")
    # One per dead-letter queue, one per function's error rate, one for failed import files, one for failed sends,
    # one for unconfirmed sends, two for Listrak's Activity refused or failing, one for an overdue privacy request,
    # one for unconfirmed SMS, one for the bounce rate.
    assert len(alarms) == 2 + len(template.of_type("AWS::Serverless::Function")) + 8
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    [subscription] = template.of_type("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert template.body["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert template.body["Parameters"]["AlarmEmail"]["Default"] == ""


def test_api_access_logs_are_opt_in_json_lines_with_retention_and_no_secret_or_body(template):
    assert template.body["Parameters"]["ApiAccessLogs"]["Default"] == "false"
    assert template.body["Conditions"]["WithApiAccessLogs"] == {"Fn::Equals": [{"Ref": "ApiAccessLogs"}, "true"]}
    group = template.resources["ApiAccessLogGroup"]
    assert group["Condition"] == "WithApiAccessLogs"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    condition, setting, otherwise = template.resources["RestApi"]["Properties"]["AccessLogSetting"]["Fn::If"]
    assert (condition, otherwise) == ("WithApiAccessLogs", {"Ref": "AWS::NoValue"})
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    # API Gateway fills in $context variables; with placeholders the format must be one JSON object.
    line = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "x", setting["Format"]))
    fields = dict(re.findall(r'"(\w+)":"(\$context\.[A-Za-z.]+)"', setting["Format"]))
    assert set(line) == set(fields)
    assert {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "apiKeyId": "$context.identity.apiKeyId",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
    }.items() <= fields.items()
    assert "$context.identity.apiKey" not in fields.values()  # the key's value
    assert not re.search(r"\$input|body|header", setting["Format"], re.IGNORECASE)


def test_the_account_role_for_api_logs_is_opt_in_kept_and_set_before_the_api(template):
    assert template.body["Parameters"]["CreateApiGatewayAccountRole"]["Default"] == "false"
    role = template.resources["ApiGatewayCloudWatchRole"]
    assert role["Condition"] == "WithApiGatewayAccountRole"
    assert role["DeletionPolicy"] == "Retain"
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
    ]
    account = template.resources["ApiGatewayAccount"]
    assert account["Condition"] == "WithApiGatewayAccountRole"
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}
    # The stage is created after the account setting (through a handle, since DependsOn cannot be conditional).
    assert template.resources["RestApi"]["DependsOn"] == "ApiGatewayAccountReady"
    ready = template.resources["ApiGatewayAccountReady"]
    assert "Condition" not in ready
    assert ready["Metadata"]["Account"]["Fn::If"][:2] == ["WithApiGatewayAccountRole", {"Ref": "ApiGatewayAccount"}]


def test_every_checkov_skip_carries_its_reason():
    import yaml

    text = (ROOT / ".checkov.yaml").read_text()
    skips = yaml.safe_load(text)["skip-check"]
    assert skips, "the skips are listed"
    for check in skips:
        [line] = [line for line in text.splitlines() if line.strip().startswith(f"- {check}")]
        assert re.search(rf"- {check}\s+# \S", line), check


def test_every_function_and_the_api_are_traced(template):
    assert template.body["Globals"]["Function"]["Tracing"] == "Active"
    for name, props in function_props(template).items():
        assert props.get("Tracing", "Active") == "Active", name
    for name, api in template.of_type("AWS::Serverless::Api").items():
        assert api["Properties"]["TracingEnabled"] is True, name


def test_snapstart_is_on_every_function_that_allows_it_and_each_primes_itself(template):
    props = function_props(template)
    snap = {name for name, p in props.items() if p.get("SnapStart") == {"ApplyOn": "PublishedVersions"}}
    assert snap == {
        "SendApiFunction",
        "ResendFunction",
        "SendEventFunction",
        "ImportApiFunction",
        "HooksFunction",
        "ReconcileFunction",
        "PrivacyApiFunction",
        "DeliveryFunction",
    }
    for name, p in props.items():
        # SnapStart takes no ephemeral storage above 512 MB, no EFS, no provisioned concurrency.
        allowed = p.get("EphemeralStorage", {}).get("Size", 512) <= 512
        allowed &= "FileSystemConfigs" not in p and "ProvisionedConcurrencyConfig" not in p
        assert (name in snap) == allowed, name
        if name in snap:
            # A version is what SnapStart snapshots; the alias is what API Gateway and EventBridge invoke.
            assert p["AutoPublishAlias"] == "live"
            handler = ROOT / p["CodeUri"] / (p["Handler"].split(".")[0] + ".py")
            assert "snapstart.install(" in handler.read_text(encoding="utf-8"), name


def test_the_dashboard_shows_every_alarm_every_function_and_every_queue(template):
    body = template.resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z]+)?\}", body))
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))  # valid JSON once CloudFormation substitutes
    assert {w["type"] for w in dashboard["widgets"]} == {"alarm", "metric"}
    alarms = set(template.of_type("AWS::CloudWatch::Alarm"))
    assert alarms and alarms <= names, f"alarms missing from the dashboard: {sorted(alarms - names)}"
    functions = set(template.of_type("AWS::Serverless::Function"))
    assert functions <= names, f"functions missing from the dashboard: {sorted(functions - names)}"
    queues = set(template.of_type("AWS::SQS::Queue"))
    assert queues <= names, f"queues missing from the dashboard: {sorted(queues - names)}"
    unknown = {n for n in names if not n.startswith("AWS::")} - set(template.resources)
    assert not unknown, f"the dashboard names resources the template lacks: {sorted(unknown)}"
    assert "${Dashboard}" in template.body["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]


def test_the_sms_sending_functions_hold_the_sms_integration_and_nothing_else_does(template):
    functions = function_props(template)
    for name, props in functions.items():
        variables = props.get("Environment", {}).get("Variables", {})
        by_sid = {s["Sid"]: s for s in statements(props)}
        if name in ("SendApiFunction", "SendEventFunction"):
            assert variables["LISTRAK_SMS_CREDENTIALS_SECRET"] == {"Ref": "SmsCredentialsSecret"}
            assert variables["LISTRAK_SMS_TOKEN_CACHE_SECRET"] == {"Ref": "SmsTokenCacheSecret"}
            assert by_sid["ShareSmsToken"]["Resource"] == {"Ref": "SmsTokenCacheSecret"}
            keys = by_sid["SmsTokenLock"]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert keys == ["lock#token#sms"]
        else:
            assert "LISTRAK_SMS_CREDENTIALS_SECRET" not in variables, name
            assert not any("Sms" in sid for sid in by_sid), name


def test_an_unconfirmed_sms_is_alarmed(template):
    alarm = template.resources["SmsUnconfirmedAlarm"]["Properties"]
    assert alarm["MetricName"] == "SmsUnconfirmed" and alarm["Threshold"] == 0
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_bounce_rate_alarm_divides_bounces_by_sends_over_its_parameter(template):
    alarm = template.resources["BounceRateAlarm"]["Properties"]
    assert alarm["Threshold"] == {"Ref": "BounceRateAlarmPercent"}
    names = {m["Id"]: m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert names == {"bounced": "DeliveryBounced", "sent": "DeliverySent"}


def test_the_stores_delivery_events_never_reach_the_storefront_rule(template):
    """The poller puts `Email Bounced`... on the storefront bus; the rule that sends emails must not take them."""
    from listrak_kit.core.delivery import DETAIL_TYPES

    rule = function_props(template)["SendEventFunction"]["Events"]
    patterns = [e["Properties"]["Pattern"] for e in rule.values() if e["Type"] == "EventBridgeRule"]
    taken = {t for p in patterns for t in p.get("detail-type", [])}
    assert taken and not taken & set(DETAIL_TYPES.values())
    assert all("detail-type" in p for p in patterns)
