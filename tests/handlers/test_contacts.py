"""Audience sync on the local stack: contacts/ files into a Listrak list, through names, per contact or ListImport."""

from __future__ import annotations

import json

import pytest

LIST = 400001  # "Master List", seeded by the local stack with two field groups
FIRST, LAST, BIRTHDAY, TIER, POINTS = 9101, 9102, 9103, 9201, 9202


def drop(stack, key, text):
    [(_, outcome)] = stack.drop_file("ImportBucket", key, text.encode())
    assert outcome.error is None, outcome.error
    stack.drain("ImportQueue")
    return outcome.result["outcome"]


def manifest(stack, key):
    body = stack.client("s3").get_object(Bucket=stack.refs["ImportBucket"], Key=f"results/{key}.manifest.json")
    return json.loads(body["Body"].read())


def rejects(stack, key):
    body = stack.client("s3").get_object(Bucket=stack.refs["ImportBucket"], Key=f"results/{key}.rejects.jsonl")
    return [json.loads(line) for line in body["Body"].read().splitlines()]


@pytest.fixture
def contacts_stack(stack):
    stack.env_overrides["CONTACTS_POLL_SECONDS"] = "0"
    return stack


def contact(sandbox, email):
    return sandbox.contacts[LIST][email]


def test_field_names_resolve_to_ids_and_contacts_are_upserted(contacts_stack, sandbox):
    drop(
        contacts_stack,
        "contacts/a.csv",
        "emailAddress,First Name,Loyalty.Loyalty Tier,Points\njane@example.com,Jane,Gold,12\n",
    )
    stored = contact(sandbox, "jane@example.com")
    assert stored["subscriptionState"] == "Subscribed"
    assert stored["fields"] == {FIRST: "Jane", TIER: "Gold", POINTS: "12"}
    assert sandbox.stats["contact_upserts"] == 1


def test_an_unknown_field_or_a_bad_value_rejects_only_the_rows_that_have_it(contacts_stack, sandbox):
    text = (
        "emailAddress,First Name,Shoe Size,Points,Loyalty Tier\n"
        "a@example.com,Ann,,5,Gold\n"
        "b@example.com,Bob,44,5,Gold\n"
        "c@example.com,Cy,,many,Gold\n"
        f"d@example.com,Di,,5,{'x' * 31}\n"
        "not-an-address,Ed,,5,Gold\n"
    )
    drop(contacts_stack, "contacts/b.csv", text)
    assert set(sandbox.contacts[LIST]) == {"a@example.com"}
    problems = {(r["line"], r["field"]) for r in rejects(contacts_stack, "contacts/b.csv")}
    assert problems == {(3, "Shoe Size"), (4, "Points"), (5, "Loyalty Tier"), (6, "emailAddress")}
    assert manifest(contacts_stack, "contacts/b.csv")["rejected"] == 4


def test_a_large_load_goes_as_a_list_import_polled_to_completion_with_its_summary(contacts_stack, sandbox):
    contacts_stack.env_overrides["CONTACTS_PER_CONTACT_MAX"] = "2"
    sandbox.set_contact(LIST, "old@example.com", "Unsubscribed")
    rows = "".join(f"c{n}@example.com,Subscribed,Name{n}\n" for n in range(5))
    drop(
        contacts_stack,
        "contacts/big.csv",
        "emailAddress,subscriptionState,First Name\n"
        + rows
        + "old@example.com,Subscribed,Old\ngone@example.com,Unsubscribed,\n",
    )

    assert sandbox.stats["list_imports"] >= 1 and sandbox.stats["contact_upserts"] == 0
    assert sandbox.stats["list_import_status_polls"] >= 3  # InProgress twice, then Completed
    assert contact(sandbox, "c3@example.com")["fields"] == {FIRST: "Name3"}
    assert contact(sandbox, "old@example.com")["subscriptionState"] == "Unsubscribed"
    [chunk] = manifest(contacts_stack, "contacts/big.csv")["parts"][0]["chunks"]
    summary = chunk["imports"]["subscribe"]["summary"]
    assert summary["subscribedCount"] == 5 and summary["previouslyUnsubscribedCount"] == 1


