"""The scheduler: one loop that advances adapters and exchanges values between them.

Adapters that are the target of a windowed coupling (e.g. one biochemical model per
spine) are *lazy*: they advance only when one of their couplings needs them (window
open, output to refresh). All others are *eager* and advance together, electrical
first (Gauss–Seidel in the order given), from one sync point to the next. Sync points
come from the strategy (grid, schedule, window deadlines), from the adapters' known
events (`next_event_time`) and from watches that fire.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .adapter import Adapter, AdapterStats, Samples, Series, Watch
from .coupling import CompiledCoupling, Coupling, Flux, Window, compile_couplings
from .errors import ConfigError, TimescalesError
from .strategies import Strategy
from .units import TIME_EPS_MS

ProgressHook = Callable[[float, float, int], None]

#: Consecutive syncs without progress after which a run is stopped with an error.
MAX_STALLS = 100


@dataclass(slots=True)
class WindowRecord:
    """One coupled window: when it opened and closed, its exchanges, what it delivered.

    `delivered` is the net source change sent through a Flux (in the coupling's source
    unit, e.g. mM), `influx` the sum of its rising parts at the delivery resolution.
    """

    coupling: str
    open_ms: float
    close_ms: float = math.nan
    exchanges: int = 0
    delivered: float = 0.0
    influx: float = 0.0


@dataclass(slots=True)
class RunStats:
    """What a run did: syncs, exchanges per coupling, windows, adapter work and wall time."""

    strategy: str
    t_start_ms: float
    t_end_ms: float = math.nan
    wall_s: float = 0.0
    syncs: int = 0
    exchanges: dict[str, int] = field(default_factory=dict)
    windows: list[WindowRecord] = field(default_factory=list)
    adapters: dict[str, AdapterStats] = field(default_factory=dict)
    trace: list[str] = field(default_factory=list)

    @property
    def n_exchanges(self) -> int:
        return sum(self.exchanges.values())


@dataclass(slots=True)
class _State:
    """Run-time state of one coupling."""

    open: bool = False
    touched: bool = False
    t_last_ms: float = math.nan
    c_last: float = math.nan
    interval_ms: float = math.nan
    due_ms: float = math.inf
    below_since_ms: float | None = None
    close_at_ms: float = math.inf
    saved: tuple[tuple[str, float], ...] = ()
    sent: float | None = None
    record: WindowRecord | None = None


@dataclass(slots=True)
class _OutputHistory:
    """Last two exchanged output values of a window's target, for extrapolation."""

    points: list[tuple[float, float]] = field(default_factory=list)

    def error(self, t_ms: float, value: float, rtol: float, typical: float) -> float | None:
        if len(self.points) < 2:
            return None
        (t0, v0), (t1, v1) = self.points[-2:]
        predicted = v1 + (v1 - v0) * (t_ms - t1) / (t1 - t0) if t1 > t0 else v1
        return abs(value - predicted) / (rtol * (abs(value) + typical))

    def add(self, t_ms: float, value: float) -> None:
        self.points = [*self.points[-1:], (t_ms, value)]


