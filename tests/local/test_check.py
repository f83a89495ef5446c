"""`make check`: the user's catalog against the template's rules, one line per problem, non-zero exit."""

from __future__ import annotations

import re

import pytest

from local_stack import check
from tests.conftest import BACK_IN_STOCK, FIXTURE_CATALOG


def run_check(capsys, catalog) -> tuple[int, list[str], str]:
    code = check.main(["--catalog", str(catalog)])
    out, err = capsys.readouterr()
    return code, err.splitlines(), out


def test_the_fixture_catalog_passes(capsys):
    code, errors, out = run_check(capsys, FIXTURE_CATALOG)
    assert (code, errors) == (0, [])
    assert "every trigger has a rule in template.yaml" in out


def test_a_trigger_no_rule_delivers_says_what_to_add_to_which_rule(capsys, tmp_path):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(FIXTURE_CATALOG.read_text() + BACK_IN_STOCK)

    code, errors, _ = run_check(capsys, catalog)

    assert code == 1
    assert errors[0] == (
        f"{catalog}: messages.back-in-stock has a trigger on detail-type 'Back In Stock', but no rule matches it: "
        "add 'Back In Stock' to the detail-type list of rule Storefront of SendEventFunction in template.yaml "
        "(Resources.SendEventFunction.Properties.Events.Storefront.Properties.Pattern.detail-type)"
    )
    assert errors[1:] == [f"{catalog}: 1 problem(s)"]


def test_a_detail_type_the_rule_delivers_without_a_message_is_reported(capsys, tmp_path):
    catalog = tmp_path / "catalog.toml"
    text = FIXTURE_CATALOG.read_text()
    catalog.write_text(re.sub(r"\[messages\.new-lead\].*?(?=\n\[messages\.loyalty)", "", text, flags=re.S))

    code, errors, _ = run_check(capsys, catalog)

    assert code == 1
    assert len(errors) == 2
    assert "delivers detail-type 'New Lead', which no message in" in errors[0]
    assert "remove it from Resources.SendEventFunction.Properties.Events.Storefront" in errors[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[messages.a]\nlistId = 1\n", ["messages.a.transactionalMessageId: Field required"]),
        (
            "[messages.a]\nlistId = 1\ntransactionalMessageId = 2\n[messages.a.items]\nfield = 'x'\ntemplate = '{A}'\n"
            "[messages.b]\nlistId = 0\ntransactionalMessageId = 2\n",
            ["messages.a: items.field 'x' is not one of this message's fields", "messages.b.listId: Input should be"],
        ),
        ("[messages.a\n", ["not valid TOML"]),
    ],
)
def test_each_catalog_mistake_is_one_line(capsys, tmp_path, text, expected):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(text)

    code, errors, _ = run_check(capsys, catalog)

    assert code == 1
    assert len(errors) == len(expected) + 1
    for line, wanted in zip(errors, expected, strict=False):
        assert line.startswith(f"{catalog}: ") and wanted in line
    assert "Traceback" not in "\n".join(errors)


def test_a_missing_catalog_is_one_line(capsys, tmp_path):
    code, errors, _ = run_check(capsys, tmp_path / "nowhere.toml")
    assert code == 1
    assert errors[0] == f"{tmp_path / 'nowhere.toml'}: not found"
