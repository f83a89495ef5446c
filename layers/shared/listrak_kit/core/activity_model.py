"""What this account's Activity has been seen to do: how late a send shows, how its dates sit against our clock.

Absence in Activity means "not sent" only when it can be trusted, and that is learned, never assumed:

- lag: how long after a send its row first shows. Measured by a probe (one accepted send at a time, looked for
  every minute until its row shows), so each observation is the lag itself, to within a minute. The wait before
  absence is believed is four times the longest lag seen, never less than `SEND_RECONCILE_AFTER_SECONDS`; a probe
  still unseen counts with its age, so an Activity that never shows a send makes the wait grow without bound;
- offset: a row's date minus the send's start (Listrak's clock against ours, plus its queue);
- zone: dates written without a zone are local time somewhere; the shift is learned from the probe (dates are
  whole seconds, zones whole quarter hours). Until it is known, a zone-less date may be any time within 14 hours.

Until at least one lag has been observed, absence proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_SLACK_SECONDS = 30.0  # our clock against Listrak's, before any offset is observed
MAX_ZONE_SECONDS = 14 * 3600
QUARTER_HOUR = 900
KEEP = 50  # observations kept (the most recent)
# The wait is this many times the longest lag seen: lags have a long tail, and the few measured are a sample of it.
WAIT_FACTOR = 4


@dataclass(frozen=True)
class Observation:
    lag: float  # seconds from the send's start until its row showed (at least: a probe still unseen counts too)
    offset: float  # the row's date minus the send's start, zone shift removed
    naive: bool  # the row's date carried no zone

    def as_dict(self) -> dict[str, Any]:
        return {"lag": self.lag, "offset": self.offset, "naive": self.naive}


@dataclass(frozen=True)
class ActivityModel:
    observations: tuple[Observation, ...] = ()
    zone_shift: float | None = None  # seconds to add to a zone-less date read as UTC
    open_probe_age: float = 0.0  # the age of a probe whose row has not shown yet

    @staticmethod
    def of(item: dict[str, Any] | None, now: float) -> ActivityModel:
        if not item:
            return ActivityModel()
        observations = tuple(
            Observation(float(o["lag"]), float(o["offset"]), bool(o.get("naive"))) for o in item.get("observations", [])
        )
        probe = item.get("probe")
        age = max(0.0, now - float(probe["start"])) if isinstance(probe, dict) else 0.0
        shift = item.get("zoneShift")
        return ActivityModel(observations, float(shift) if shift is not None else None, age)

    @property
    def measured(self) -> bool:
        return bool(self.observations)

    def wait_seconds(self, floor: float) -> float:
        """How long after a send's start its absence from Activity may be believed."""
        longest = max([o.lag for o in self.observations] + [self.open_probe_age])
        return max(floor, WAIT_FACTOR * longest)

    def before_seconds(self) -> float:
        """How long before a send's start its row may be dated (Listrak's clock behind ours)."""
        earliest = min([0.0, *(o.offset for o in self.observations)])
        return DEFAULT_SLACK_SECONDS - earliest

    def after_seconds(self, span: float) -> float:
        """How long after a send's start its row may be dated."""
        latest = max([0.0, *(o.offset for o in self.observations)])
        return max(span, latest) + DEFAULT_SLACK_SECONDS

    def date_bounds(self, at: float, naive: bool) -> tuple[float, float]:
        """When a row dated `at` (a zone-less date read as UTC) may have been sent."""
        if not naive:
            return at, at
        if self.zone_shift is None:
            return at - MAX_ZONE_SECONDS, at + MAX_ZONE_SECONDS
        return at + self.zone_shift, at + self.zone_shift


def observe(item: dict[str, Any] | None, *, lag: float, offset_as_read: float, naive: bool) -> dict[str, Any]:
    """The stored model with one more observation (from a probe: the send's only row)."""
    item = dict(item or {})
    shift = item.get("zoneShift")
    offset = offset_as_read
    if naive:
        # The zone is the whole quarter hour nearest the offset; what is left is Listrak's clock and queue.
        learned = -round(offset_as_read / QUARTER_HOUR) * QUARTER_HOUR
        shift = learned if abs(learned) <= MAX_ZONE_SECONDS else shift
        offset = offset_as_read + (shift or 0)
    if shift is not None:
        item["zoneShift"] = shift
    observations = [*item.get("observations", []), Observation(lag, offset, naive).as_dict()]
    item["observations"] = observations[-KEEP:]
    return item
