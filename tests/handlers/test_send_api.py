"""POST /messages, in-process against moto and the Listrak sandbox."""

from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import post_message

ORDER = {
    "emailAddress": "jane.doe@example.com",
    "message": "order-confirmation",
    "reference": "order-1001",
    "fields": {"firstName": "Jane", "orderNumber": "1001", "orderTotal": 52.95},
    "items": [
        {"ProductName": "Tee <b>bold</b> & co", "Quantity": 2, "ItemPrice": "$9.00", "ImageURL": "https://x/t.jpg"},
    ],
}


def field_values(send: dict) -> dict[int, str]:
    return {v["segmentationFieldId"]: v["value"] for v in send["segmentationFieldValues"]}


def test_send_by_catalog_name_reaches_listrak_with_field_ids(stack, sandbox):
    sandbox.resend_key_in_send_response = True  # the variant where Listrak's 201 carries the resendKey
    status, body = post_message(stack, ORDER)

    assert status == 201
    assert body["reference"] == "order-1001"
    assert body["status"] == "sent"
    [send] = sandbox.sent_messages
    assert body["resendKey"] == send["resendKey"]
    assert (send["listId"], send["transactionalMessageId"], send["emailAddress"]) == (
        300001,
        7001,
        "jane.doe@example.com",
    )
    values = field_values(send)
    assert values[5101] == "Jane" and values[5102] == "1001" and values[5103] == "52.95"
    # 30 days from sentAt, to the second
    assert body["resendableUntil"][:10] > body["sentAt"][:10]


def test_html_in_an_item_value_arrives_escaped_inside_the_escaped_block(stack, sandbox):
    post_message(stack, ORDER)
    block = field_values(sandbox.sent_messages[0])[5105]

    assert "<" not in block and ">" not in block  # the whole block is escaped, as Listrak asks
    once_unescaped = html.unescape(block)  # what Listrak renders
    assert '<td class="item-name">Tee &lt;b&gt;bold&lt;/b&gt; &amp; co</td>' in once_unescaped
    assert "<b>" not in once_unescaped


def test_the_same_reference_and_payload_again_replays_without_a_second_email(stack, sandbox):
    first_status, first = post_message(stack, ORDER)
    again_status, again = post_message(stack, ORDER)

    assert (first_status, again_status) == (201, 200)
    assert again == first
    assert sandbox.stats["sends"] == 1


def test_the_idempotency_key_header_serves_as_reference(stack, sandbox):
    body = {k: v for k, v in ORDER.items() if k != "reference"}
    status, answer = post_message(stack, body, headers={"Idempotency-Key": "hdr-77"})
    again, _ = post_message(stack, body, headers={"Idempotency-Key": "hdr-77"})

    assert (status, again, answer["reference"]) == (201, 200, "hdr-77")
    assert sandbox.stats["sends"] == 1


def test_the_same_reference_with_another_payload_is_a_conflict(stack, sandbox):
    post_message(stack, ORDER)
    status, body = post_message(stack, {**ORDER, "emailAddress": "other@example.com"})

    assert status == 409
    assert "order-1001" in body["message"]
    assert sandbox.stats["sends"] == 1


def test_raw_ids_and_segmentation_values_are_sent_as_given(stack, sandbox):
    status, _ = post_message(
        stack,
        {
            "emailAddress": "sam@example.com",
            "listId": 300001,
            "transactionalMessageId": 7003,
            "segmentationFieldValues": [{"segmentationFieldId": 5109, "value": "https://r/1"}],
            "reference": "raw-1",
        },
    )
    assert status == 201
    assert field_values(sandbox.sent_messages[0]) == {5109: "https://r/1"}


