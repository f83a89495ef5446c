"""Resend routes, in-process against moto and the Listrak sandbox."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from listrak_kit.clock import to_iso
from local_stack.api_server import proxy_event
from tests.conftest import post_message

DAY = 86400
SEND = {
    "emailAddress": "jane.doe@example.com",
    "message": "password-reset",
    "fields": {"firstName": "Jane", "passwordResetLink": "https://r/1"},
    "reference": "reset-1",
}


ORDER = {
    "emailAddress": "jane.doe@example.com",
    "message": "order-confirmation",
    "fields": {"firstName": "Jane", "orderNumber": "1001"},
    "reference": "order-1",
}
SUPPORT_ARN = "arn:aws:sts::123456789012:assumed-role/Support/agent@shop.example"


def call(stack, method, path, resource, params, body=None, key=None, identity=None):
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    raw = b"" if body is None else json.dumps(body).encode()
    event = proxy_event(method, path, headers, raw, resource, params, "v1", identity)
    response = stack.invoke("ResendFunction", event)
    return response["statusCode"], json.loads(response["body"] or "{}"), response.get("multiValueHeaders") or {}


def redirect(stack, reference, body, key=None, arn=SUPPORT_ARN):
    """The support route, as API Gateway delivers an IAM-authorised (SigV4) request."""
    identity = {"sourceIp": "127.0.0.1", "userArn": arn, "accessKey": "AKIA0000", "accountId": "123456789012"}
    return call(
        stack,
        "POST",
        f"/support/messages/{reference}/redirect",
        "/support/messages/{reference}/redirect",
        {"reference": reference},
        body,
        key,
        identity if arn else {"sourceIp": "127.0.0.1"},
    )[:2]


def resend(stack, reference, body=None, key=None):
    return _call2(
        stack,
        "POST",
        f"/messages/{reference}/resend",
        "/messages/{reference}/resend",
        {"reference": reference},
        body,
        key,
    )


def resend_by_key(stack, body, key=None):
    return _call2(stack, "POST", "/resends", "/resends", {}, body, key)


def view(stack, reference):
    return _call2(stack, "GET", f"/messages/{reference}", "/messages/{reference}", {"reference": reference})


def _call2(*args, **kwargs):
    return call(*args, **kwargs)[:2]


def sent(stack, reference="reset-1", *, settle=True, **overrides):
    """Send; with `settle`, let the sandbox's clock pass Listrak's Activity lag, as a resend comes minutes later."""
    status, body = post_message(stack, {**SEND, "reference": reference, **overrides})
    assert status == 201, body
    if settle:
        stack.sandbox.advance(stack.sandbox.activity_delay_seconds)
    return body


def listrak_key(sandbox, email="jane.doe@example.com"):
    """The resendKey Listrak recorded for the (last) send to `email`; its 201 answered resourceId "null"."""
    return [s["resendKey"] for s in sandbox.sent_messages if s["emailAddress"] == email][-1]


def set_sent_at(stack, reference, seconds_ago):
    stack.client("dynamodb").update_item(
        TableName=stack.refs["Table"],
        Key={"id": {"S": f"send#{reference}"}},
        UpdateExpression="SET sentAt = :s",
        ExpressionAttributeValues={":s": {"S": to_iso(time.time() - seconds_ago)}},
    )


def test_support_redirects_to_a_corrected_address_and_it_is_recorded_and_audited(stack, sandbox):
    (stack.log_dir / "ResendFunction.log").unlink(missing_ok=True)  # this test's audit lines only
    first = sent(stack, **ORDER)
    status, body = redirect(stack, "order-1", {"emailAddress": "jane.doe@example.org"})

    assert status == 201, body
    assert body["status"] == "resent" and body["resendCount"] == 1 and body["reference"] == "order-1"
    [listrak] = sandbox.resends
    assert first["resendKey"] is None  # Listrak's 201 answered "null": the key came through Activity
    assert listrak["resendKey"] == listrak_key(sandbox)
    assert listrak["emailAddress"] == "jane.doe@example.org"

    status, history = view(stack, "order-1")
    assert status == 200
    assert history["to"] == "j***@example.com"
    assert history["resendCount"] == 1
    [entry] = history["resends"]
    assert entry["toMasked"] == "j***@example.org"
    assert entry["redirected"] is True
    assert entry["credential"] == "arn:aws:sts::123456789012:assumed-role/Support/a***@shop.example"
    assert history["resendable"] is True
    assert "jane.doe" not in json.dumps(history)

    audit = [
        json.loads(line)
        for line in (stack.log_dir / "ResendFunction.log").read_text().splitlines()
        if '"audit":"resend-redirect"' in line
    ]
    assert len(audit) == 1
    assert {k: audit[0][k] for k in ("reference", "credential", "to", "status")} == {
        "reference": "order-1",
        "credential": entry["credential"],
        "to": "j***@example.org",
        "status": "resent",
    }


def test_the_storefront_key_cannot_redirect_any_resend(stack, sandbox):
    sandbox.resend_key_in_send_response = True  # the by-key route needs the key from the send's answer
    first = sent(stack, **ORDER)
    target = {"emailAddress": "attacker@evil.example"}
    status, body = resend(stack, "order-1", target)
    assert status == 403, body
    assert "/support/messages/{reference}/redirect" in body["message"]
    by_key = {"listId": 300001, "transactionalMessageId": 7001, "resendKey": first["resendKey"], **target}
    assert resend_by_key(stack, by_key)[0] == 403
    foreign = {**by_key, "resendKey": str(uuid.uuid4())}  # a key recorded nowhere: its address is unknown
    assert resend_by_key(stack, foreign)[0] == 403
    assert sandbox.stats["resends"] == 0
    assert view(stack, "order-1")[1]["resendCount"] == 0


def test_the_storefront_key_may_name_the_original_address_however_spelled(stack, sandbox):
    sent(stack)
    status, body = resend(stack, "reset-1", {"emailAddress": "Jane.Doe@EXAMPLE.com"})
    assert status == 201, body
    assert sandbox.resends[0]["emailAddress"] == "jane.doe@example.com"  # Listrak's own original
    [entry] = view(stack, "reset-1")[1]["resends"]
    assert (entry["toMasked"], entry["redirected"], entry["credential"]) == (
        "original address",
        False,
        "api-key:local-api-key",
    )


def test_a_redirect_false_message_is_never_redirected_even_by_support(stack, sandbox):
    sent(stack)  # the sample password-reset: redirect = false
    status, body = redirect(stack, "reset-1", {"emailAddress": "jane.doe@example.org"})
    assert status == 403, body
    assert "'password-reset' is marked redirect = false" in body["message"]
    # sent by raw IDs, the same message keeps the catalog's flag
    # (another address: two sends of one message to one address seconds apart cannot be told apart in Activity)
    raw = {"emailAddress": "jane.roe@example.com", "listId": 300001, "transactionalMessageId": 7003}
    assert post_message(stack, {**raw, "reference": "reset-raw"})[0] == 201
    assert redirect(stack, "reset-raw", {"emailAddress": "jane.doe@example.org"})[0] == 403
    assert sandbox.stats["resends"] == 0
    assert redirect(stack, "reset-1", {"emailAddress": "jane.doe@example.com"})[0] == 201  # its original: fine


def test_a_send_recorded_before_the_redirect_flag_is_not_redirected(stack, sandbox):
    sent(stack, **ORDER)
    stack.client("dynamodb").update_item(
        TableName=stack.refs["Table"], Key={"id": {"S": "send#order-1"}}, UpdateExpression="REMOVE redirectAllowed"
    )
    assert redirect(stack, "order-1", {"emailAddress": "jane.doe@example.org"})[0] == 403
    assert sandbox.stats["resends"] == 0


def test_the_support_route_without_an_iam_identity_is_refused(stack, sandbox):
    sent(stack, **ORDER)
    status, body = redirect(stack, "order-1", {"emailAddress": "jane.doe@example.org"}, arn=None)
    assert status == 403 and "IAM" in body["message"]
    assert sandbox.stats["resends"] == 0


def test_redirects_are_limited_per_reference(stack, sandbox):
    sent(stack, **ORDER)
    sent(stack, **{**ORDER, "reference": "order-2", "emailAddress": "jane.roe@example.com"})
    for n in range(3):  # REDIRECT_MAX_PER_REFERENCE
        assert redirect(stack, "order-1", {"emailAddress": f"fix{n}@example.org"})[0] == 201
    status, body, headers = call(
        stack,
        "POST",
        "/support/messages/order-1/redirect",
        "/support/messages/{reference}/redirect",
        {"reference": "order-1"},
        {"emailAddress": "fix9@example.org"},
        identity={"userArn": SUPPORT_ARN},
    )
    assert status == 429, body
    assert "REDIRECT_MAX_PER_REFERENCE" in body["message"]
    assert 86_000 < int(headers["Retry-After"][0]) <= 86_400
    assert sandbox.stats["resends"] == 3
    assert redirect(stack, "order-2", {"emailAddress": "fix@example.org"})[0] == 201  # its own allowance
    assert resend(stack, "order-1")[0] == 201  # the original address is not limited
    stack.env_overrides["REDIRECT_WINDOW_SECONDS"] = "60"  # a window that has passed
    stack.cold_start()
    stack.client("dynamodb").update_item(
        TableName=stack.refs["Table"],
        Key={"id": {"S": "send#order-1"}},
        UpdateExpression="SET redirectWindowStart = :old",
        ExpressionAttributeValues={":old": {"N": str(time.time() - 61)}},
    )
    assert redirect(stack, "order-1", {"emailAddress": "fix9@example.org"})[0] == 201


def test_concurrent_redirects_never_exceed_the_allowance(stack, sandbox):
    from listrak_kit.aws.send_records import DynamoSendRecords

    sent(stack, **ORDER)
    with stack.function_env("ResendFunction"):
        records = DynamoSendRecords(stack.refs["Table"])
        now = time.time()
        with ThreadPoolExecutor(max_workers=8) as pool:
            taken = list(
                pool.map(lambda _: records.take_redirect("order-1", now=now, window_seconds=3600, limit=3), range(12))
            )
    assert taken.count(None) == 3  # conditional updates: three taken, whatever the interleaving
    assert all(t is None or abs(t - now) < 1 for t in taken)


def test_a_resend_without_a_body_goes_to_the_original_address(stack, sandbox):
    sent(stack)
    assert resend(stack, "reset-1")[0] == 201
    assert sandbox.resends[0]["emailAddress"] == "jane.doe@example.com"
    assert view(stack, "reset-1")[1]["resends"][0]["toMasked"] == "original address"


def test_an_unknown_reference_is_a_404(stack, sandbox):
    assert resend(stack, "never-sent")[0] == 404
    assert view(stack, "never-sent")[0] == 404


def test_day_29_still_resends(stack, sandbox):
    sandbox.resend_key_in_send_response = True  # Activity would show the send at its real date, not 29 days ago
    sent(stack)
    set_sent_at(stack, "reset-1", 29 * DAY)
    assert resend(stack, "reset-1")[0] == 201


def test_thirty_days_and_a_second_later_is_gone_although_the_item_still_exists(stack, sandbox):
    sent(stack)
    set_sent_at(stack, "reset-1", 30 * DAY + 1)

    status, body = resend(stack, "reset-1", {"emailAddress": "jane.doe@example.org"})

    assert status == 410
    assert "window closed at" in body["message"]
    assert sandbox.stats["resends"] == 0
    item = stack.client("dynamodb").get_item(TableName=stack.refs["Table"], Key={"id": {"S": "send#reset-1"}})
    assert "Item" in item  # DynamoDB has not swept it; the answer came from sentAt
    assert view(stack, "reset-1")[1]["resendable"] is False


def test_without_a_resend_key_the_activity_route_finds_it_across_pages(stack, sandbox):
    assert sandbox.resend_key_in_send_response is False  # Listrak's default
    stack.env_overrides["LISTRAK_ACTIVITY_PAGE_SIZE"] = "2"
    for n in range(5):  # other recipients of the same message, in the same window
        sent(stack, reference=f"other-{n}", emailAddress=f"someone{n}@example.com")
    target = sent(stack, reference="reset-1")
    assert target["resendKey"] is None

    status, body = resend(stack, "reset-1")

    assert status == 201, body
    expected = next(s["resendKey"] for s in sandbox.sent_messages if s["emailAddress"] == "jane.doe@example.com")
    assert sandbox.resends[0]["resendKey"] == expected
    assert sandbox.stats["activity_requests"] >= 3  # six rows, two per page
    assert view(stack, "reset-1")[1]["hasResendKey"] is True
    resend(stack, "reset-1")
    assert sandbox.stats["activity_requests"] <= 4  # the key was stored: no second lookup


def test_no_activity_yet_is_a_409_to_retry_later_not_a_5xx(stack, sandbox):
    sandbox.activity_delay_seconds = 3600
    sent(stack, settle=False)
    status, body = resend(stack, "reset-1")
    assert status == 409
    assert "not resendable yet" in body["message"]
    assert sandbox.stats["resends"] == 0


def test_listrak_refusing_the_key_is_a_clear_410(stack, sandbox):
    sent(stack)
    stack.client("dynamodb").update_item(
        TableName=stack.refs["Table"],
        Key={"id": {"S": "send#reset-1"}},
        UpdateExpression="SET resendKey = :k",
        ExpressionAttributeValues={":k": {"S": str(uuid.uuid4())}},
    )
    status, body = resend(stack, "reset-1")
    assert status == 410
    assert "no longer accepts this send's resendKey" in body["message"]


@pytest.mark.parametrize(
    "body",
    [{"emailAddress": "jane.doe@"}, {"emailAddress": 42}, {"emailAddress": "a@b.c", "cc": "x"}, ["x"]],
)
def test_a_bad_corrected_address_is_a_400_and_nothing_is_sent(stack, sandbox, body):
    sent(stack)
    status, answer = resend(stack, "reset-1", body)
    assert status == 400, answer
    assert answer["errors"]
    assert sandbox.stats["resends"] == 0


def test_a_replayed_request_resends_once(stack, sandbox):
    sent(stack, **ORDER)
    first = redirect(stack, "order-1", {"emailAddress": "jane.doe@example.org"}, key="ticket-1")
    again = redirect(stack, "order-1", {"emailAddress": "jane.doe@example.org"}, key="ticket-1")

    assert (first[0], again[0]) == (201, 200)
    assert again[1] == first[1]
    assert sandbox.stats["resends"] == 1
    assert view(stack, "order-1")[1]["resendCount"] == 1
    for _ in range(3):  # a replay is not charged against the redirect allowance
        assert redirect(stack, "order-1", {"emailAddress": "jane.doe@example.org"}, key="ticket-1")[0] == 200
    assert redirect(stack, "order-1", {"emailAddress": "jane.doe@example.org"}, key="ticket-2")[0] == 201


def test_the_same_idempotency_key_for_another_resend_is_a_conflict(stack, sandbox):
    sent(stack, **ORDER)
    redirect(stack, "order-1", {"emailAddress": "jane.doe@example.org"}, key="ticket-1")
    status, _ = redirect(stack, "order-1", {"emailAddress": "jane@example.net"}, key="ticket-1")
    assert status == 409
    assert sandbox.stats["resends"] == 1


def test_without_an_idempotency_key_each_request_resends(stack, sandbox):
    sent(stack)
    resend(stack, "reset-1")
    resend(stack, "reset-1")
    assert sandbox.stats["resends"] == 2
    assert view(stack, "reset-1")[1]["resendCount"] == 2


def test_resend_by_key_of_a_known_send_is_recorded_on_it(stack, sandbox):
    sandbox.resend_key_in_send_response = True  # the send learnt its key from the answer
    first = sent(stack)
    status, body = resend_by_key(
        stack, {"listId": 300001, "transactionalMessageId": 7003, "resendKey": first["resendKey"]}
    )
    assert status == 201, body
    assert body["reference"] == "reset-1" and body["resendCount"] == 1


def test_resend_by_key_applies_the_window_when_the_send_is_known(stack, sandbox):
    sandbox.resend_key_in_send_response = True  # the send learnt its key from the answer
    first = sent(stack)
    set_sent_at(stack, "reset-1", 31 * DAY)
    status, _ = resend_by_key(
        stack, {"listId": 300001, "transactionalMessageId": 7003, "resendKey": first["resendKey"]}
    )
    assert status == 410
    assert sandbox.stats["resends"] == 0


def test_resend_by_an_unknown_key_defers_to_listrak(stack, sandbox):
    status, body = resend_by_key(
        stack, {"listId": 300001, "transactionalMessageId": 7003, "resendKey": str(uuid.uuid4())}
    )
    assert status == 410
    assert body["message"].startswith("Listrak no longer accepts")


@pytest.mark.parametrize(
    "body",
    [
        {"listId": 300001, "transactionalMessageId": 7003, "resendKey": "not-a-uuid"},
        {"listId": 300001, "resendKey": str(uuid.uuid4())},
        {"listId": "x", "transactionalMessageId": 7003, "resendKey": str(uuid.uuid4())},
    ],
)
def test_resend_by_key_rejects_bad_input(stack, sandbox, body):
    status, answer = resend_by_key(stack, body)
    assert status == 400 and answer["errors"]
    assert sandbox.stats["resends"] == 0


def aws_path(reference: str) -> str:
    """The reference as a caller puts it in a URL, and as API Gateway's REST API hands it over: percent-encoded."""
    return quote(reference, safe="")


