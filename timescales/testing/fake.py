"""Analytic fake adapters: exact answers for scheduler and coupling tests, no simulator needed."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from timescales.adapter import Adapter, Capabilities, Reached, Samples, Series, Variable, Watch


@dataclass(frozen=True, slots=True)
class _Segment:
    """x(t) on [t0, t1) is the exact solution of dx/dt = a*x + b + u with constant u."""

    t0_ms: float
    x0: float
    u: float


class LinearODE(Adapter):
    """dx/dt = a*x + b + u(t) + v (per ms), solved in closed form; u is piecewise constant.

    Variables: `x` (a state that may be set), `u` (an input rate, settable; also takes
    a `Series`), `v` (a second, constant input rate), `dxdt` (output). Watches are
    located exactly (the solution is monotonic within each constant-input piece).
    `dt_ms` is the step a lockstep strategy uses.
    """

    kind = "linear-ode"
    capabilities = Capabilities(
        native_watches=True, save_restore=True, series_input=True, records=True
    )

    def __init__(
        self,
        a_per_ms: float,
        b: float = 0.0,
        x0: float = 0.0,
        *,
        unit: str = "mM",
        label: str = "",
        dt_ms: float = 0.025,
    ) -> None:
        super().__init__(label)
        self.a = float(a_per_ms)
        self.b = float(b)
        self.x_init = float(x0)
        self.dt_ms = dt_ms
        self._vars = {
            "x": Variable("x", unit, "input", "the state"),
            "u": Variable("u", f"{unit}/ms", "parameter", "input rate added to dx/dt"),
            "v": Variable("v", f"{unit}/ms", "parameter", "second input rate added to dx/dt"),
            "dxdt": Variable("dxdt", f"{unit}/ms", "output", "current rate of change"),
        }
        self._u = 0.0
        self._v = 0.0
        self._x = self.x_init
        self._series: Series | None = None
        self._history: list[_Segment] = []
        self._now_ms = math.nan

    # -------------------------------------------------------------- exact solution
    def _solve(self, x0: float, u: float, dt: float) -> float:
        """x after `dt` ms from x0 with total input u (both inputs included)."""
        if self.a == 0.0:
            return x0 + (self.b + u) * dt
        x_ss = -(self.b + u) / self.a
        return x_ss + (x0 - x_ss) * math.exp(self.a * dt)

    def _crossing(self, x0: float, u: float, level: float, dt_max: float) -> float | None:
        """Time in (0, dt_max] where x reaches `level`, or None."""
        if self.a == 0.0:
            rate = self.b + u
            if rate == 0.0:
                return None
            t = (level - x0) / rate
        else:
            x_ss = -(self.b + u) / self.a
            ratio = (level - x_ss) / (x0 - x_ss) if x0 != x_ss else -1.0
            if ratio <= 0.0:
                return None
            t = math.log(ratio) / self.a
        return t if 0.0 < t <= dt_max else None

    def _input_at(self, t_ms: float) -> tuple[float, float]:
        """Input value in force at `t_ms` and the time it next changes."""
        s = self._series
        if s is not None and s.t0_ms - 1e-12 <= t_ms < s.t_end_ms - 1e-12:
            i = min(int((t_ms - s.t0_ms + 1e-12) // s.dt_ms), len(s.values) - 1)
            return float(s.values[i]) + self._v, s.t0_ms + (i + 1) * s.dt_ms
        if s is not None and t_ms < s.t0_ms:
            return self._u + self._v, s.t0_ms
        return self._u + self._v, math.inf

    # ------------------------------------------------------------- contract
    def variables(self) -> Mapping[str, Variable]:
        return self._vars

    def _initialize(self, t0_ms: float) -> None:
        self._now_ms = t0_ms
        self._x = self.x_init
        self._u = self._v = 0.0
        self._series = None
        self._history = [_Segment(t0_ms, self._x, 0.0)]

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        reached = self._solve_to(until_ms, watches)
        self._now_ms = reached.t_ms
        return reached

    def _solve_to(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        t = self._now_ms
        while t < until_ms:
            u, t_change = self._input_at(t)
            t_end = min(until_ms, t_change)
            self._note_segment(t, u)
            hits = []
            for w in watches:
                if w.variable != "x":
                    continue
                dt = self._crossing(self._x, u, w.level, t_end - t)
                if dt is not None:
                    slope = self.a * w.level + self.b + u
                    rising = slope > 0
                    if w.direction == "either" or (w.direction == "rising") == rising:
                        hits.append((dt, w))
            if hits:
                dt_first = min(dt for dt, _ in hits)
                fired = tuple(w for dt, w in hits if dt == dt_first)
                self._x = self._solve(self._x, u, dt_first)
                return Reached(t + dt_first, fired)
            self._x = self._solve(self._x, u, t_end - t)
            t = t_end
        return Reached(until_ms)

    def _note_segment(self, t_ms: float, u: float) -> None:
        last = self._history[-1]
        if last.t0_ms == t_ms:
            self._history[-1] = _Segment(t_ms, self._x, u)
        elif last.u != u or not math.isclose(self._value_at(t_ms), self._x, abs_tol=1e-15):
            self._history.append(_Segment(t_ms, self._x, u))

    def _get(self, name: str) -> float:
        if name == "x":
            return self._x
        u, _ = self._input_at(self._now_ms)
        if name == "u":
            return u - self._v
        if name == "v":
            return self._v
        return self.a * self._x + self.b + u

    def _set(self, name: str, value: float) -> None:
        if name == "x":
            self._x = value
            self._history.append(_Segment(self._now_ms, value, self._input_at(self._now_ms)[0]))
        elif name == "u":
            self._u = value
            self._series = None
        elif name == "v":
            self._v = value
        else:
            raise KeyError(name)

    def _set_series(self, name: str, series: Series) -> None:
        self._series = Series(self._now_ms, series.dt_ms, np.asarray(series.values, dtype=float))
        self._u = 0.0

    def _save_state(self) -> object:
        return (self._x, self._u, self._v, self._series, list(self._history))

    def _restore_state(self, state: object, t_ms: float) -> None:
        self._x, self._u, self._v, self._series, history = state  # type: ignore[misc]
        self._history = list(history)
        self._now_ms = t_ms

    # -------------------------------------------------------------- recording
    def _record(self, names: list[str], dt_ms: float) -> None:
        self._record_dt_ms = dt_ms

    def _value_at(self, t_ms: float) -> float:
        starts = [s.t0_ms for s in self._history]
        i = max(bisect.bisect_right(starts, t_ms) - 1, 0)
        seg = self._history[i]
        return self._solve(seg.x0, seg.u, t_ms - seg.t0_ms)

    def _samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        dt = getattr(self, "_record_dt_ms", self.dt_ms)
        n = round((t1_ms - t0_ms) / dt)
        times = t0_ms + dt * np.arange(n + 1)
        return Samples(t0_ms, dt, np.array([self._value_at(float(t)) for t in times]))


class StepSource(Adapter):
    """A value that jumps at known times: `values[i]` holds from `times_ms[i]` on.

    `dt_ms` is the step a lockstep strategy uses.
    """

    kind = "step-source"
    capabilities = Capabilities(native_watches=True, save_restore=True)

    def __init__(
        self,
        times_ms: Sequence[float],
        values: Sequence[float],
        *,
        initial: float = 0.0,
        unit: str = "mM",
        label: str = "",
        dt_ms: float = 0.025,
    ) -> None:
        super().__init__(label)
        self.dt_ms = dt_ms
        if len(times_ms) != len(values) or list(times_ms) != sorted(times_ms):
            raise ValueError("StepSource: times_ms must be sorted and match values")
        self.times_ms = [float(t) for t in times_ms]
        self.values = [float(v) for v in values]
        self.initial = float(initial)
        self._vars = {"value": Variable("value", unit, "output", "the stepped value")}

    def variables(self) -> Mapping[str, Variable]:
        return self._vars

    def _initialize(self, t0_ms: float) -> None:
        """Nothing to prepare: the value is a function of time."""

    def _value(self, t_ms: float) -> float:
        i = bisect.bisect_right(self.times_ms, t_ms + 1e-12)
        return self.initial if i == 0 else self.values[i - 1]

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        before = self._value(self.t_ms)
        for t in self.times_ms:
            if self.t_ms < t <= until_ms:
                after = self._value(t)
                fired = tuple(w for w in watches if w.crossed(before, after))
                if fired:
                    return Reached(t, fired)
                before = after
        return Reached(until_ms)

    def _get(self, name: str) -> float:
        return self._value(self.t_ms)

    def _set(self, name: str, value: float) -> None:
        raise KeyError(name)

    def _next_event_time(self) -> float:
        i = bisect.bisect_right(self.times_ms, self.t_ms + 1e-12)
        return self.times_ms[i] if i < len(self.times_ms) else math.inf

    def _save_state(self) -> object:
        """Nothing but the time, which the base class keeps."""
        return None

    def _restore_state(self, state: object, t_ms: float) -> None:
        """The value is a function of the restored time."""


class QueuedLinearODE(LinearODE):
    """A `LinearODE` that is an asynchronous adapter, as a worker process's proxy is.

    Advances and writes are queued and run, in order, only when something needs their
    result: a read, `samples`, `save_state` or `wait`. It takes no watches.
    """

    kind = "queued-linear-ode"
    capabilities = Capabilities(
        save_restore=True, series_input=True, records=True, asynchronous=True
    )

    def __init__(self, a_per_ms: float, b: float = 0.0, x0: float = 0.0, **kwargs: Any) -> None:
        super().__init__(a_per_ms, b, x0, **kwargs)
        self._queue: list[Callable[[], object]] = []
        self.ran = 0

    @property
    def pending(self) -> int:
        """Operations posted and not run yet."""
        return len(self._queue)

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        self._post_advance(until_ms)
        self._wait()
        return Reached(until_ms)

    def _post_advance(self, until_ms: float) -> None:
        self._queue.append(lambda: LinearODE._advance(self, until_ms, ()))

    def _wait(self) -> None:
        queue, self._queue = self._queue, []
        for operation in queue:
            operation()
            self.ran += 1

    def _get(self, name: str) -> float:
        self._wait()
        return super()._get(name)

    def _set(self, name: str, value: float) -> None:
        self._queue.append(lambda: LinearODE._set(self, name, value))

    def _set_series(self, name: str, series: Series) -> None:
        self._queue.append(lambda: LinearODE._set_series(self, name, series))

    def _samples(self, name: str, t0_ms: float, t1_ms: float) -> Samples:
        self._wait()
        return super()._samples(name, t0_ms, t1_ms)

    def _save_state(self) -> object:
        self._wait()
        return super()._save_state()

    def _restore_state(self, state: object, t_ms: float) -> None:
        self._queue.append(lambda: LinearODE._restore_state(self, state, t_ms))
