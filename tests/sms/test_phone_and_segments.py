"""Numbers normalised as Listrak takes them, segments counted as carriers count them, numbers masked in logs."""

from __future__ import annotations

import pytest

from listrak_kit.core.segments import count_segments, worst_case
from listrak_kit.masking import mask_addresses, mask_phone
from listrak_kit.sms.phone import InvalidPhoneNumber, normalize_phone


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("(555) 123-4567", "US", "15551234567"),
        ("555.123.4567", "US", "15551234567"),
        ("1-555-123-4567", "US", "15551234567"),
        ("+1 555 123 4567", "GB", "15551234567"),
        ("07700 900123", "GB", "447700900123"),
        ("+44 (0)7700 900123".replace("(0)", ""), "US", "447700900123"),
        ("0044 7700 900123", "US", "447700900123"),
        ("0151 1234567", "DE", "491511234567"),
    ],
)
def test_numbers_are_normalised_to_country_code_and_digits(text, country, expected):
    assert normalize_phone(text, country) == expected


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("", "US"),
        ("555-1234", "US"),  # seven digits: no area code
        ("1-800-FLOWERS", "US"),
        ("555 123 4567 x12", "US"),
        ("+1 055 123 4567", "US"),  # a NANP area code never starts with 0 or 1
        ("+12345", "US"),
        ("+0 555 123 4567", "US"),
        ("+1234567890123456", "US"),  # sixteen digits: past E.164
        ("7700 900123", "ZZ"),  # no national rules: needs +
    ],
)
def test_what_is_not_a_number_is_refused_without_repeating_it(text, country):
    with pytest.raises(InvalidPhoneNumber) as refused:
        normalize_phone(text, country)
    assert text.strip() == "" or text not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 152 + "€", "GSM-7", 154, 1),  # 160 septets or fewer: one segment
        ("a" * 160 + "€", "GSM-7", 162, 2),
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # the escape pair is not split at 153
        ("é" * 160, "GSM-7", 160, 1),  # é is in the GSM-7 alphabet
        ("ā" * 70, "UCS-2", 70, 1),
        ("ā" * 71, "UCS-2", 71, 2),
        ("ā" * 134, "UCS-2", 134, 2),
        ("ā" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # a surrogate pair is two units
        ("ā" * 66 + "😀" + "ā" * 66, "UCS-2", 134, 3),  # and never split
        ("Your order shipped 📦", "UCS-2", 21, 1),
    ],
)
def test_segments_are_counted_in_gsm7_or_ucs2(text, encoding, units, segments):
    counted = count_segments(text)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, segments)


def test_the_worst_case_fills_every_field_in_the_costliest_alphabet():
    # GSM-7: 20 literal septets + 2 x 100 for extension characters = 220 septets, two segments.
    assert worst_case("a" * 20, [100]).segments == 2
    # UCS-2: 20 + 100 units = 120, two segments; GSM-7 wins at 3 for 150.
    assert worst_case("a" * 20, [150]).segments == 3
    # A literal outside GSM-7 is UCS-2 whatever the fields hold: 60 + 10 = 70 units, one segment.
    worst = worst_case("ā" * 60, [10])
    assert (worst.encoding, worst.segments) == ("UCS-2", 1)
    assert worst_case("ā" * 60, [11]).segments == 2


@pytest.mark.parametrize(
    "line",
    [
        "sending to +1 555 123 4567 now",
        "sending to +15551234567 now",
        '{"phoneNumber": "15551234567"}',
        "to=+44 (7700) 900-123",
    ],
)
def test_a_phone_number_in_a_log_line_is_masked_to_its_last_two_digits(line):
    masked = mask_addresses(line)
    assert "1234567" not in masked and "7700" not in masked and "***" in masked
    assert masked.count("***") == 1


@pytest.mark.parametrize(
    "line",
    [
        '{"timestamp": "2026-12-05 00:13:48,123+0000", "xray_trace_id": "1-5759e988-bd862e3fe1be46a994272793"}',
        "reference order-123456 attempt 2, version 3.13.1, listId 300001",
        "sentAt 2026-12-05T00:13:48Z, resourceId 6f1c2e4a-1b2c-4d5e-8f90-123456789012",
    ],
)
def test_dates_ids_and_short_numbers_are_left_alone(line):
    assert mask_addresses(line) == line


def test_mask_phone_keeps_two_digits_at_most():
    assert mask_phone("15551234567") == "***67"
    assert mask_phone("7") == "***"


@pytest.mark.parametrize("line", ["call (555) 123-4567", "call 555-123-4567 today", "call 555.123.4567"])
def test_a_north_american_number_as_people_write_it_is_masked(line):
    assert "123" not in mask_addresses(line) and "***67" in mask_addresses(line)


def test_ten_digit_limits_in_import_reasons_are_left_alone():
    assert mask_addresses("must be at most 2147483647") == "must be at most 2147483647"