def test_an_unsubscribed_contact_stays_unsubscribed_by_default(contacts_stack, sandbox):
    sandbox.set_contact(LIST, "left@example.com", "Unsubscribed")
    drop(contacts_stack, "contacts/c.csv", "emailAddress,subscriptionState,First Name\nleft@example.com,Subscribed,L\n")
    assert contact(sandbox, "left@example.com")["subscriptionState"] == "Unsubscribed"
    [chunk] = manifest(contacts_stack, "contacts/c.csv")["parts"][0]["chunks"]
    assert chunk["upserted"] == 0
    [reject] = rejects(contacts_stack, "contacts/c.csv")
    assert (reject["line"], reject["emailAddress"]) == (2, "l***@example.com")  # the line names it; masked
    assert reject["reason"].startswith("ERROR_UNSUBSCRIBED_EMAIL_ADDRESS: ")


def test_resubscribing_needs_the_explicit_setting(contacts_stack, sandbox):
    contacts_stack.env_overrides["CONTACTS_RESUBSCRIBE"] = "true"
    sandbox.set_contact(LIST, "back@example.com", "Unsubscribed")
    drop(contacts_stack, "contacts/d.csv", "emailAddress,subscriptionState\nback@example.com,Subscribed\n")
    assert contact(sandbox, "back@example.com")["subscriptionState"] == "Subscribed"


def test_the_same_file_twice_imports_once(contacts_stack, sandbox):
    text = "emailAddress,First Name\njane@example.com,Jane\n"
    drop(contacts_stack, "contacts/e.csv", text)
    [(_, again)] = contacts_stack.publish(
        {
            "version": "0",
            "id": "x",
            "detail-type": "Object Created",
            "source": "aws.s3",
            "detail": {"bucket": {"name": contacts_stack.refs["ImportBucket"]}, "object": {"key": "contacts/e.csv"}},
        }
    )
    contacts_stack.drain("ImportQueue")
    assert again.result["outcome"].startswith("skipped")
    assert sandbox.stats["contact_upserts"] == 1


def test_the_list_is_found_by_id_too(contacts_stack, sandbox):
    contacts_stack.env_overrides.update({"CONTACTS_LIST_ID": str(LIST), "CONTACTS_LIST_NAME": "No Such List"})
    drop(contacts_stack, "contacts/f.csv", "emailAddress\nid@example.com\n")
    assert contact(sandbox, "id@example.com")["subscriptionState"] == "Subscribed"


def test_an_unknown_list_name_is_a_clear_configuration_error(contacts_stack, sandbox):
    contacts_stack.env_overrides["CONTACTS_LIST_NAME"] = "No Such List"
    drop(contacts_stack, "contacts/g.csv", "emailAddress\nx@example.com\n")
    assert "matches 0 Listrak lists" in (contacts_stack.log_dir / "ImportFunction.log").read_text()
    dead = contacts_stack.client("sqs").receive_message(QueueUrl=contacts_stack.refs["ImportDeadLetterQueue"])
    assert len(dead["Messages"]) == 1


def test_banned_suppressed_and_unsubscribed_addresses_are_rejects_with_listraks_reason(contacts_stack, sandbox):
    sandbox.refuse_address("banned@example.com", "ERROR_BANNED_EMAIL_ADDRESS")
    sandbox.refuse_address("suppressed@example.com", "ERROR_SUPPRESSED_EMAIL")
    sandbox.set_contact(LIST, "left@example.com", "Unsubscribed")
    text = "emailAddress,First Name\n" + "".join(
        f"{name}@example.com,N\n" for name in ("a", "banned", "b", "suppressed", "left", "c")
    )
    drop(contacts_stack, "contacts/refused.csv", text)

    assert {e for e, c in sandbox.contacts[LIST].items() if c["subscriptionState"] == "Subscribed"} == {
        "a@example.com",
        "b@example.com",
        "c@example.com",
    }
    reasons = {(r["line"], r["emailAddress"]): r["reason"] for r in rejects(contacts_stack, "contacts/refused.csv")}
    assert {k: v.split(":")[0] for k, v in reasons.items()} == {
        (3, "b***@example.com"): "ERROR_BANNED_EMAIL_ADDRESS",
        (5, "s***@example.com"): "ERROR_SUPPRESSED_EMAIL",
        (6, "l***@example.com"): "ERROR_UNSUBSCRIBED_EMAIL_ADDRESS",
    }
    result = manifest(contacts_stack, "contacts/refused.csv")
    assert (result["state"], result["accepted"], result["rejected"]) == ("imported with rejects", 3, 3)