def test_a_reference_with_a_slash_is_read_resent_and_redirected_as_api_gateway_delivers_it(stack, sandbox):
    sandbox.resend_key_in_send_response = True
    sent(stack, "password-reset/42")
    encoded = aws_path("password-reset/42")  # password-reset%2F42, in `path` and in `pathParameters` alike

    status, body = view(stack, encoded)
    assert status == 200 and body["reference"] == "password-reset/42", body
    status, body = resend(stack, encoded)
    assert status == 201 and body["reference"] == "password-reset/42", body
    sent(stack, **{**ORDER, "reference": "order-confirmation/1234"})
    status, body = redirect(stack, aws_path("order-confirmation/1234"), {"emailAddress": "jane.doe@example.org"})
    assert status == 201 and body["reference"] == "order-confirmation/1234", body


def test_a_path_parameter_is_decoded_once(stack):
    sent(stack, "50%2Foff", settle=False)  # a literal "%2F" in the reference: the caller encodes its "%"

    status, body = view(stack, aws_path("50%2Foff"))  # 50%252Foff
    assert status == 200 and body["reference"] == "50%2Foff", body
    assert view(stack, "50%2Foff")[0] == 404  # that is "50/off", which was never sent


def test_a_reference_stored_under_the_looser_rule_stays_readable(stack):
    sent(stack, settle=False)
    table, dynamodb = stack.refs["Table"], stack.client("dynamodb")
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": "send#reset-1"}}, ConsistentRead=True)["Item"]
    item["id"] = {"S": "send#nlref\n"}
    item["reference"] = {"S": "nlref\n"}  # accepted once, when the rule was checked with `match`
    dynamodb.put_item(TableName=table, Item=item)

    status, body = view(stack, aws_path("nlref\n"))
    assert status == 200 and body["reference"] == "nlref\n", body
