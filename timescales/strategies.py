"""Synchronization strategies: the questions the scheduler asks, answered per strategy.

The scheduler never branches on a strategy's flags; it asks (`Strategy` states the
protocol, with the answers of a plain level-triggered coupling as defaults):

- `next_sync_ms`: the strategy's own next sync time (a grid, a schedule, a bound on how
  far the simulators may run unsynchronized);
- `arms_watches` and `window_opens`: how a closed window notices its trigger (the source
  stops at the crossing itself, the level is checked at every sync, or a schedule);
- `window_end_ms`: whether an open window closes at a fixed time or by its hysteresis;
- `first_interval_ms`, `next_interval_ms`: the exchange interval of an open window;
- `holds_series`, `pieces`: how the calcium sent over an interval is held (a constant
  mean, or the source's own trace replayed as a piecewise-constant series).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .errors import ConfigError
from .units import TIME_EPS_MS

Hold = Literal["constant", "series"]
HOLDS: tuple[Hold, ...] = ("constant", "series")


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(name, "a finite number > 0 (ms)", value)


def _hold(name: str, value: str) -> None:
    if value not in HOLDS:
        raise ConfigError(name, f"one of {HOLDS}", value)


def _step(name: str, dt_ms: float | None) -> float:
    if dt_ms is None:
        raise ConfigError(name, "a leading adapter that declares its step dt_ms", None)
    return dt_ms


def _next_on_grid(t_ms: float, t0_ms: float, step_ms: float) -> float:
    """The grid point after `t_ms` on t0 + n * step. The leader's clock drifts by round-off:
    a time within 1e-6 of a step is on it."""
    n = math.floor((t_ms - t0_ms) / step_ms + 1e-6) + 1
    return t0_ms + n * step_ms


@dataclass(frozen=True, kw_only=True)
class Strategy:
    """The protocol every strategy answers; the defaults check levels at every sync.

    `hold`: "constant" or "series" (see `holds_series`); `resolution_ms`: the length of a
    series piece; `max_advance_ms`: how far the simulators may run between two syncs.
    """

    name = "strategy"
    hold: Hold = "constant"
    resolution_ms: float = 0.025
    max_advance_ms: float = math.inf

    def next_sync_ms(self, t_ms: float, t0_ms: float, dt_ms: float | None) -> float:
        """The strategy's next sync after `t_ms` (the run started at `t0_ms`)."""
        return t_ms + self.max_advance_ms

    def arms_watches(self) -> bool:
        """Whether closed windows are watched by their sources (who stop at the crossing)."""
        return False

    def window_opens(self, t_ms: float, fired: bool | None, crossed: Callable[[], bool]) -> bool:
        """Whether a closed window opens at this sync. `fired`: its watch fired (None when
        its source was not watched); `crossed()` reads the source and compares."""
        return crossed()

    def window_end_ms(self, t_open_ms: float) -> float:
        """When a window opened at `t_open_ms` closes regardless of its source (or inf)."""
        return math.inf

    def first_interval_ms(self, dt_ms: float | None) -> float:
        """The first exchange interval after a window opens."""
        return _step(f"{type(self).__name__}.first_interval_ms", dt_ms)

    def next_interval_ms(
        self, current_ms: float, value: float | None, predicted: float | None, dt_ms: float | None
    ) -> float:
        """The next exchange interval, given the window's output `value` at this exchange and
        what extrapolating its last two exchanges `predicted` (None before two exist)."""
        return current_ms

    def holds_series(self) -> bool:
        """Whether a flux replays the source's trace (where the adapters can) or holds its mean."""
        return self.hold == "series"

    def pieces(self, span_ms: float) -> int:
        """Pieces of the series a flux over `span_ms` is sent as."""
        return max(1, round(span_ms / self.resolution_ms))

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class Lockstep(Strategy):
    """Exchange at every electrical time step: the reference, and the most expensive."""

    name = "lockstep"

    def next_sync_ms(self, t_ms: float, t0_ms: float, dt_ms: float | None) -> float:
        grid = _next_on_grid(t_ms, t0_ms, _step("Lockstep", dt_ms))
        return min(t_ms + self.max_advance_ms, grid)


@dataclass(frozen=True)
class FixedInterval(Strategy):
    """Exchange every `interval_ms`, checking triggers only at those times."""

    interval_ms: float = 1.0
    name = "fixed"

    def __post_init__(self) -> None:
        _positive("FixedInterval.interval_ms", self.interval_ms)
        _hold("FixedInterval.hold", self.hold)

    def next_sync_ms(self, t_ms: float, t0_ms: float, dt_ms: float | None) -> float:
        return min(t_ms + self.max_advance_ms, _next_on_grid(t_ms, t0_ms, self.interval_ms))

    def first_interval_ms(self, dt_ms: float | None) -> float:
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
    run freely up to the next known event or `max_advance_ms`. A source that cannot
    watch has its level checked at every sync instead.
    """

    min_interval_ms: float = 1.0
    max_interval_ms: float = 50.0
    rtol: float = 1e-3
    hold: Hold = "series"
    resolution_ms: float = 1.0
    max_advance_ms: float = 1000.0
    name = "event"

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

    def arms_watches(self) -> bool:
        return True

    def window_opens(self, t_ms: float, fired: bool | None, crossed: Callable[[], bool]) -> bool:
        return crossed() if fired is None else fired

    def first_interval_ms(self, dt_ms: float | None) -> float:
        return self.min_interval_ms

    def next_interval_ms(
        self, current_ms: float, value: float | None, predicted: float | None, dt_ms: float | None
    ) -> float:
        error = None
        if value is not None and predicted is not None:
            typical = abs(value) or 1.0
            error = abs(value - predicted) / (self.rtol * (abs(value) + typical))
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

    def next_sync_ms(self, t_ms: float, t0_ms: float, dt_ms: float | None) -> float:
        i = bisect.bisect_right(self.times_ms, t_ms + TIME_EPS_MS)
        scheduled = self.times_ms[i] if i < len(self.times_ms) else math.inf
        return min(t_ms + self.max_advance_ms, scheduled)

    def window_opens(self, t_ms: float, fired: bool | None, crossed: Callable[[], bool]) -> bool:
        return self._scheduled_at(t_ms)

    def window_end_ms(self, t_open_ms: float) -> float:
        return t_open_ms + self.buffer_ms

    def first_interval_ms(self, dt_ms: float | None) -> float:
        return self.sampling_ms

    def describe(self) -> str:
        return f"original({len(self.times_ms)} windows of {self.buffer_ms:g} ms)"

    def _scheduled_at(self, t_ms: float) -> bool:
        i = bisect.bisect_left(self.times_ms, t_ms - TIME_EPS_MS)
        return any(abs(s - t_ms) <= TIME_EPS_MS for s in self.times_ms[i : i + 1])
