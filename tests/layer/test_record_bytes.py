"""A record's size as DynamoDB counts it: names and values in UTF-8, not characters."""

from listrak_kit.core.limits import dynamo_bytes


def test_strings_count_their_utf8_bytes_and_names_count_too():
    assert dynamo_bytes("abc") == 3
    assert dynamo_bytes("€") == 3  # one character, three bytes
    assert dynamo_bytes({"ab": "€€"}) == 3 + 2 + 6 + 1


def test_numbers_booleans_nulls_and_lists():
    assert dynamo_bytes(12345) == 4 and dynamo_bytes(True) == 1 and dynamo_bytes(None) == 1
    assert dynamo_bytes(["a", "bb"]) == 3 + (1 + 1) + (2 + 1)
