"""Listrak credentials and the shared token cache, both in Secrets Manager (through Powertools Parameters)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from listrak_kit.aws.clients import aws_client
from listrak_kit.errors import ConfigurationError
from listrak_kit.listrak.tokens import AccessToken, ClientCredentials

PLACEHOLDER = "REPLACE_ME"
CREDENTIALS_MAX_AGE_SECONDS = 300


class SecretsManagerCredentials:
    """`{"clientId": ..., "clientSecret": ...}`; read when a token must be minted, cached for five minutes."""

    def __init__(self, secret_id: str, provider: SecretsProvider | None = None):
        self._secret_id = secret_id
        self._provider = provider or SecretsProvider(boto3_client=aws_client("secretsmanager"))

    def get(self) -> ClientCredentials:
        value = self._provider.get(self._secret_id, transform="json", max_age=CREDENTIALS_MAX_AGE_SECONDS)
        client_id = value.get("clientId") if isinstance(value, dict) else None
        client_secret = value.get("clientSecret") if isinstance(value, dict) else None
        if not client_id or not client_secret or PLACEHOLDER in (client_id, client_secret):
            raise ConfigurationError(
                f"secret {self._secret_id} does not hold Listrak credentials yet: set it to "
                '{"clientId": "...", "clientSecret": "..."} from the integration in Listrak'
            )
        return ClientCredentials(client_id=str(client_id), client_secret=str(client_secret))


class SecretsManagerTokenCache:
    """`{"accessToken": ..., "expiresAt": <epoch>}`, shared by every container of every function."""

    def __init__(self, secret_id: str, provider: SecretsProvider | None = None):
        self._secret_id = secret_id
        self._provider = provider or SecretsProvider(boto3_client=aws_client("secretsmanager"))

    def read(self) -> AccessToken | None:
        # Always from the source: the provider's own cache would hide a peer's fresh token (and set()
        # does not update it either).
        value: Any = self._provider.get(self._secret_id, transform="json", force_fetch=True)
        if not isinstance(value, dict):
            return None
        token, expires_at = value.get("accessToken"), value.get("expiresAt")
        if not isinstance(token, str) or not token or not isinstance(expires_at, (int, float)):
            return None
        return AccessToken(value=token, expires_at=float(expires_at))

    def write(self, token: AccessToken) -> None:
        payload = json.dumps({"accessToken": token.value, "expiresAt": token.expires_at})
        # The request token is derived from the token itself, so a repeated write of one token adds no version.
        self._provider.set(
            self._secret_id, payload, client_request_token=str(uuid.uuid5(uuid.NAMESPACE_OID, token.value))
        )


WEBHOOK_SECRET_MAX_AGE_SECONDS = 300


class SecretsManagerWebhookSecret:
    """A webhook signing secret, stored as the plain secret string; cached in memory for five minutes."""

    def __init__(self, secret_id: str, provider: SecretsProvider | None = None):
        self._secret_id = secret_id
        self._provider = provider or SecretsProvider(boto3_client=aws_client("secretsmanager"))

    def get(self) -> str:
        value = self._provider.get(self._secret_id, max_age=WEBHOOK_SECRET_MAX_AGE_SECONDS)
        if not isinstance(value, str) or not value.strip() or value.strip() == PLACEHOLDER:
            raise ConfigurationError(
                f"secret {self._secret_id} does not hold the webhook signing secret yet: set it to the secret "
                "Shopify shows for the shop's webhooks (Settings > Notifications > Webhooks) or the app's client secret"
            )
        return value.strip()


class SecretsManagerKey:
    """A key the stack generated (the tombstones' HMAC key), read once per container: it never changes."""

    def __init__(self, secret_id: str, provider: SecretsProvider | None = None):
        self._secret_id = secret_id
        self._provider = provider or SecretsProvider(boto3_client=aws_client("secretsmanager"))
        self._value: bytes | None = None

    def get(self) -> bytes:
        if self._value is None:
            value = self._provider.get(self._secret_id)
            if not isinstance(value, str) or len(value.strip()) < 16 or PLACEHOLDER in value:
                raise ConfigurationError(f"secret {self._secret_id} does not hold a key of at least 16 characters")
            self._value = value.strip().encode("utf-8")
        return self._value