class Scheduler:
    """Runs adapters coupled by `couplings` under a synchronization `strategy`.

    `progress(t_ms, until_ms, open_windows)` and `on_sync(t_ms)` are called after every
    sync; `retain()` returns the earliest time whose recorded samples a caller still
    needs (the scheduler lets sources forget older samples).
    """

    def __init__(
        self,
        adapters: Sequence[Adapter] | Mapping[str, Adapter],
        couplings: Sequence[Coupling],
        strategy: Strategy,
        *,
        progress: ProgressHook | None = None,
        on_sync: Callable[[float], None] | None = None,
        retain: Callable[[], float] | None = None,
        trace: bool = False,
    ) -> None:
        if isinstance(adapters, Mapping):
            self.adapters = dict(adapters)
        else:
            self.adapters = {a.label: a for a in adapters}
            if len(self.adapters) != len(adapters):
                raise ConfigError("adapters", "unique labels", [a.label for a in adapters])
        self.strategy = strategy
        self.couplings = compile_couplings(couplings, self.adapters)
        self.progress = progress
        self.on_sync = on_sync
        self._retain = retain
        self._trace = trace
        lazy = {id(c.target) for c in self.couplings if isinstance(c.spec.trigger, Window)}
        self.eager = [a for a in self.adapters.values() if id(a) not in lazy]
        self.lazy = [a for a in self.adapters.values() if id(a) in lazy]
        if not self.eager:
            raise ConfigError("adapters", "at least one adapter that is not a window target")
        self._state = [_State() for _ in self.couplings]
        self._windowed = [c for c in self.couplings if isinstance(c.spec.trigger, Window)]
        self._outputs: dict[int, list[CompiledCoupling]] = {}
        for c in self.couplings:
            if not isinstance(c.spec.trigger, Window) and id(c.source) in lazy:
                self._outputs.setdefault(id(c.source), []).append(c)
        self._output_ids = {c.index for outs in self._outputs.values() for c in outs}
        self._windows_of: dict[int, list[_State]] = {}
        self._windows_reading: dict[int, list[_State]] = {}
        for c in self._windowed:
            self._windows_of.setdefault(id(c.target), []).append(self._state[c.index])
            self._windows_reading.setdefault(id(c.source), []).append(self._state[c.index])
        self._series_by_source: dict[int, tuple[Adapter, list[str]]] = {}
        self._history: dict[int, _OutputHistory] = {}
        self._schedule = list(strategy.schedule_ms())
        self._all_scheduled = sorted(self._schedule)
        self._scheduled_now = False
        self.stats = RunStats(strategy.describe(), math.nan)
        self._dt_ms = float(self.eager[0].dt_ms)
        self._recording = False
        self._read_early: dict[int, list[float]] = {}  # pipelined: outputs read at this sync
        self._stats_before: dict[int, AdapterStats] | None = None

    # ----------------------------------------------------------------- public API
    @property
    def t_ms(self) -> float:
        return self.eager[0].t_ms

    def initialize(self, t0_ms: float = 0.0) -> None:
        """Initialize every adapter that is not initialized yet, all at `t0_ms`."""
        for a in self.adapters.values():
            if not a.initialized:
                a.initialize(t0_ms)

    def capture(self, moment: str) -> None:
        """Capture the baselines named `moment` (Ratio transforms) from current values."""
        for c in self.couplings:
            if getattr(c.spec.transform, "baseline", None) == moment:
                c.baseline = c.read()

    def open_windows(self) -> int:
        return sum(s.open for s in self._state)

    def run(self, until_ms: float) -> RunStats:
        """Advance everything to `until_ms`; returns the statistics of all runs so far."""
        self.initialize()
        t = self.t_ms
        if not until_ms > t - TIME_EPS_MS:
            raise ConfigError("until_ms", f"a time after the current time {t} ms", until_ms)
        if math.isnan(self.stats.t_start_ms):
            self.stats.t_start_ms = t
            self._stats_before = {id(a): replace(a.stats) for a in self.adapters.values()}
        self._start_recording()
        start = time.perf_counter()
        stalled = 0
        while t < until_ms - TIME_EPS_MS:
            horizon = self._horizon(t, until_ms)
            t_new, fired = self._advance_eager(horizon)
            stalled = stalled + 1 if t_new <= t + TIME_EPS_MS and not fired else 0
            if stalled > MAX_STALLS:
                raise TimescalesError(
                    f"scheduler made no progress at t = {t!r} ms (horizon {horizon!r} ms): "
                    "an adapter cannot reach times this close together"
                )
            t = t_new
            self._sync(t, fired)
            if self.progress is not None:
                self.progress(t, until_ms, self.open_windows())
        self._finish(t)
        self.stats.wall_s += time.perf_counter() - start
        self.stats.t_end_ms = t
        self._collect_stats()
        return self.stats

    # --------------------------------------------------------------- the loop
    def _horizon(self, t: float, until_ms: float) -> float:
        h = min(until_ms, t + self.strategy.max_advance_ms)
        grid = self.strategy.grid_ms(self._dt_ms)
        if grid is not None:
            # the leader's clock drifts by round-off: a time within 1e-6 of a grid step is on it
            n = math.floor((t - self.stats.t_start_ms) / grid + 1e-6) + 1
            h = min(h, self.stats.t_start_ms + n * grid)
        for a in self.eager:
            t_event = a.next_event_time()
            if t_event > t + TIME_EPS_MS:
                h = min(h, t_event)
        while self._schedule and self._schedule[0] <= t + TIME_EPS_MS:
            self._schedule.pop(0)
        if self._schedule:
            h = min(h, self._schedule[0])
        for s in self._state:
            h = min(h, s.due_ms, s.close_at_ms)
        return max(h, t + TIME_EPS_MS)

    def _watches(self, adapter: Adapter) -> list[Watch]:
        if not self.strategy.native_watches:
            return []
        out = []
        for c in self._windowed:
            if c.source is adapter and not self._state[c.index].open:
                trig = c.spec.trigger
                assert isinstance(trig, Window)
                level = c.level / c.read_factor
                out.append(Watch(c.spec.source.variable, level, trig.direction, c.index))
        return out

    def _advance_eager(self, horizon: float) -> tuple[float, set[int]]:
        """Advance the eager adapters, those carrying watches first, to a common time.

        Inputs are held over the interval, so advancing a watching adapter first costs
        nothing; when it stops early the others only go as far as it did.
        """
        fired: set[int] = set()
        t_sync = horizon
        plans = [(a, self._watches(a)) for a in self.eager]
        plans.sort(key=lambda plan: not plan[1])
        for a, watches in plans:
            if a.t_ms >= t_sync - TIME_EPS_MS:
                continue
            reached = a.advance(t_sync, watches)
            if reached.fired:
                fired.update(int(w.key) for w in reached.fired)  # type: ignore[call-overload]
                t_sync = min(t_sync, reached.t_ms)
            if self._trace:
                keys = sorted(int(w.key) for w in reached.fired)  # type: ignore[call-overload]
                why = f" fired {keys}" if keys else ""
                self.stats.trace.append(f"{reached.t_ms:g} {a.label} advanced{why}")
        return min(a.t_ms for a in self.eager), fired

    def _sync(self, t: float, fired: set[int]) -> None:
        self.stats.syncs += 1
        self._scheduled_now = any(abs(s - t) <= TIME_EPS_MS for s in self._scheduled_near(t))
        if self.strategy.pipeline:
            self._read_ahead(t)
        reads: list[Callable[[], None]] = []
        for c in self.couplings:
            trig = c.spec.trigger
            if isinstance(trig, Window):
                then = self._sync_window(c, trig, t, c.index in fired)
                if then is not None:
                    reads.append(then)
            elif c.index not in self._output_ids:
                self._exchange_plain(c, t)
        for then in reads:
            then()
        idle = list(self._idle_behind(t))
        for source_id, source in idle:
            if self.strategy.pipeline:
                self._send_outputs(source_id, self._early(source_id), source.t_ms)
            self._bring(source, t)
        if not self.strategy.pipeline:
            for source_id, _ in idle:
                self._push_outputs(source_id, t)
        self._read_early.clear()
        self._forget_samples(t)
        if self.on_sync is not None:
            self.on_sync(t)

    def _read_ahead(self, t: float) -> None:
        """Pipelined: read every output this sync sends before any advance is posted.

        An asynchronous target (a worker process) runs its operations in order, so a read
        issued after another target's fresh advance on the same worker waits for it; read
        first, the outputs of the previous interval are ready and the advances overlap.
        """
        for c in self._windowed:
            state = self._state[c.index]
            if state.open and self._due(state, t):
                self._read_early.setdefault(id(c.target), self._read_outputs(id(c.target)))
        for source_id, _ in self._idle_behind(t):
            self._read_early.setdefault(source_id, self._read_outputs(source_id))

    def _idle_behind(self, t: float) -> Iterator[tuple[int, Adapter]]:
        """(id, adapter) of the output sources driven before, in no open window, behind t."""
        for source_id, outs in self._outputs.items():
            source = outs[0].source
            if self._idle_but_touched(source) and source.t_ms < t - TIME_EPS_MS:
                yield source_id, source

    def _early(self, source_id: int) -> list[float]:
        """The outputs `_read_ahead` read at this sync (read now if it had none)."""
        values = self._read_early.pop(source_id, None)
        return self._read_outputs(source_id) if values is None else values

    @staticmethod
    def _due(state: _State, t: float) -> bool:
        return t >= state.due_ms - TIME_EPS_MS or t >= state.close_at_ms - TIME_EPS_MS

    # --------------------------------------------------------------- exchanges
    def _bring(self, adapter: Adapter, t: float) -> None:
        if adapter.t_ms < t - TIME_EPS_MS:
            adapter.advance(t)
            if self._trace:
                self.stats.trace.append(f"{t:g} {adapter.label} caught up")

    def _touched(self, adapter: Adapter) -> bool:
        return any(s.touched for s in self._windows_of.get(id(adapter), ()))

    def _idle_but_touched(self, adapter: Adapter) -> bool:
        """Driven before but in no open window now: its outputs are refreshed at each sync."""
        states = self._windows_of.get(id(adapter), ())
        return any(s.touched for s in states) and not any(s.open for s in states)

    def _count(self, c: CompiledCoupling) -> None:
        self.stats.exchanges[c.label] = self.stats.exchanges.get(c.label, 0) + 1

    def _exchange_plain(self, c: CompiledCoupling, t: float) -> None:
        """A coupling without a window: exchange at every sync (dead band permitting)."""
        self._bring(c.source, t)
        value = c.value(c.read())
        state = self._state[c.index]
        trig = c.spec.trigger
        if trig is not None and not trig.moved(value, state.sent):
            return
        self._bring(c.target, t)
        c.target.set(c.spec.target.variable, value)
        state.sent = value
        self._count(c)
        if self._trace:
            self.stats.trace.append(f"{t:g} {c.label} exchanged")

    def _push_outputs(self, source_id: int, t: float) -> list[float]:
        """Send the outputs of a lazy adapter that just reached `t` (dead bands apply)."""
        return self._send_outputs(source_id, self._read_outputs(source_id), t)

    def _read_outputs(self, source_id: int) -> list[float]:
        return [c.value(c.read()) for c in self._outputs.get(source_id, [])]

    def _send_outputs(self, source_id: int, values: list[float], t: float) -> list[float]:
        """Send a lazy adapter's output `values`, read when it was at `t` (dead bands apply)."""
        for c, value in zip(self._outputs.get(source_id, []), values, strict=True):
            state = self._state[c.index]
            trig = c.spec.trigger
            if trig is None or trig.moved(value, state.sent):
                c.target.set(c.spec.target.variable, value)
                state.sent = value
                self._count(c)
                if self._trace:
                    self.stats.trace.append(f"{t:g} {c.label} pushed")
        return values

    def _sync_window(
        self, c: CompiledCoupling, trig: Window, t: float, fired: bool
    ) -> Callable[[], None] | None:
        """Post what the window sends at `t`; return what reads the target afterwards.

        The reads run once every window of the sync has posted its target's advance, so
        asynchronous targets (worker processes) integrate together instead of in turn.
        """
        state = self._state[c.index]
        if not state.open:
            if self._opens(c, trig, t, fired):
                self._bring(c.target, t)
                return lambda: self._open(c, trig, t)
            return None
        if not self._due(state, t):
            return None
        pipelined = self.strategy.pipeline
        t_out = state.t_last_ms
        outputs: list[float] | None = None
        if pipelined:
            outputs = self._send_outputs(id(c.target), self._early(id(c.target)), t_out)
        rec = None
        if self._use_series(c) and t > state.t_last_ms + TIME_EPS_MS:
            rec = c.source.samples(c.spec.source.variable, state.t_last_ms, t)
            t_settled = self._settled_in(c, trig, state, rec)
            if t_settled is not None:
                value = float(np.interp(t_settled, rec.t_ms, rec.values)) * c.read_factor
                self._deliver(c, state, t_settled, value, rec)
                return lambda: self._closing(c, trig, t_settled, outputs)
        value = self._deliver(c, state, t, c.read(), rec)
        if rec is None and self._closes(c, trig, state, t, value):
            return lambda: self._closing(c, trig, t, outputs)
        return lambda: self._next_interval(c, t, t_out if pipelined else t, outputs)

    def _sent(self, c: CompiledCoupling, t: float, outputs: list[float] | None) -> list[float]:
        """The target's outputs at `t`: those already sent (pipelined), else pushed now."""
        return outputs if outputs is not None else self._push_outputs(id(c.target), t)

    def _closing(
        self, c: CompiledCoupling, trig: Window, t: float, outputs: list[float] | None
    ) -> None:
        """Close the window at `t` once the target's outputs are sent."""
        self._sent(c, t, outputs)
        self._close(c, trig, t)

    def _next_interval(
        self, c: CompiledCoupling, t: float, t_out: float, outputs: list[float] | None
    ) -> None:
        """Size the window's next interval from the error of its outputs."""
        state = self._state[c.index]
        error = self._output_error(c, t_out, self._sent(c, t, outputs))
        state.interval_ms = self.strategy.next_interval_ms(state.interval_ms, error, self._dt_ms)
        state.due_ms = t + state.interval_ms

    def _settled_in(
        self, c: CompiledCoupling, trig: Window, state: _State, rec: Samples
    ) -> float | None:
        """First recorded time in (t_last, t] at which the window's close rule holds."""
        times = rec.t_ms
        values = rec.values * c.read_factor
        fresh = times > state.t_last_ms + TIME_EPS_MS
        rising = trig.direction == "rising"
        inside = values >= c.close_level if rising else values <= c.close_level
        for t_i, inside_i in zip(times[fresh], inside[fresh], strict=True):
            if inside_i:
                state.below_since_ms = None
            elif state.below_since_ms is None:
                state.below_since_ms = float(t_i)
            if not inside_i and t_i - state.below_since_ms >= trig.settle_ms - TIME_EPS_MS:
                return float(t_i)
        return None

    def _opens(self, c: CompiledCoupling, trig: Window, t: float, fired: bool) -> bool:
        if self._scheduled_now:
            return True
        if self.strategy.schedule_ms() or self.strategy.native_watches:
            return fired
        value = c.read()
        return value >= c.level if trig.direction == "rising" else value <= c.level

    def _scheduled_near(self, t: float) -> list[float]:
        """The scheduled opening times next to `t` (the schedule is sorted)."""
        times = self._all_scheduled
        i = bisect.bisect_left(times, t - TIME_EPS_MS)
        return times[i : i + 1]

    def _open(self, c: CompiledCoupling, trig: Window, t: float) -> None:
        """Open the window at `t` (its target already brought there)."""
        state = self._state[c.index]
        state.saved = tuple((name, c.target.get(name)) for name, _ in trig.while_open)
        if trig.while_open:
            names = [n for n, _ in trig.while_open]
            c.target.set_many(names, [v for _, v in trig.while_open])
        state.open = state.touched = True
        self._mark_exchanging(c.source)
        state.t_last_ms = t
        state.c_last = c.read()
        state.interval_ms = self.strategy.first_interval_ms(self._dt_ms)
        state.due_ms = t + state.interval_ms
        length = self.strategy.window_length_ms()
        state.close_at_ms = t + length if length is not None else math.inf
        state.below_since_ms = None
        state.record = WindowRecord(c.label, t)
        self.stats.windows.append(state.record)
        self._history[c.index] = _OutputHistory()
        if self._trace:
            self.stats.trace.append(f"{t:g} {c.label} window opened")

    def _close(self, c: CompiledCoupling, trig: Window, t: float) -> None:
        state = self._state[c.index]
        if isinstance(c.spec.transform, Flux):
            c.target.set(c.spec.target.variable, 0.0)
        if state.saved:
            c.target.set_many([n for n, _ in state.saved], [v for _, v in state.saved])
        state.open = False
        self._mark_exchanging(c.source)
        state.due_ms = state.close_at_ms = math.inf
        if state.record is not None:
            state.record.close_ms = t
        if self._trace:
            self.stats.trace.append(f"{t:g} {c.label} window closed")

    def _mark_exchanging(self, source: Adapter) -> None:
        """Tell a source whether a window reads it (NeuronAdapter's quiet steps wait)."""
        source.observe(any(s.open for s in self._windows_reading[id(source)]))

    def _closes(
        self, c: CompiledCoupling, trig: Window, state: _State, t: float, value: float
    ) -> bool:
        if state.close_at_ms < math.inf:
            return t >= state.close_at_ms - TIME_EPS_MS
        inside = value >= c.close_level if trig.direction == "rising" else value <= c.close_level
        if inside:
            state.below_since_ms = None
            return False
        if state.below_since_ms is None:
            state.below_since_ms = t
        return t - state.below_since_ms >= trig.settle_ms - TIME_EPS_MS

    def _deliver(
        self, c: CompiledCoupling, state: _State, t: float, value: float, rec: Samples | None
    ) -> float:
        """Send the source's change since the last exchange (`value` at t); bring target to t."""
        span = t - state.t_last_ms
        if span <= TIME_EPS_MS:
            return value
        target_var = c.spec.target.variable
        if isinstance(c.spec.transform, Flux):
            if rec is not None:
                steps = self._source_steps(state, t, value, rec, c.read_factor)
                piece_ms = span / len(steps)
                flux = steps / piece_ms * c.write_factor
                c.target.set_series(target_var, Series(state.t_last_ms, piece_ms, flux))
            else:
                steps = np.array([value - state.c_last])
                c.target.set(target_var, c.value(value - state.c_last, span))
            if state.record is not None:
                state.record.delivered += float(steps.sum())
                state.record.influx += float(steps[steps > 0].sum())
        else:
            c.target.set(target_var, c.value(value))
        self._bring(c.target, t)
        state.t_last_ms, state.c_last = t, value
        self._count(c)
        if state.record is not None:
            state.record.exchanges += 1
        if self._trace:
            self.stats.trace.append(f"{t:g} {c.label} exchanged")
        return value

    def _use_series(self, c: CompiledCoupling) -> bool:
        return (
            self.strategy.hold == "series"
            and c.source.capabilities.records
            and c.target.capabilities.series_input
        )

    def _source_steps(
        self, state: _State, t: float, value: float, rec: Samples, read_factor: float
    ) -> np.ndarray:
        """Source changes over equal pieces of [t_last, t] (at the strategy's resolution).

        The pieces add up to exactly `value - c_last`, so a flux built from them delivers
        the amount that the source gained, whatever the resolution.
        """
        n = max(1, round((t - state.t_last_ms) / self.strategy.resolution_ms))
        grid = np.linspace(state.t_last_ms, t, n + 1)
        conc = np.interp(grid, rec.t_ms, rec.values) * read_factor
        conc[0], conc[-1] = state.c_last, value
        return np.diff(conc)

    def _output_error(self, c: CompiledCoupling, t: float, outputs: list[float]) -> float | None:
        if not outputs:
            return None
        history = self._history[c.index]
        rtol = getattr(self.strategy, "rtol", 1e-3)
        error = history.error(t, outputs[0], rtol, typical=abs(outputs[0]) or 1.0)
        history.add(t, outputs[0])
        return error

    # ------------------------------------------------------------ bookkeeping
    def _start_recording(self) -> None:
        """Ask each source of a series-held flux to record the variables it feeds."""
        if self._recording:
            return
        for c in self._windowed:
            if self._use_series(c):
                entry = self._series_by_source.setdefault(id(c.source), (c.source, []))
                if c.spec.source.variable not in entry[1]:
                    entry[1].append(c.spec.source.variable)
        for source, names in self._series_by_source.values():
            source.record(names, self._dt_ms)
        self._recording = True

    def _forget_samples(self, t: float) -> None:
        """Let recording sources drop samples that no open window needs any more."""
        if not self._series_by_source:
            return
        floor = t if self._retain is None else min(t, self._retain())
        oldest = dict.fromkeys(self._series_by_source, floor)
        for c in self._windowed:
            state = self._state[c.index]
            key = id(c.source)
            if state.open and key in oldest:
                oldest[key] = min(oldest[key], state.t_last_ms)
        for key, (source, _) in self._series_by_source.items():
            source.forget_before(oldest[key])

    def _finish(self, t: float) -> None:
        """Bring the lazy adapters that took part up to `t`, delivering open windows' input."""
        for c in self._windowed:
            state = self._state[c.index]
            if state.open and state.t_last_ms < t - TIME_EPS_MS:
                rec = None
                if self._use_series(c):
                    rec = c.source.samples(c.spec.source.variable, state.t_last_ms, t)
                self._deliver(c, state, t, c.read(), rec)
        for source_id, outs in self._outputs.items():
            source = outs[0].source
            if self._touched(source):
                self._bring(source, t)
                self._push_outputs(source_id, t)

    def _collect_stats(self) -> None:
        """Adapter work during the runs of this scheduler (not before), per adapter kind."""
        per_kind: dict[str, AdapterStats] = {}
        before = self._stats_before or {}
        for a in self.adapters.values():
            done = a.stats.since(before[id(a)]) if id(a) in before else replace(a.stats)
            per_kind.setdefault(a.kind, AdapterStats()).add(done)
        self.stats.adapters = per_kind