def test_an_unsubscribe_row_carries_no_profile_data(contacts_stack, sandbox):
    sandbox.refuse_unsubscribe_with_data = True
    sandbox.set_contact(LIST, "going@example.com")
    drop(
        contacts_stack,
        "contacts/u.csv",
        "emailAddress,subscriptionState,First Name\ngoing@example.com,Unsubscribed,G\n",
    )
    assert contact(sandbox, "going@example.com")["subscriptionState"] == "Unsubscribed"
    assert manifest(contacts_stack, "contacts/u.csv")["state"] == "imported"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"list_import_final_status": "Mystery"}, "unknown status 'Mystery'"),
        ({"list_import_final_status": "Failed"}, "ended with status 'Failed'"),
        ({"list_import_without_id": True}, "gave no import id"),
    ],
)
def test_a_list_import_that_fails_or_answers_oddly_ends_the_file_as_failed(contacts_stack, sandbox, change, said):
    contacts_stack.env_overrides["CONTACTS_PER_CONTACT_MAX"] = "1"
    for name, value in change.items():
        setattr(sandbox, name, value)
    drop(contacts_stack, "contacts/odd.csv", "emailAddress\na@example.com\nb@example.com\n")
    result = manifest(contacts_stack, "contacts/odd.csv")
    assert result["state"] == "failed" and said in result["reason"]
    assert result["notImported"] == [{"part": 0, "fromLine": 2, "toLine": None}]
    dead = contacts_stack.client("sqs").receive_message(QueueUrl=contacts_stack.refs["ImportDeadLetterQueue"])
    assert "Messages" not in dead


def test_a_list_import_with_no_end_within_the_bound_ends_as_failed(contacts_stack, sandbox):
    contacts_stack.env_overrides.update({"CONTACTS_PER_CONTACT_MAX": "1", "CONTACTS_IMPORT_MAX_SECONDS": "0.001"})
    sandbox.list_import_polls_until_done = 1000
    drop(contacts_stack, "contacts/slow.csv", "emailAddress\na@example.com\nb@example.com\n")
    result = manifest(contacts_stack, "contacts/slow.csv")
    assert result["state"] == "failed" and "had not ended after" in result["reason"]


def test_listrak_refusing_some_addresses_refuses_only_those_rows(contacts_stack, sandbox):
    # Listrak refuses to unsubscribe with profile data, to unsubscribe a non-member and to subscribe a banned
    # address; each refusal is that row's, and the rest of the file is still imported.
    sandbox.set_contact(LIST, "sub@example.com", "Subscribed", {FIRST: "Sue"})
    sandbox.set_contact(LIST, "ban@example.com", "Banned")
    text = (
        "emailAddress,subscriptionState,First Name\n"
        "sub@example.com,Unsubscribed,S\n"
        "new@example.com,Unsubscribed,\n"
        "ban@example.com,Subscribed,B\n"
        "ok@example.com,Subscribed,O\n"
    )
    drop(contacts_stack, "contacts/mixed.csv", text)

    assert contact(sandbox, "sub@example.com")["subscriptionState"] == "Unsubscribed"
    assert contact(sandbox, "ok@example.com")["fields"] == {FIRST: "O"}
    assert "new@example.com" not in sandbox.contacts[LIST]
    assert contact(sandbox, "ban@example.com")["subscriptionState"] == "Banned"
    reasons = {(r["line"], r["emailAddress"]): r["reason"] for r in rejects(contacts_stack, "contacts/mixed.csv")}
    assert {k: v.split(":")[0] for k, v in reasons.items()} == {
        (3, "n***@example.com"): "ERROR_NOT_SUBSCRIBED_EMAIL_ADDRESS",
        (4, "b***@example.com"): "ERROR_BANNED_EMAIL_ADDRESS",
    }
    result = manifest(contacts_stack, "contacts/mixed.csv")
    assert (result["state"], result["accepted"], result["rejected"]) == ("imported with rejects", 2, 2)
