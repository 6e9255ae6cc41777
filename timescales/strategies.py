"""Synchronization strategies: small objects that tell the one scheduler loop when to sync.

Every strategy answers three questions:

- `grid_ms`: a global sync cadence (lockstep, fixed interval), or None;
- how a closed window notices its trigger: native watches (`native_watches`), a check
  of the source at every sync, or a schedule of opening times (`schedule_ms`);
- how long the next exchange interval of an open window is (`first_interval_ms`,
  `next_interval_ms`), and how a flux is held inside it (`hold`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .errors import ConfigError

Hold = Literal["constant", "series"]
HOLDS: tuple[Hold, ...] = ("constant", "series")


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(name, "a finite number > 0 (ms)", value)


def _hold(name: str, value: str) -> None:
    if value not in HOLDS:
        raise ConfigError(name, f"one of {HOLDS}", value)


@dataclass(frozen=True, kw_only=True)
class Strategy:
    """Base: what every strategy shares. Subclasses override the hooks below."""

    name = "strategy"
    native_watches = False
    hold: Hold = "constant"
    resolution_ms: float = 0.025
    max_advance_ms: float = math.inf
    pipeline: bool = False

    def grid_ms(self, dt_ms: float) -> float | None:
        """Global sync cadence given the leader's time step, or None."""
        return None

    def schedule_ms(self) -> Sequence[float]:
        """Times at which every window opens (scheduled windows only)."""
        return ()

    def window_length_ms(self) -> float | None:
        """Fixed window length (scheduled windows), or None to close by hysteresis."""
        return None

    def first_interval_ms(self, dt_ms: float) -> float:
        """First exchange interval after a window opens."""
        return dt_ms

    def next_interval_ms(self, current_ms: float, error: float | None, dt_ms: float) -> float:
        """Next exchange interval, given the scaled error estimate of the last one."""
        return current_ms

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class Lockstep(Strategy):
    """Exchange at every electrical time step: the reference, and the most expensive."""

    name = "lockstep"

    def grid_ms(self, dt_ms: float) -> float | None:
        return dt_ms


@dataclass(frozen=True)
class FixedInterval(Strategy):
    """Exchange every `interval_ms`, checking triggers only at those times."""

    interval_ms: float = 1.0
    name = "fixed"

    def __post_init__(self) -> None:
        _positive("FixedInterval.interval_ms", self.interval_ms)
        _hold("FixedInterval.hold", self.hold)

    def grid_ms(self, dt_ms: float) -> float | None:
        return self.interval_ms

    def first_interval_ms(self, dt_ms: float) -> float:
        return self.interval_ms

    def describe(self) -> str:
        return f"fixed({self.interval_ms:g} ms, {self.hold})"


@dataclass(frozen=True, kw_only=True)
class EventDriven(Strategy):
    """Sync only when something moves: watches open windows, intervals adapt to an error.

    Inside an open window the exchange interval starts at `min_interval_ms` and is
    adapted by a step controller (safety 0.9, growth at most 2x, cut at most 5x) on
    the error of linearly extrapolating the window's outputs, scaled by `rtol`; it
    stays within [min_interval_ms, max_interval_ms]. Between syncs the simulators
    run freely up to the next known event or `max_advance_ms`.

    `pipeline`: a window sends the outputs of its previous exchange before it hands the
    target the next interval, so a target that advances asynchronously (in a worker
    process) integrates while the leader runs on; outputs then lag by one interval.
    """

    min_interval_ms: float = 1.0
    max_interval_ms: float = 50.0
    rtol: float = 1e-3
    hold: Hold = "series"
    resolution_ms: float = 1.0
    max_advance_ms: float = 1000.0
    name = "event"
    native_watches = True

    def __post_init__(self) -> None:
        for key in ("min_interval_ms", "max_interval_ms", "rtol", "resolution_ms"):
            _positive(f"EventDriven.{key}", getattr(self, key))
        _positive("EventDriven.max_advance_ms", self.max_advance_ms)
        _hold("EventDriven.hold", self.hold)
        if self.max_interval_ms < self.min_interval_ms:
            raise ConfigError(
                "EventDriven.max_interval_ms",
                f">= min_interval_ms ({self.min_interval_ms})",
                self.max_interval_ms,
            )

    def first_interval_ms(self, dt_ms: float) -> float:
        return self.min_interval_ms

    def next_interval_ms(self, current_ms: float, error: float | None, dt_ms: float) -> float:
        grow = 2.0 if not error else min(2.0, max(0.2, 0.9 * error**-0.5))
        return min(self.max_interval_ms, max(self.min_interval_ms, current_ms * grow))

    def describe(self) -> str:
        return f"event({self.hold}, rtol={self.rtol:g})"


@dataclass(frozen=True, kw_only=True)
class ScheduledWindows(Strategy):
    """The 2013 study's schedule: windows open at listed times for `buffer_ms`.

    Every windowed coupling opens at each time of `times_ms` not yet passed and
    exchanges every `sampling_ms` until the window ends; between windows nothing is
    exchanged (calcium outside the windows never reaches the target).
    """

    times_ms: tuple[float, ...] = field(default=())
    buffer_ms: float = 10.0
    sampling_ms: float = 1.0
    name = "original"

    def __post_init__(self) -> None:
        _positive("ScheduledWindows.buffer_ms", self.buffer_ms)
        _positive("ScheduledWindows.sampling_ms", self.sampling_ms)
        object.__setattr__(self, "times_ms", tuple(sorted(set(map(float, self.times_ms)))))

    def schedule_ms(self) -> Sequence[float]:
        return self.times_ms

    def window_length_ms(self) -> float | None:
        return self.buffer_ms

    def first_interval_ms(self, dt_ms: float) -> float:
        return self.sampling_ms

    def describe(self) -> str:
        return f"original({len(self.times_ms)} windows of {self.buffer_ms:g} ms)"
