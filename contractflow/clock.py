"""The business clock of a service process: the wall clock, or in development an
accelerated one, so a contract's months (reminders, evaluations, extensions) can be lived
through in minutes by the real processes (`make demo`).

CONTRACTFLOW_CLOCK_RATE   how many seconds of business time pass per real second (1: the
                          wall clock, the default)
CONTRACTFLOW_CLOCK_EPOCH  the instant (ISO 8601 with a time zone) at which business time
                          equals the wall clock; required with a rate above 1. Every process
                          given the same pair reads the same business time, whenever it
                          started.

The entrypoints read this once and hand the clock to every service's bootstrap, which gives
it to the workflow runtime, the deadlines and the links; delivery (Kafka, mail, leases,
tokens) stays on the wall clock. Anywhere but CONTRACTFLOW_ENVIRONMENT=development an
accelerated clock is refused: production dates must be real ones.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from contractflow.config import DEVELOPMENT, ConfigError, environment_of
from contractflow.db import utcnow

RATE = "CONTRACTFLOW_CLOCK_RATE"
EPOCH = "CONTRACTFLOW_CLOCK_EPOCH"
# A year in a second: beyond that a 1 s worker poll would skip a whole term between looks.
MAX_RATE = 366 * 86_400

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class AcceleratedClock:
    """Business time running `rate` times faster than the wall clock from `epoch` on."""

    rate: float
    epoch: dt.datetime
    wall: Clock = utcnow

    def __call__(self) -> dt.datetime:
        return self.epoch + (self.wall() - self.epoch) * self.rate


def clock_from_env(env: Mapping[str, str]) -> Clock:
    """The clock the settings ask for; refuses an accelerated one outside development and
    names the variable that is wrong."""
    raw = (env.get(RATE) or "").strip()
    if raw in ("", "1"):
        return utcnow
    try:
        rate = float(raw)
    except ValueError:
        raise ConfigError(f"{RATE} must be a number, got {raw!r}") from None
    if not math.isfinite(rate) or not 1 <= rate <= MAX_RATE:
        raise ConfigError(f"{RATE}={raw}: use a rate from 1 (the wall clock) to {MAX_RATE}")
    environment = environment_of(env)
    if environment != DEVELOPMENT:
        raise ConfigError(
            f"{RATE}={raw} but CONTRACTFLOW_ENVIRONMENT={environment}: an accelerated clock "
            "is for development only; unset it"
        )
    return AcceleratedClock(rate, _epoch(env.get(EPOCH) or ""))


def _epoch(text: str) -> dt.datetime:
    if not text.strip():
        raise ConfigError(
            f"{EPOCH} is not set but {RATE} is: every process needs the same instant to count "
            "business time from (e.g. $(date -u +%Y-%m-%dT%H:%M:%SZ))"
        )
    try:
        epoch = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{EPOCH}={text!r} is not an ISO 8601 date and time") from None
    if epoch.tzinfo is None:
        raise ConfigError(f"{EPOCH}={text!r} needs a time zone (e.g. Z or +08:00)")
    return epoch.astimezone(dt.UTC)