@pytest.mark.parametrize(
    ("body", "bad_fields"),
    [
        ({**ORDER, "emailAddress": "not-an-address"}, ["emailAddress"]),
        ({**ORDER, "emailAddress": None}, ["emailAddress"]),
        ({k: v for k, v in ORDER.items() if k != "emailAddress"}, ["emailAddress"]),
        ({**ORDER, "fields": {"firstName": "Jane", "shoeSize": "9"}}, ["fields.shoeSize"]),
        ({**ORDER, "fields": {"firstName": {"nested": 1}}}, ["fields.firstName"]),
        ({**ORDER, "items": [{"ProductName": "Tee", "Quantity": 1}]}, ["items[0].ItemPrice", "items[0].ImageURL"]),
        ({**ORDER, "items": [{**ORDER["items"][0], "Quantity": [1]}]}, ["items[0].Quantity"]),
        ({**ORDER, "fields": {"orderItems": "<tr>"}}, ["fields.orderItems"]),
        ({**ORDER, "message": "Order Confirmation!"}, ["message"]),
        ({**ORDER, "listId": 300001}, ["(body)"]),
        ({"emailAddress": "a@example.com", "reference": "r"}, ["(body)"]),
        ({**ORDER, "reference": "has spaces"}, ["reference"]),
        ({**ORDER, "unexpected": True}, ["unexpected"]),
        (
            {**ORDER, "segmentationFieldValues": [{"segmentationFieldId": 5101, "value": "again"}]},
            ["segmentationFieldValues"],
        ),
        (
            {**ORDER, "segmentationFieldValues": [{"segmentationFieldId": -3, "value": "x"}]},
            ["segmentationFieldValues[0].segmentationFieldId"],
        ),
        ([1, 2, 3], ["(body)"]),
    ],
)
def test_every_class_of_invalid_input_is_a_400_naming_the_field_and_nothing_is_sent(stack, sandbox, body, bad_fields):
    status, answer = post_message(stack, body)

    assert status == 400, answer
    named = [e["field"] for e in answer["errors"]]
    for field in bad_fields:
        assert field in named, (field, answer)
    assert sandbox.stats["sends"] == 0


def test_a_body_that_is_not_json_is_a_400(stack, sandbox):
    status, answer = post_message(stack, None, raw="{not json")
    assert status == 400
    assert answer["errors"] == [{"field": "(body)", "message": "the body is not valid JSON"}]
    assert sandbox.stats["sends"] == 0


def test_a_reference_that_differs_from_the_idempotency_key_is_a_400(stack, sandbox):
    status, answer = post_message(stack, ORDER, headers={"Idempotency-Key": "other"})
    assert status == 400
    assert answer["errors"][0]["field"] == "reference"


@pytest.mark.parametrize("reference", ["nlref\n", ".", "..", "a b", "x" * 201, "caf\u00e9"])
def test_a_reference_no_url_could_reach_is_a_400_naming_the_allowed_form(stack, sandbox, reference):
    status, answer = post_message(stack, {**ORDER, "reference": reference})
    assert status == 400, answer
    form = "must be 1 to 200 printable ASCII characters without spaces (not '.' or '..')"
    assert answer["errors"] == [{"field": "reference", "message": form}]
    assert sandbox.stats["sends"] == 0


def test_an_unknown_message_is_a_404(stack, sandbox):
    status, answer = post_message(stack, {**ORDER, "message": "birthday-greeting"})
    assert status == 404
    assert "birthday-greeting" in answer["message"]
    assert sandbox.stats["sends"] == 0


def test_unknown_raw_ids_are_the_callers_mistake_a_422_naming_them(stack, sandbox):
    status, answer = post_message(
        stack,
        {"emailAddress": "a@example.com", "listId": 999, "transactionalMessageId": 1, "reference": "nope-1"},
    )
    assert status == 422, answer
    assert "999" in answer["message"] and "nothing was sent" in answer["message"]
    assert {e["field"] for e in answer["errors"]} == {"listId", "transactionalMessageId"}
    assert "999" in next(e["message"] for e in answer["errors"] if e["field"] == "listId")
    assert sandbox.stats["sends"] == 0
    # nothing was sent, so the same reference may be sent once the IDs are right
    status, _ = post_message(stack, {**ORDER, "reference": "nope-1"})
    assert status == 201


