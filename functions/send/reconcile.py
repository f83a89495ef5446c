"""The reconciler, on a schedule: settles every send left `sending` or `pending` whose time has come."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from listrak_kit import snapstart
from listrak_kit.observability import logger, masks_escaping_errors, metrics, tracer
from listrak_kit.services import send_path
from listrak_kit.settings import SendSettings, load_settings

CATALOG = Path(__file__).with_name("catalog.toml")


@cache
def path():
    settings = load_settings(SendSettings)
    return send_path(settings, default_catalog=CATALOG), settings.SEND_RECONCILE_BATCH


def _prime() -> None:
    path()


snapstart.install(_prime)


@tracer.capture_lambda_handler(capture_response=False)
@masks_escaping_errors
@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    send, batch = path()
    send.begin(context)
    report = send.service.sweep(limit=batch)
    return {"checked": report.checked, **report.counts}
