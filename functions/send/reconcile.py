"""The reconciler, on a schedule: settles every send left `sending` or `pending` whose time has come."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from listrak_kit import snapstart
from listrak_kit.observability import observed
from listrak_kit.services import SendPath, send_path
from listrak_kit.settings import SendSettings, load_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

CATALOG = Path(__file__).with_name("catalog.toml")


@cache
def path() -> tuple[SendPath, int]:
    settings = load_settings(SendSettings)
    return send_path(settings, default_catalog=CATALOG), settings.SEND_RECONCILE_BATCH


def _prime() -> None:
    path()


snapstart.install(_prime)


@observed()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    send, batch = path()
    send.begin(context)
    report = send.service.sweep(limit=batch)
    return {"checked": report.checked, **report.counts}
