"""The scheduler: one loop that advances adapters and exchanges values between them.

Each turn of the loop asks how far the leaders may go (`horizon.max_advance_ms`: the
strategy's next sync, the adapters' known events, the open windows' deadlines), advances
the leaders there together (those carrying watches first; a watch that fires stops the
others at the same time), and syncs: windowed couplings open, exchange and close
(`window_exchange`), couplings without a window copy their value, and lazy adapters that
fell behind catch up and send their outputs (`outputs`). Strategies answer the questions
(`strategies.Strategy`); adapters keep the contract of `adapter.Adapter`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace

from .adapter import Adapter, AdapterStats
from .coupling import CompiledCoupling, Coupling, Window, compile_couplings
from .errors import ConfigError, TimescalesError
from .horizon import max_advance_ms
from .outputs import Outputs
from .roles import Role, assign_roles
from .runstats import ExchangeHook, Journal, RunStats, WindowRecord
from .strategies import Strategy
from .units import TIME_EPS_MS
from .window_exchange import WindowExchanges
from .windows import WindowState

__all__ = ["MAX_STALLS", "ProgressHook", "RunStats", "Scheduler", "WindowRecord"]

ProgressHook = Callable[[float, float, int, int], None]

#: Consecutive syncs without progress after which a run is stopped with an error.
MAX_STALLS = 100


class Scheduler:
    """Runs adapters coupled by `couplings` under a synchronization `strategy`.

    `progress(t_ms, until_ms, open_windows, exchanges)` and `on_sync(t_ms)` are called after
    every sync, `on_exchange(t_ms, coupling, value)` at every exchange, `before_finish(t_ms)`
    once the loop has reached the end, before the lazy adapters catch up; `retain()` returns
    the earliest time whose recorded samples a caller still needs (the scheduler lets
    sources forget older samples). Pickling keeps everything but the hooks (`attach` them
    again): `timescales.checkpoint` pickles a scheduler with its adapters as references.
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
        on_exchange: ExchangeHook | None = None,
        before_finish: Callable[[float], None] | None = None,
        trace: bool = False,
    ) -> None:
        self.adapters = _by_name(adapters)
        self.strategy = strategy
        self.couplings = compile_couplings(couplings, self.adapters)
        self.stats = RunStats(strategy.describe(), math.nan)
        journal = Journal(self.stats, trace)
        self._journal = journal
        self.attach(
            progress=progress,
            on_sync=on_sync,
            retain=retain,
            on_exchange=on_exchange,
            before_finish=before_finish,
        )
        windowed = [c for c in self.couplings if isinstance(c.spec.trigger, Window)]
        states = [WindowState(c, c.spec.trigger, self._series(c)) for c in windowed]
        self._roles = assign_roles(self.adapters, states)
        self.eager = [r.adapter for r in self._roles.values() if not r.lazy]
        self.lazy = [r.adapter for r in self._roles.values() if r.lazy]
        if not self.eager:
            raise ConfigError("adapters", "at least one adapter that is not a window target")
        lazy = {name for name, r in self._roles.items() if r.lazy}
        plain = [c for c in self.couplings if c not in windowed]
        self._outputs = Outputs([c for c in plain if c.spec.source.adapter in lazy], journal)
        self._dt_ms = self.eager[0].dt_ms
        self._windows = WindowExchanges(
            states, strategy, self._outputs, journal, self._bring, self._dt_ms
        )
        by_index = {s.coupling.index: s for s in states}
        self._order: list[WindowState | CompiledCoupling] = [
            by_index.get(c.index, c)
            for c in self.couplings
            if c.index in by_index or c.spec.source.adapter not in lazy
        ]
        self._recording = False

    # ----------------------------------------------------------------- public API
    def attach(
        self,
        *,
        progress: ProgressHook | None = None,
        on_sync: Callable[[float], None] | None = None,
        retain: Callable[[], float] | None = None,
        on_exchange: ExchangeHook | None = None,
        before_finish: Callable[[float], None] | None = None,
    ) -> None:
        """Set the hooks (all of them: a hook not given is removed)."""
        self.progress, self.on_sync, self._retain = progress, on_sync, retain
        self.before_finish = before_finish
        self._journal.on_exchange = on_exchange

    def __getstate__(self) -> dict[str, object]:
        hooks = ("progress", "on_sync", "_retain", "before_finish")
        return {k: None if k in hooks else v for k, v in self.__dict__.items()}

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
        return self._windows.open_count()

    def latest_outputs(self) -> Mapping[str, tuple[float, list[float]]]:
        """For each lazy adapter whose outputs were read: when, and their source values."""
        return self._outputs.latest

    def run(self, until_ms: float) -> RunStats:
        """Advance everything to `until_ms`; returns the statistics of all runs so far."""
        t = self._start(until_ms)
        start, stalls = time.perf_counter(), 0
        while t < until_ms - TIME_EPS_MS:
            horizon = self._horizon(t, until_ms)
            t_new, fired = self._advance_leaders(horizon)
            stalls = stalls + 1 if t_new <= t + TIME_EPS_MS and not fired else 0
            if stalls > MAX_STALLS:
                raise TimescalesError(
                    f"scheduler made no progress at t = {t!r} ms (horizon {horizon!r} ms): "
                    "an adapter cannot reach times this close together"
                )
            t = t_new
            self._sync(t, fired)
            if self.on_sync is not None and t < until_ms - TIME_EPS_MS:
                self.on_sync(t)
            if self.progress is not None:
                self.progress(t, until_ms, self.open_windows(), self.stats.n_exchanges)
        if self.before_finish is not None:
            self.before_finish(t)
        self._finish(t)
        if self.on_sync is not None and self.stats.syncs:
            self.on_sync(t)  # the last sync's, once the lazy adapters have caught up
        self.stats.wall_s += time.perf_counter() - start
        self.stats.t_end_ms = t
        self.stats.adapters = self._adapter_work()
        return self.stats

    # --------------------------------------------------------------- the loop
    def _start(self, until_ms: float) -> float:
        """Initialize, check `until_ms`, and start counting and recording; the time now."""
        self.initialize()
        t = self.t_ms
        if not until_ms > t - TIME_EPS_MS:
            raise ConfigError("until_ms", f"a time after the current time {t} ms", until_ms)
        if math.isnan(self.stats.t_start_ms):
            self.stats.t_start_ms = t
            for role in self._roles.values():
                role.stats_before = replace(role.adapter.stats)
        self._start_recording()
        return t

    def _horizon(self, t: float, until_ms: float) -> float:
        return max_advance_ms(
            t,
            until_ms,
            self.strategy.next_sync_ms(t, self.stats.t_start_ms, self._dt_ms),
            (a.next_event_time() for a in self.eager),
            self._windows.deadlines(),
        )

    def _advance_leaders(self, horizon: float) -> tuple[float, set[int]]:
        """Advance the leaders, those carrying watches first, to a common time.

        Inputs are held over the interval, so advancing a watching adapter first costs
        nothing; when it stops early the others only go as far as it did.
        """
        fired: set[int] = set()
        t_sync = horizon
        plans = [(a, self._windows.watches(name, a)) for name, a in self._leaders()]
        plans.sort(key=lambda plan: not plan[1])
        for a, watches in plans:
            if a.t_ms >= t_sync - TIME_EPS_MS:
                continue
            reached = a.advance(t_sync, watches)
            keys = sorted(int(w.key) for w in reached.fired)  # type: ignore[call-overload]
            fired.update(keys)
            if keys:
                t_sync = min(t_sync, reached.t_ms)
            self._journal.note(
                reached.t_ms, f"{a.label} advanced" + (f" fired {keys}" if keys else "")
            )
        return min(a.t_ms for a in self.eager), fired

    def _sync(self, t: float, fired: set[int]) -> None:
        """Exchange at `t`: every window posts its target's advance before any is read."""
        self.stats.syncs += 1
        self._windows.read_ahead(t)
        for name, role in self._idle_behind(t):
            if role.adapter.capabilities.asynchronous:
                self._outputs.read_ahead(name)
        reads = []
        for item in self._order:
            if isinstance(item, WindowState):
                reads.append(self._windows.sync(item, t, fired))
            else:
                self._outputs.exchange(item, t, self._bring)
        for then in reads:
            if then is not None:
                then()
        self._catch_up(t)
        self._forget_samples(t)

    def _catch_up(self, t: float) -> None:
        """Bring lazy adapters that fell behind to `t` and send their outputs."""
        idle = list(self._idle_behind(t))
        for name, role in idle:
            if role.adapter.capabilities.asynchronous:
                self._outputs.send(name, self._outputs.early(name), role.adapter.t_ms)
            self._bring(role.adapter, t)
        for name, role in idle:
            if not role.adapter.capabilities.asynchronous:
                self._outputs.push(name, t)
        self._outputs.end_sync()

    def _finish(self, t: float) -> None:
        """Bring the lazy adapters that took part up to `t`, delivering open windows' input."""
        self._windows.finish(t)
        for name in self._outputs.by_source:
            role = self._roles[name]
            if role.touched:
                self._bring(role.adapter, t)
                self._outputs.push(name, t)

    # ------------------------------------------------------------ bookkeeping
    def _leaders(self) -> Iterator[tuple[str, Adapter]]:
        return ((name, r.adapter) for name, r in self._roles.items() if not r.lazy)

    def _idle_behind(self, t: float) -> Iterator[tuple[str, Role]]:
        """Output sources driven before, in no open window, behind `t`."""
        for name in self._outputs.by_source:
            role = self._roles[name]
            if role.idle and role.adapter.t_ms < t - TIME_EPS_MS:
                yield name, role

    def _bring(self, adapter: Adapter, t: float) -> None:
        if adapter.t_ms < t - TIME_EPS_MS:
            adapter.post_advance(t)
            self._journal.note(t, f"{adapter.label} caught up")

    def _series(self, c: CompiledCoupling) -> bool:
        """Whether window `c`'s flux replays its source's trace (strategy and adapters allow)."""
        return (
            self.strategy.holds_series()
            and c.source.capabilities.records
            and c.target.takes_series(c.spec.target.variable)
        )

    def _start_recording(self) -> None:
        """Ask each source of a series-held flux to record the variables it feeds."""
        if self._recording:
            return
        for name, role in self._roles.items():
            if role.recorded:
                dt_ms = self._dt_ms or role.adapter.dt_ms
                if dt_ms is None:
                    raise ConfigError(f"adapters.{name}", "a step dt_ms to record at", None)
                role.adapter.record(role.recorded, dt_ms)
        self._recording = True

    def _forget_samples(self, t: float) -> None:
        """Let recording sources drop samples that no open window needs any more."""
        recording = [r for r in self._roles.values() if r.recorded]
        if not recording:
            return
        floor = t if self._retain is None else min(t, self._retain())
        for role in recording:
            oldest = floor
            for s in role.read_by:
                if s.is_open:
                    oldest = min(oldest, s.t_last_ms)
            role.adapter.forget_before(oldest)

    def _adapter_work(self) -> dict[str, AdapterStats]:
        """Adapter work during the runs of this scheduler (not before), per adapter kind."""
        per_kind: dict[str, AdapterStats] = {}
        for role in self._roles.values():
            a, before = role.adapter, role.stats_before
            done = a.stats.since(before) if before is not None else replace(a.stats)
            per_kind.setdefault(a.kind, AdapterStats()).add(done)
        return per_kind


def _by_name(adapters: Sequence[Adapter] | Mapping[str, Adapter]) -> dict[str, Adapter]:
    """Adapters by the names couplings use: the mapping's keys, else their labels."""
    if isinstance(adapters, Mapping):
        return dict(adapters)
    named = {a.label: a for a in adapters}
    if len(named) != len(adapters):
        raise ConfigError("adapters", "unique labels", [a.label for a in adapters])
    return named