def test_a_catalog_message_listrak_does_not_know_stays_listraks_refusal_a_502(stack, sandbox, tmp_path):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text("[messages.gone]\nlistId = 999\ntransactionalMessageId = 1\n")
    stack.env_overrides["CATALOG_PATH"] = str(catalog)
    stack.cold_start()
    status, answer = post_message(stack, {"emailAddress": "a@example.com", "message": "gone", "reference": "g-1"})
    assert status == 502
    assert answer["listrakError"] == "ERROR_UNABLE_TO_LOCATE_RESOURCE"
    assert "listId" in answer["listrakMessage"]


def test_a_refused_send_can_be_retried_under_the_same_reference(stack, sandbox):
    sandbox.inject("send", "429", times=10)
    status, _ = post_message(stack, ORDER)
    assert status == 503
    sandbox.reset()  # Listrak is back
    status, _ = post_message(stack, ORDER)
    assert status == 201
    assert sandbox.stats["sends"] == 1


def test_throttling_backs_off_then_succeeds(stack, sandbox):
    sandbox.inject("send", "429", times=2)
    status, _ = post_message(stack, ORDER)

    assert status == 201
    assert sandbox.stats["faults_injected"] == 2
    assert sandbox.stats["sends"] == 1


def test_listrak_unreachable_after_bounded_retries_is_a_503(stack, sandbox):
    sandbox.inject("send", "429", times=50)
    status, answer = post_message(stack, ORDER)

    assert status == 503
    assert "Listrak is unavailable" in answer["message"]
    assert sandbox.stats["sends"] == 0


def test_a_timeout_after_the_send_is_pending_and_not_repeated(stack, sandbox):
    stack.env_overrides["LISTRAK_READ_TIMEOUT"] = "0.3"
    sandbox.inject("send", "slow", delay=1.0)

    status, answer = post_message(stack, ORDER)
    assert status == 202 and answer["status"] == "pending"
    assert answer["statusUrl"] == f"/v1/messages/{ORDER['reference']}"  # behind the stage, as on AWS
    assert sandbox.stats["sends"] == 1  # Listrak did send it

    again, replay = post_message(stack, ORDER)
    assert again == 202 and replay["status"] == "pending"
    assert sandbox.stats["sends"] == 1  # and it was not sent a second time


def test_a_connection_dropped_after_the_request_is_pending_and_not_repeated(stack, sandbox):
    sandbox.inject("send", "drop_after")
    status, _ = post_message(stack, ORDER)
    post_message(stack, ORDER)

    assert status == 202
    assert sandbox.stats["sends"] == 1


def test_the_token_is_reused_across_invocations(stack, sandbox):
    for n in range(3):
        assert post_message(stack, {**ORDER, "reference": f"order-{n}"})[0] == 201
    assert sandbox.stats["tokens_minted"] == 1


def test_a_cold_container_reads_the_cached_token_instead_of_minting(stack, sandbox):
    assert post_message(stack, {**ORDER, "reference": "a"})[0] == 201
    stack.cold_start()  # fresh module state, as a new Lambda container
    assert post_message(stack, {**ORDER, "reference": "b"})[0] == 201
    stack.cold_start("SendApiFunction")
    assert stack.invoke("SendEventFunction", _placed_order())["status"] == "sent"

    assert sandbox.stats["tokens_minted"] == 1
    versions = stack.client("secretsmanager").list_secret_version_ids(SecretId=stack.refs["EmailTokenCacheSecret"])
    assert len(versions["Versions"]) == 2  # the template's empty value, then the one token


def test_a_401_mid_flight_gives_one_refresh_and_one_replay(stack, sandbox):
    assert post_message(stack, {**ORDER, "reference": "warm"})[0] == 201
    sandbox.inject("send", "revoke_token")

    status, _ = post_message(stack, ORDER)

    assert status == 201
    assert sandbox.stats["tokens_minted"] == 2
    assert sandbox.stats["unauthorized"] == 1
    assert sandbox.stats["sends"] == 2


