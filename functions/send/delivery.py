"""The delivery poller, on a schedule: what Listrak's Activity shows became of each email, told to the store."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from listrak_kit import snapstart
from listrak_kit.observability import observed
from listrak_kit.settings import DeliverySettings, load_settings
from listrak_kit.workers import delivery_poller

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from listrak_kit.delivery.poller import DeliveryPoller

CATALOG = Path(__file__).with_name("catalog.toml")


@cache
def poller() -> DeliveryPoller:
    return delivery_poller(load_settings(DeliverySettings), default_catalog=CATALOG)


snapstart.install(poller)


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = poller().run()
    return {k: v for k, v in vars(report).items() if k != "counts"}
