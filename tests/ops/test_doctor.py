"""listrak-sam doctor: the catalog checked against the Listrak account, one line per finding."""

from __future__ import annotations

import json

import pytest

GOOD = """
[messages.order]
listId = 300001
transactionalMessageId = 7001
[messages.order.fields]
firstName = 5101
orderItems = 5105
[messages.order.items]
field = "orderItems"
template = "<td>{Name}</td>"
"""

BAD = (
    GOOD
    + """
[messages.typo]
listId = 300001
transactionalMessageId = 7999
[messages.typo.fields]
firstName = 5101
nickname = 5999

[messages.elsewhere]
listId = 123456
transactionalMessageId = 1
"""
)


@pytest.fixture
def account(stack):
    """List 300001's profile fields as the account defines them (its messages are the fixture catalog's)."""
    sandbox = stack.sandbox
    sandbox.add_list(300001, "Transactional")
    sandbox.add_profile_field(300001, 51, "Transactional", 5101, "First Name", "Text", 50)
    sandbox.add_profile_field(300001, 51, "Transactional", 5105, "Order Items", "Text", 4)
    return sandbox


def test_a_catalog_the_account_agrees_with_passes_except_a_field_too_short_for_one_item(account, cli, tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(GOOD, encoding="utf-8")

    code, out, _ = cli("doctor", "--catalog", str(path))

    assert code == 1
    assert out.strip().splitlines() == [
        "messages.order.fields.orderItems = 5105: Listrak's field 'Order Items' holds 4 characters, "
        "less than one item of the escaped template (27)",
        "checked: 1 message(s) on 1 list(s), 2 profile field(s), Activity",
    ]
    account.add_profile_field(300001, 51, "Transactional", 5105, "Order Items", "Text", 100_000)
    code, out, _ = cli("doctor", "--catalog", str(path))
    assert code == 0 and out.strip().startswith("checked: 1 message(s)")


def test_every_wrong_id_is_one_line_naming_its_entry(account, cli, tmp_path):
    account.add_profile_field(300001, 51, "Transactional", 5105, "Order Items", "Text", 100_000)
    path = tmp_path / "catalog.toml"
    path.write_text(BAD, encoding="utf-8")

    code, out, _ = cli("--json", "doctor", "--catalog", str(path))

    assert code == 1
    assert json.loads(out)["findings"] == [
        "list 123456 (used by elsewhere): Listrak has no such list for this integration",
        "messages.typo.transactionalMessageId = 7999: no such transactional message on list 300001",
        "messages.typo.fields.nickname = 5999: no such profile field on list 300001",
    ]


def test_activity_that_cannot_be_read_is_a_finding(account, cli, tmp_path):
    account.add_profile_field(300001, 51, "Transactional", 5105, "Order Items", "Text", 100_000)
    path = tmp_path / "catalog.toml"
    path.write_text(GOOD, encoding="utf-8")
    account.inject("activity", "503", times=100)

    code, out, _ = cli("doctor", "--catalog", str(path))

    assert code == 1
    [finding, _checked] = out.strip().splitlines()
    assert finding.startswith("list 300001: Activity could not be checked:")


def test_a_broken_catalog_is_one_line(cli, tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text("messages = [", encoding="utf-8")
    code, out, err = cli("doctor", "--catalog", str(path))
    assert code == 1 and out == "" and "not valid TOML" in err and len(err.strip().splitlines()) == 1
