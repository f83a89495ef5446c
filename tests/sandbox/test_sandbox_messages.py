"""The sandbox's transactional message routes (GET a list's messages, GET one), as the Email API spec defines them."""

from __future__ import annotations

from tests.sandbox.conftest import UNAUTHORIZED, assert_envelope

NOT_FOUND = "ERROR_UNABLE_TO_LOCATE_RESOURCE"


def seeded(start_sandbox):
    def seed(sandbox):
        sandbox.add_transactional_message(300001, 7001)
        sandbox.add_transactional_message(300001, 7003)
        sandbox.add_transactional_message(300002, 8001)
        sandbox.add_list(400001, "Master List")

    return start_sandbox(seed)


def test_a_list_s_messages_are_listed_in_the_spec_s_shape(start_sandbox, http):
    sandbox = seeded(start_sandbox)
    auth = {"Authorization": f"Bearer {sandbox.issue_token('Email')}"}

    answer = http.get(f"{sandbox.email_api_url}/v1/List/300001/TransactionalMessage", headers=auth, timeout=5)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == 200
    assert [m["transactionalMessageId"] for m in body["data"]] == [7001, 7003]
    assert set(body["data"][0]) == {
        "transactionalMessageId",
        "transactionalMessageName",
        "campaignId",
        "externalCampaignId",
        "subject",
    }
    empty = http.get(f"{sandbox.email_api_url}/v1/List/400001/TransactionalMessage", headers=auth, timeout=5)
    assert empty.status_code == 200 and empty.json()["data"] == []


def test_one_message_is_found_by_its_ids_and_an_unknown_one_is_404(start_sandbox, http):
    sandbox = seeded(start_sandbox)
    auth = {"Authorization": f"Bearer {sandbox.issue_token('Email')}"}
    base = f"{sandbox.email_api_url}/v1/List"

    found = http.get(f"{base}/300002/TransactionalMessage/8001", headers=auth, timeout=5)
    assert found.status_code == 200 and found.json()["data"]["transactionalMessageId"] == 8001

    assert_envelope(http.get(f"{base}/300001/TransactionalMessage/8001", headers=auth, timeout=5), 404, NOT_FOUND)
    assert_envelope(http.get(f"{base}/999/TransactionalMessage", headers=auth, timeout=5), 404, NOT_FOUND)
    # Exact-case paths, as every other route.
    assert http.get(f"{base}/300001/transactionalmessage", headers=auth, timeout=5).status_code == 404


def test_the_message_routes_need_an_email_token(start_sandbox, http):
    sandbox = seeded(start_sandbox)
    data_token = {"Authorization": f"Bearer {sandbox.issue_token('Data')}"}
    answer = http.get(f"{sandbox.email_api_url}/v1/List/300001/TransactionalMessage", headers=data_token, timeout=5)
    assert answer.status_code == 401 and answer.json() == UNAUTHORIZED
