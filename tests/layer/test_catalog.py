"""The catalog file, the item block and the event mapping, on their own."""

from __future__ import annotations

import html
import tracemalloc

import pytest

from listrak_kit.catalog.item_block import render_items
from listrak_kit.catalog.model import ItemBlock, load_catalog
from listrak_kit.core.limits import ValueLimits
from listrak_kit.errors import ConfigurationError, InvalidRequest, NotTriggered, UnknownMessage
from listrak_kit.send.event_mapping import request_from_event
from tests.conftest import FIXTURE_CATALOG

LIMITS = ValueLimits()


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(FIXTURE_CATALOG)


def test_the_fixture_catalog_has_the_promised_messages(catalog):
    assert set(catalog.messages) == {
        "order-confirmation",
        "shipping-confirmation",
        "password-reset",
        "account-created",
        "failed-payment",
        "new-lead",
        "loyalty-tier-upgrade",
        "account-updated",
        "invoice-created",
        "became-lead",
    }
    assert all(spec.all_triggers() for spec in catalog.messages.values())


def write(tmp_path, text):
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[messages.a]\nlistId = 1\n", "messages.a.transactionalMessageId"),
        ("[messages.a]\nlistId = -1\ntransactionalMessageId = 2\n", "messages.a.listId"),
        ("[messages.a]\nlistId = 1\ntransactionalMessageId = 2\n[messages.a.fields]\nx = 5\ny = 5\n", "share"),
        (
            "[messages.a]\nlistId = 1\ntransactionalMessageId = 2\n[messages.a.items]\nfield = 'nope'\n"
            "template = '{X}'\n",
            "items.field 'nope'",
        ),
        (
            "[messages.a]\nlistId = 1\ntransactionalMessageId = 2\n[messages.a.fields]\nblock = 3\n"
            "[messages.a.items]\nfield = 'block'\ntemplate = '<tr></tr>'\n",
            "no {Placeholder} slot",
        ),
        (
            "[messages.a]\nlistId = 1\ntransactionalMessageId = 2\n[messages.a.event]\ndetailTypes = ['X']\n"
            "emailAddress = 'profile.email'\n[messages.b]\nlistId = 1\ntransactionalMessageId = 3\n"
            "[messages.b.event]\ndetailTypes = ['X']\nemailAddress = 'profile.email'\n",
            "triggers both a and b",
        ),
        ("[messages.Bad_Name]\nlistId = 1\ntransactionalMessageId = 2\n", "messages.Bad_Name"),
        ("[messages.a]\nlistId = 1\ntransactionalMessageId = 2\ncolour = 'red'\n", "messages.a.colour"),
        ("messages = [", "not valid TOML"),
    ],
)
def test_catalog_errors_name_the_bad_entry(tmp_path, text, names):
    with pytest.raises(ConfigurationError, match=None) as caught:
        load_catalog(write(tmp_path, text))
    assert names in str(caught.value)


def test_a_missing_catalog_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="not found"):
        load_catalog(tmp_path / "nope.toml")


def test_item_values_are_escaped_then_the_whole_block_is_escaped():
    block = ItemBlock(field="items", template='<td title="{Name}">{Name}</td><td>{Qty}</td>')
    rendered = render_items(
        block, [{"Name": '"><script>alert(1)</script>', "Qty": 2}, {"Name": "B&B", "Qty": 1}], limits=LIMITS
    )
    # the bounded renderer builds exactly what escaping the joined block would
    joined = "".join(
        block.template.replace("{Name}", html.escape(n)).replace("{Qty}", q)
        for n, q in (('"><script>alert(1)</script>', "2"), ("B&B", "1"))
    )
    assert rendered == html.escape(joined)

    assert "<" not in rendered and '"' not in rendered
    listrak_sees = html.unescape(rendered)
    assert listrak_sees.count("<td") == 4
    assert "<script>" not in listrak_sees
    assert "&lt;script&gt;" in listrak_sees and "B&amp;B" in listrak_sees


def test_items_missing_a_slot_name_every_gap():
    block = ItemBlock(field="items", template="{A}{B}")
    with pytest.raises(InvalidRequest) as caught:
        render_items(block, [{"A": 1}, {"B": 2}, "oops"], limits=LIMITS)
    assert [p.field for p in caught.value.problems] == ["items[0].B", "items[1].A", "items[2]"]


def test_an_item_value_over_the_field_limit_is_named_before_anything_is_rendered():
    block = ItemBlock(field="items", template="<td>{A}</td>")
    with pytest.raises(InvalidRequest) as caught:
        render_items(block, [{"A": "x"}, {"A": "y" * 101}], limits=ValueLimits(field_chars=100))
    (problem,) = caught.value.problems
    assert problem.field == "items[1].A"
    assert "SEND_FIELD_MAX_CHARS" in problem.message and "100" in problem.message


