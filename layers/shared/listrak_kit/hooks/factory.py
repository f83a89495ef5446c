"""The HTTPS doors, wired from their function's settings."""

from __future__ import annotations

from pathlib import Path

from listrak_kit.aws.bus import EventBridgeBus
from listrak_kit.aws.secrets import SecretsManagerWebhookSecret
from listrak_kit.catalog.model import load_catalog
from listrak_kit.hooks.service import HookService
from listrak_kit.settings import HooksSettings


def hook_service(settings: HooksSettings, *, default_catalog: Path) -> HookService:
    return HookService(
        catalog=load_catalog(settings.CATALOG_PATH or default_catalog),
        bus=EventBridgeBus(settings.STOREFRONT_BUS_NAME),
        shopify_secret=SecretsManagerWebhookSecret(settings.SHOPIFY_WEBHOOK_SECRET_ID),
    )
