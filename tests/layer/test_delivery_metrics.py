"""Delivery metrics go out in all (for the bounce-rate alarm) and per message (a `message` dimension)."""

from __future__ import annotations

import json

from listrak_kit.observability import metrics
from listrak_kit.services import count_for_message


def test_a_delivery_metric_is_written_per_message_and_counted_in_all(capsys):
    count_for_message("DeliveryBounced", "order-confirmation")
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "DeliveryBounced" in x]
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert ["message"] in [d[-1:] for d in directive["Dimensions"]] or "message" in directive["Dimensions"][0]
    assert line["message"] == "order-confirmation" and line["DeliveryBounced"] in (1, 1.0, [1.0])
    assert metrics.metric_set["DeliveryBounced"]["Value"] == [1.0]  # the total, flushed with the invocation's
    metrics.clear_metrics()
