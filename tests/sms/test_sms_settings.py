"""The SMS integration's settings: optional beside email, validated, and refused by name when missing."""

from __future__ import annotations

import pytest

from listrak_kit.errors import ConfigurationError
from listrak_kit.services import sms_api
from listrak_kit.settings import SendSettings, load_settings

EMAIL = {"TABLE_NAME": "t", "LISTRAK_EMAIL_CREDENTIALS_SECRET": "e", "LISTRAK_EMAIL_TOKEN_CACHE_SECRET": "c"}


def test_the_sms_api_url_and_default_country_have_listrak_s_defaults():
    settings = SendSettings.model_validate(EMAIL)
    assert settings.LISTRAK_SMS_API_URL == "https://api.listrak.com/sms"
    assert settings.SMS_DEFAULT_COUNTRY == "US" and settings.SMS_MAX_SEGMENTS == 10


def test_a_send_function_without_the_sms_secrets_refuses_sms_by_name():
    with pytest.raises(ConfigurationError, match="LISTRAK_SMS_"):
        sms_api(SendSettings.model_validate(EMAIL))


def test_a_malformed_default_country_is_a_configuration_error(monkeypatch):
    for name, value in EMAIL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMS_DEFAULT_COUNTRY", "usa")
    with pytest.raises(ConfigurationError, match="SMS_DEFAULT_COUNTRY"):
        load_settings(SendSettings)


def test_with_its_secrets_the_sms_client_points_at_the_sms_api_url():
    settings = SendSettings.model_validate(
        EMAIL
        | {
            "LISTRAK_SMS_CREDENTIALS_SECRET": "s",
            "LISTRAK_SMS_TOKEN_CACHE_SECRET": "t",
            "LISTRAK_SMS_API_URL": "http://127.0.0.1:9/sms/",
        }
    )
    assert sms_api(settings)._listrak.base_url == "http://127.0.0.1:9/sms"