def test_an_amplifying_item_block_stops_at_its_limit_and_names_it():
    # quotes escape twice into 10 characters each, and the slot repeats: 20x the input
    block = ItemBlock(field="items", template='<td title="{A}">{A}</td>')
    items = [{"A": '"' * 4_000} for _ in range(500)]  # 2 MB of input, 40 MB rendered unbounded
    limits = ValueLimits(field_chars=4_000, item_block_chars=200_000)
    tracemalloc.start()
    try:
        with pytest.raises(InvalidRequest) as caught:
            render_items(block, items, limits=limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (problem,) = caught.value.problems
    assert problem.field == "items"
    assert "SEND_ITEM_BLOCK_MAX_CHARS" in problem.message and "200000" in problem.message
    assert "items[2]" in problem.message  # it stopped at the third item, not after the 500th
    assert peak < 2 * 1024 * 1024  # bounded by the limit, not by what the items would expand to


def test_a_block_at_its_limit_renders_whole():
    block = ItemBlock(field="items", template="{A}")
    assert render_items(block, [{"A": "ab"}] * 5, limits=ValueLimits(item_block_chars=10)) == "ab" * 5
    with pytest.raises(InvalidRequest):
        render_items(block, [{"A": "ab"}] * 6, limits=ValueLimits(item_block_chars=10))


def test_an_event_maps_onto_a_send_request(catalog):
    request = request_from_event(
        catalog,
        detail_type="Reset Password",
        detail={
            "profile": {"email": "sam@example.com", "first_name": "Sam"},
            "properties": {"PasswordResetLink": "https://r/1"},
            "unique_id": "r-1",
        },
        event_id="evt",
    )
    assert request.message == "password-reset"
    assert request.reference == "password-reset/r-1"
    assert request.fields == {"firstName": "Sam", "passwordResetLink": "https://r/1"}


def test_an_event_with_an_unknown_detail_type_is_refused(catalog):
    with pytest.raises(UnknownMessage, match="Birthday"):
        request_from_event(catalog, detail_type="Birthday", detail={}, event_id="e")


def test_an_event_field_of_the_wrong_shape_is_named_by_its_event_path(catalog):
    with pytest.raises(InvalidRequest) as caught:
        request_from_event(
            catalog,
            detail_type="Reset Password",
            detail={"profile": {"email": "sam@example.com", "first_name": {"x": 1}}},
            event_id="e",
        )
    assert [p.field for p in caught.value.problems] == ["detail.profile.first_name"]


def trigger_entry(name: str, message_id: int, extra: str = "") -> str:
    return (
        f"[messages.{name}]\nlistId = 1\ntransactionalMessageId = {message_id}\n"
        f"[[messages.{name}.triggers]]\ndetailType = 'shopifyWebhook'\nemailAddress = 'payload.email'\n{extra}"
    )


TOPIC = "when = { 'metadata.topic' = 'orders/create' }\n"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            trigger_entry("a", 2, TOPIC) + trigger_entry("b", 3, TOPIC),
            "metadata.topic = 'orders/create' on detail-type 'shopifyWebhook' triggers both a and b",
        ),
        (
            trigger_entry("a", 2, TOPIC) + trigger_entry("b", 3, "when = { 'payload.kind' = 'x' }\n"),
            "test different paths (metadata.topic, payload.kind)",
        ),
        (trigger_entry("a", 2, TOPIC) + trigger_entry("b", 3), "triggers both a and b"),
        (trigger_entry("a", 2, "when = { 'x' = '1', 'y' = '2' }\n"), "messages.a.triggers.0.when"),
        (
            "[messages.a]\nlistId = 1\ntransactionalMessageId = 2\n[messages.a.fields]\nblock = 3\n"
            "[messages.a.items]\nfield = 'block'\ntemplate = '{Name}'\n"
            + "[[messages.a.triggers]]\ndetailType = 'X'\nemailAddress = 'email'\nitems = 'line_items'\n"
            "itemFields = { Title = 'title' }\n",
            "maps item slots the item block does not have: Title",
        ),
        (
            trigger_entry("a", 2, "[messages.a.triggers.fields]\nnope = 'x'\n"),
            "triggers[0].fields names fields this message does not have: nope",
        ),
    ],
    ids=["one-value-two-messages", "two-paths", "conditional-and-not", "two-conditions", "stray-slot", "stray-field"],
)
def test_trigger_errors_name_the_trigger_and_the_clash(tmp_path, text, names):
    with pytest.raises(ConfigurationError) as caught:
        load_catalog(write(tmp_path, text))
    assert names in str(caught.value)


def test_a_trigger_reads_a_platform_event_by_its_paths_first_present_wins(tmp_path):
    catalog = load_catalog(
        write(
            tmp_path,
            "[messages.a]\nlistId = 1\ntransactionalMessageId = 2\n[messages.a.fields]\nfirst = 3\nblock = 4\n"
            "[messages.a.items]\nfield = 'block'\ntemplate = '<td>{Name}</td><td>{Img}</td>'\n"
            + trigger_entry(
                "a",
                2,
                TOPIC + "reference = ['metadata.event', 'metadata.webhook']\nitems = 'payload.line_items'\n"
                "itemFields = { Name = ['title', 'name'] }\nitemDefaults = { Img = 'none.png' }\n"
                "[messages.a.triggers.fields]\nfirst = ['payload.customer.first_name', 'payload.first_name']\n",
            ).split("\n", 3)[3],
        )
    )
    detail = {
        "metadata": {"topic": "orders/create", "webhook": "w-1"},
        "payload": {"email": "a@example.com", "first_name": "Ann", "line_items": [{"name": "Cap <b>"}]},
    }

    request = request_from_event(catalog, detail_type="shopifyWebhook", detail=detail, event_id="eb-1")

    assert request.reference == "a/w-1"
    assert request.fields == {"first": "Ann"}
    assert request.items == [{"name": "Cap <b>", "Name": "Cap <b>", "Img": "none.png"}]
    with pytest.raises(NotTriggered, match="'orders/paid'"):
        request_from_event(
            catalog, detail_type="shopifyWebhook", detail={**detail, "metadata": {"topic": "orders/paid"}}, event_id="e"
        )
    with pytest.raises(InvalidRequest, match="detail.metadata.topic: missing"):
        request_from_event(catalog, detail_type="shopifyWebhook", detail={"payload": {}}, event_id="e")
