from listrak_kit.masking import email_fingerprint, mask_email


def test_addresses_are_masked_to_first_letter_and_domain():
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email('"odd@local"@example.com') == '"***@example.com'
    assert mask_email("no-at-sign") == "***"


def test_the_fingerprint_ignores_case_and_surrounding_space():
    assert email_fingerprint(" Jane@Example.com ") == email_fingerprint("jane@example.com")
    assert email_fingerprint("a@example.com") != email_fingerprint("b@example.com")
