"""The state machine of one windowed coupling: closed -> open -> settling -> closed.

A window opens when its source crosses the level; while the source stays on the open
side it is `OPEN`; once the source has crossed back past the hysteresis it is `SETTLING`,
and it closes after `settle_ms` there (or at a fixed end the strategy sets). The state
also keeps the last exchange (time and source value) that the next flux starts from, and
the window's last two output values, whose extrapolation error sizes the next interval.
Nothing here touches an adapter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from .adapter import Samples
from .coupling import CompiledCoupling, Window
from .runstats import WindowRecord
from .units import TIME_EPS_MS


class Phase(Enum):
    CLOSED = "closed"
    OPEN = "open"
    SETTLING = "settling"


@dataclass(slots=True)
class WindowState:
    """Run-time state of one windowed coupling (see the module docstring).

    `series`: its flux replays the source's recorded trace instead of holding the mean.
    """

    coupling: CompiledCoupling
    trigger: Window
    series: bool = False
    phase: Phase = Phase.CLOSED
    touched: bool = False
    t_last_ms: float = math.nan
    c_last: float = math.nan
    interval_ms: float = math.nan
    due_ms: float = math.inf
    end_ms: float = math.inf
    settling_since_ms: float = math.nan
    saved: tuple[tuple[str, float], ...] = ()
    record: WindowRecord | None = None
    outputs: list[tuple[float, float]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.phase is not Phase.CLOSED

    def crossed(self, value: float) -> bool:
        """Whether a source value is past the opening level."""
        c = self.coupling
        return value >= c.level if self.trigger.direction == "rising" else value <= c.level

    def due(self, t_ms: float) -> bool:
        """Whether the window exchanges at `t_ms` (its interval is up, or it ends)."""
        return t_ms >= self.due_ms - TIME_EPS_MS or t_ms >= self.end_ms - TIME_EPS_MS

    def open(self, t_ms: float, c_now: float, interval_ms: float, end_ms: float) -> WindowRecord:
        """Open at `t_ms` with the source at `c_now`; returns the window's record."""
        self.phase = Phase.OPEN
        self.touched = True
        self.t_last_ms, self.c_last = t_ms, c_now
        self.schedule(t_ms, interval_ms)
        self.end_ms = end_ms
        self.settling_since_ms = math.nan
        self.record = WindowRecord(self.coupling.label, t_ms)
        self.outputs = []
        return self.record

    def schedule(self, t_ms: float, interval_ms: float) -> None:
        """The next exchange comes `interval_ms` after `t_ms`."""
        self.interval_ms = interval_ms
        self.due_ms = t_ms + interval_ms

    def close(self, t_ms: float) -> None:
        self.phase = Phase.CLOSED
        self.due_ms = self.end_ms = math.inf
        if self.record is not None:
            self.record.close_ms = t_ms

    def exchanged(self, t_ms: float, c_now: float, steps: np.ndarray | None) -> None:
        """Note an exchange at `t_ms` (source at `c_now`); `steps`: the source changes sent."""
        self.t_last_ms, self.c_last = t_ms, c_now
        if self.record is None:
            return
        self.record.exchanges += 1
        if steps is not None:
            self.record.delivered += float(steps.sum())
            self.record.influx += float(steps[steps > 0].sum())

    def settles(self, t_ms: float, value: float) -> bool:
        """Take the source's `value` at `t_ms`; whether the window is done at `t_ms`."""
        if self.end_ms < math.inf:
            return t_ms >= self.end_ms - TIME_EPS_MS
        return self._settles(t_ms, self._inside(value))

    def settled_in(self, rec: Samples) -> float | None:
        """The first recorded time after the last exchange at which the window is done."""
        values = rec.values * self.coupling.read_factor
        times = rec.t_ms
        fresh = times > self.t_last_ms + TIME_EPS_MS
        for t_i, value in zip(times[fresh], values[fresh], strict=True):
            if self._settles(float(t_i), self._inside(value)):
                return float(t_i)
        return None

    def source_steps(self, t_ms: float, c_now: float, rec: Samples, pieces: int) -> np.ndarray:
        """Source changes over `pieces` equal pieces of [t_last, t] from the recorded trace.

        They add up to exactly `c_now - c_last`, so a flux built from them delivers the
        amount the source gained, whatever the resolution.
        """
        grid = np.linspace(self.t_last_ms, t_ms, pieces + 1)
        conc = np.interp(grid, rec.t_ms, rec.values) * self.coupling.read_factor
        conc[0], conc[-1] = self.c_last, c_now
        return np.diff(conc)

    def predict(self, t_ms: float) -> float | None:
        """The output at `t_ms` extrapolated from the last two exchanges (None before two)."""
        if len(self.outputs) < 2:
            return None
        (t0, v0), (t1, v1) = self.outputs[-2:]
        return v1 + (v1 - v0) * (t_ms - t1) / (t1 - t0) if t1 > t0 else v1

    def add_output(self, t_ms: float, value: float) -> None:
        self.outputs = [*self.outputs[-1:], (t_ms, value)]

    def _inside(self, value: float) -> bool:
        """Whether the source is still on the open side of the closing level."""
        c = self.coupling
        return (
            value >= c.close_level
            if self.trigger.direction == "rising"
            else (value <= c.close_level)
        )

    def _settles(self, t_ms: float, inside: bool) -> bool:
        if inside:
            self.phase = Phase.OPEN
            self.settling_since_ms = math.nan
            return False
        if self.phase is Phase.OPEN:
            self.phase = Phase.SETTLING
            self.settling_since_ms = t_ms
        return t_ms - self.settling_since_ms >= self.trigger.settle_ms - TIME_EPS_MS
