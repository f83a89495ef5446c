import io
import logging
import time

import pytest

from listrak_kit.masking import email_fingerprint, mask_addresses, mask_email, mask_exception


def test_addresses_are_masked_to_first_letter_and_domain():
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email('"odd@local"@example.com') == '"***@example.com'
    assert mask_email("no-at-sign") == "***"


def test_the_fingerprint_ignores_case_and_surrounding_space():
    assert email_fingerprint(" Jane@Example.com ") == email_fingerprint("jane@example.com")
    assert email_fingerprint("a@example.com") != email_fingerprint("b@example.com")


ADDRESSES = [
    ("jane.doe@example.com", "j***@example.com"),
    ("JANE@EXAMPLE.COM", "J***@EXAMPLE.COM"),
    ("forwardAddress=attacker%40evil.example", "forwardAddress=a***%40evil.example"),
    # "/ ' = & ?" may stand in an address's local part: the address is masked whole, whatever precedes them
    ("password-reset/jane@example.com", "p***@example.com"),
    ("x/y@example.com", "x***@example.com"),
    ("o'brien@example.com", "o***@example.com"),
    ("a=b&c?d@example.com", "a***@example.com"),
    ("reference 'x/y@example.com' unknown", "reference '***@example.com' unknown"),
    # an assumed role's session name cannot hold a "/": the address is whole after the role, which stays readable
    ("arn:aws:sts::1:assumed-role/Support/agent@shop.example", "arn:aws:sts::1:assumed-role/Support/a***@shop.example"),
    ("?to=ann@example.com&cc=bob@example.com", "?***@example.com&***@example.com"),  # one right after another
    # percent-encoded, as in a query string or a path: "/ = & ?" are URL syntax there (an address's own are encoded)
    ("GET /messages/x%2Fy%40example.com", "GET /messages/x***%40example.com"),
    ("/messages/o%27b%40example.com?to=o'b%40example.com", "/messages/o***%40example.com?to=o***%40example.com"),
    ('"odd@local"@example.com', "o***@example.com"),
    ('{"to": "\\"odd@local\\"@example.com"}', '{"to": "o***@example.com"}'),
    ("jöse@exämple.com", "j***@exämple.com"),
    ("<b>x@y.example</b>", "<b>x***@y.example</b>"),
]


@pytest.mark.parametrize(("text", "masked"), ADDRESSES)
def test_every_address_in_a_text_is_masked_and_the_rest_kept(text, masked):
    assert mask_addresses(text) == masked
    assert mask_addresses(masked) == masked  # masking twice changes nothing


def test_text_without_addresses_is_returned_as_is():
    text = "sent reference=order-1001 at 2026-11-22T15:00:00Z (v1.2.3, a@b)"
    assert mask_addresses(text) == text


def test_an_exception_and_its_cause_are_masked_in_place():
    try:
        try:
            raise ValueError("bad jane@example.com")
        except ValueError as inner:
            raise RuntimeError("resend to attacker%40evil.example failed") from inner
    except RuntimeError as exc:
        error = exc
    assert mask_exception(error) is error
    assert str(error) == "resend to a***%40evil.example failed"
    assert str(error.__cause__) == "bad j***@example.com"


def test_library_records_are_masked_as_they_are_made_whatever_handler_writes_them():
    import listrak_kit.observability  # noqa: F401  (installs the mask)

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    library = logging.getLogger("urllib3.test")
    library.addHandler(handler)
    library.setLevel(logging.DEBUG)
    try:
        try:
            raise OSError("connection to jane@example.com refused")
        except OSError:
            library.debug("POST %s", "/r?forwardAddress=jane%40example.com", exc_info=True)
    finally:
        library.removeHandler(handler)
    line = out.getvalue()
    assert "jane" not in line
    assert "forwardAddress=j***%40example.com" in line and "connection to j***@example.com" in line


def test_powertools_lines_are_masked_in_every_key():
    from listrak_kit.observability import logger

    out = io.StringIO()
    previous = logger.registered_handler.setStream(out)
    try:
        raise ValueError("no route to jane@example.com")
    except ValueError:
        logger.exception(
            "refused for Jane@Example.com",
            extra={"reference": "reset/jane@example.com", "nested": {"to": ["x@y.example"]}},
        )
    finally:
        logger.registered_handler.setStream(previous)
    line = out.getvalue()
    assert "@" in line
    for whole in ("jane@example.com", "Jane@Example.com", "x@y.example"):
        assert whole not in line
    assert "J***@Example.com" in line and '"r***@example.com"' in line  # the reference is one address: whole


def test_an_error_escaping_a_handler_carries_no_whole_address_even_one_that_renders_its_inputs():
    from pydantic import BaseModel, ValidationError

    from listrak_kit.observability import masks_escaping_errors

    class Detail(BaseModel):
        count: int

    @masks_escaping_errors
    def handler(event, context):
        if event == "model":
            Detail.model_validate({"count": "jane@example.com"})
        raise KeyError(f"reference order-{event}")

    with pytest.raises(KeyError) as caught:  # masked in place: the same exception, the same type
        handler("jane@example.com", None)
    assert "jane@example.com" not in str(caught.value) and "o***@example.com" in str(caught.value)
    with pytest.raises(Exception) as caught:  # pydantic renders the input itself: a stand-in of the same name
        handler("model", None)
    assert type(caught.value).__name__ == "ValidationError" and not isinstance(caught.value, ValidationError)
    # pydantic's `input_value='jane@...` is one run of address characters: masked whole
    assert "jane@example.com" not in str(caught.value) and "i***@example.com" in str(caught.value)
    assert caught.value.__traceback__ is not None


def test_a_long_line_is_masked_in_linear_time():
    started = time.perf_counter()
    text = "a" * 200_000 + " jane@example.com " + '"' * 100_000 + "@"
    assert "j***@example.com" in mask_addresses(text)
    assert time.perf_counter() - started < 1.0  # one scan per run of characters, not one per position