def test_invalid_credentials_give_a_clear_error_and_no_send(stack, sandbox):
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.refs["EmailCredentialsSecret"],
        SecretString=json.dumps({"clientId": "local-email-client", "clientSecret": "wrong"}),
    )
    status, answer = post_message(stack, ORDER)

    assert status == 500
    assert "misconfigured" in answer["message"]
    assert sandbox.stats["token_rejections"] == 1
    assert sandbox.stats["sends"] == 0
    log = (stack.log_dir / "SendApiFunction.log").read_text()
    assert "Listrak refused the client credentials" in log
    assert "wrong" not in log


def test_a_token_endpoint_401_is_misconfigured_credentials_too(stack, sandbox):
    # Listrak's token endpoint also answers 401 (an inactive integration, an address outside its allow-list).
    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"error":"ERROR_INVALID_CREDENTIALS"}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stack.env_overrides["LISTRAK_AUTH_URL"] = f"http://127.0.0.1:{server.server_address[1]}/OAuth2/Token"
        stack.cold_start()
        status, answer = post_message(stack, ORDER)
    finally:
        server.shutdown()
        server.server_close()
        stack.env_overrides.pop("LISTRAK_AUTH_URL")
        stack.cold_start()
    assert status == 500
    assert "misconfigured" in answer["message"]
    assert sandbox.stats["sends"] == 0
    assert "Listrak refused the client credentials (HTTP 401" in (stack.log_dir / "SendApiFunction.log").read_text()


def test_placeholder_credentials_name_the_secret_to_fill(stack, sandbox):
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.refs["EmailCredentialsSecret"],
        SecretString=json.dumps({"clientId": "REPLACE_ME", "clientSecret": "REPLACE_ME"}),
    )
    status, _ = post_message(stack, ORDER)
    assert status == 500
    assert "does not hold Listrak credentials yet" in (stack.log_dir / "SendApiFunction.log").read_text()
    assert sandbox.stats["tokens_minted"] == 0


def test_listrak_answering_resource_id_null_leaves_the_send_without_a_key(stack, sandbox):
    status, body = post_message(stack, ORDER)

    assert status == 201 and body["resendKey"] is None
    assert sandbox.send_count(300001, 7001, "jane.doe@example.com") == 1


def test_the_send_record_keeps_no_whole_address(stack, sandbox):
    sandbox.resend_key_in_send_response = True
    post_message(stack, ORDER)
    item = stack.client("dynamodb").get_item(TableName=stack.refs["Table"], Key={"id": {"S": "send#order-1001"}})[
        "Item"
    ]
    assert item["emailMasked"]["S"] == "j***@example.com"
    assert "jane.doe@example.com" not in json.dumps(item)
    assert item["resendKey"]["S"] == sandbox.sent_messages[0]["resendKey"]
    assert int(item["expiration"]["N"]) > 0


def test_logs_hold_no_token_secret_or_whole_address(stack, sandbox):
    (stack.log_dir / "SendApiFunction.log").unlink(missing_ok=True)  # this test's lines only
    post_message(stack, ORDER)
    sandbox.inject("send", "revoke_token")
    post_message(stack, {**ORDER, "reference": "second"})
    log = (stack.log_dir / "SendApiFunction.log").read_text()
    secret = json.loads(
        stack.client("secretsmanager").get_secret_value(SecretId=stack.refs["EmailCredentialsSecret"])["SecretString"]
    )
    token = json.loads(
        stack.client("secretsmanager").get_secret_value(SecretId=stack.refs["EmailTokenCacheSecret"])["SecretString"]
    )
    assert log
    for forbidden in ("jane.doe@example.com", secret["clientSecret"], token["accessToken"]):
        assert forbidden not in log


def _placed_order() -> dict:
    from tests.conftest import storefront_event

    return storefront_event(
        "Placed Order",
        {
            "profile": {"email": "jane.doe@example.com", "first_name": "Jane"},
            "properties": {"OrderId": "9"},
            "unique_id": "9",
        },
    )
