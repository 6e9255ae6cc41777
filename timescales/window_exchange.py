"""Windowed couplings at a sync: open, deliver the source's change, size the next interval,
settle and close.

A sync runs in two passes so that asynchronous targets (worker processes) integrate
together instead of in turn: `sync` posts what each window sends and its target's
advance, and returns what reads the target afterwards; the scheduler runs those reads
once every window has posted. An asynchronous target's outputs of the previous interval
are sent before its next advance is posted (they were read ahead), so they lag by one
interval.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from .adapter import Adapter, Samples, Series, Watch
from .coupling import Flux
from .outputs import Bring, Outputs
from .runstats import Journal, WindowRecord
from .strategies import Strategy
from .units import TIME_EPS_MS
from .windows import WindowState

Then = Callable[[], None]


class WindowExchanges:
    """The windowed couplings of a run, driven through their state machines."""

    def __init__(
        self,
        windows: Sequence[WindowState],
        strategy: Strategy,
        outputs: Outputs,
        journal: Journal,
        bring: Bring,
        dt_ms: float | None,
    ) -> None:
        self.windows = list(windows)
        self.records: list[WindowRecord] = journal.stats.windows
        self._strategy = strategy
        self._outputs = outputs
        self._journal = journal
        self._bring = bring
        self._dt_ms = dt_ms
        self._reading: dict[str, list[WindowState]] = {}
        for s in self.windows:
            self._reading.setdefault(s.coupling.spec.source.adapter, []).append(s)

    # ------------------------------------------------------------------ questions
    def watches(self, name: str, adapter: Adapter) -> list[Watch]:
        """Watches for the closed windows that read `adapter` (if it and the strategy watch)."""
        if not self._watched(adapter):
            return []
        return [
            Watch(
                s.coupling.spec.source.variable,
                s.coupling.level / s.coupling.read_factor,
                s.trigger.direction,
                s.coupling.index,
            )
            for s in self._reading.get(name, ())
            if not s.is_open
        ]

    def deadlines(self) -> Iterator[float]:
        """The times open windows must exchange or end at."""
        for s in self.windows:
            yield s.due_ms
            yield s.end_ms

    def open_count(self) -> int:
        return sum(s.is_open for s in self.windows)

    # ------------------------------------------------------------------ the sync
    def read_ahead(self, t_ms: float) -> None:
        """Read the outputs of asynchronous targets whose windows exchange at `t_ms`."""
        for s in self.windows:
            target = s.coupling.target
            if s.is_open and s.due(t_ms) and target.capabilities.asynchronous:
                self._outputs.read_ahead(s.coupling.spec.target.adapter)

    def sync(self, s: WindowState, t_ms: float, fired: set[int]) -> Then | None:
        """Post what window `s` sends at `t_ms`; return what reads its target afterwards."""
        if s.is_open:
            return self._exchange(s, t_ms) if s.due(t_ms) else None
        if not self._opens(s, t_ms, fired):
            return None
        self._bring(s.coupling.target, t_ms)
        return lambda: self._open(s, t_ms)

    def finish(self, t_ms: float) -> None:
        """Deliver what open windows' sources did up to `t_ms`."""
        for s in self.windows:
            if s.is_open and s.t_last_ms < t_ms - TIME_EPS_MS:
                c = s.coupling
                rec = (
                    c.source.samples(c.spec.source.variable, s.t_last_ms, t_ms)
                    if s.series
                    else None
                )
                self._deliver(s, t_ms, c.read(), rec)

    # ------------------------------------------------------------------ steps
    def _watched(self, adapter: Adapter) -> bool:
        return self._strategy.arms_watches() and adapter.capabilities.native_watches

    def _opens(self, s: WindowState, t_ms: float, fired: set[int]) -> bool:
        c = s.coupling
        hit = (c.index in fired) if self._watched(c.source) else None
        return self._strategy.window_opens(t_ms, hit, lambda: s.crossed(c.read()))

    def _open(self, s: WindowState, t_ms: float) -> None:
        """Open `s` at `t_ms` (its target already brought there)."""
        c, hold = s.coupling, s.trigger.while_open
        s.saved = tuple((name, c.target.get(name)) for name, _ in hold)
        if hold:
            c.target.set_many([n for n, _ in hold], [v for _, v in hold])
        first_ms = self._strategy.first_interval_ms(self._dt_ms)
        self.records.append(s.open(t_ms, c.read(), first_ms, self._strategy.window_end_ms(t_ms)))
        self._observe(c.spec.source.adapter, c.source)
        self._journal.note(t_ms, f"{c.label} window opened")

    def _exchange(self, s: WindowState, t_ms: float) -> Then:
        """Send what the source did since the last exchange; close if it has settled."""
        c = s.coupling
        target = c.spec.target.adapter
        pipelined = c.target.capabilities.asynchronous
        t_out = s.t_last_ms
        outputs = (
            self._outputs.send(target, self._outputs.early(target), t_out) if pipelined else None
        )
        rec = None
        if s.series and t_ms > s.t_last_ms + TIME_EPS_MS:
            rec = c.source.samples(c.spec.source.variable, s.t_last_ms, t_ms)
            t_settled = s.settled_in(rec)
            if t_settled is not None:
                value = float(np.interp(t_settled, rec.t_ms, rec.values)) * c.read_factor
                self._deliver(s, t_settled, value, rec)
                return lambda: self._close(s, t_settled, outputs)
        value = self._deliver(s, t_ms, c.read(), rec)
        if rec is None and s.settles(t_ms, value):
            return lambda: self._close(s, t_ms, outputs)
        return lambda: self._next_interval(s, t_ms, t_out if pipelined else t_ms, outputs)

    def _deliver(self, s: WindowState, t_ms: float, value: float, rec: Samples | None) -> float:
        """Send the source's change since the last exchange (`value` at t); bring target to t."""
        c = s.coupling
        span = t_ms - s.t_last_ms
        if span <= TIME_EPS_MS:
            return value
        name = c.spec.target.variable
        steps = None
        if not isinstance(c.spec.transform, Flux):
            sent = c.value(value)
            c.target.set(name, sent)
        elif rec is not None:
            steps = s.source_steps(t_ms, value, rec, self._strategy.pieces(span))
            piece_ms = span / len(steps)
            flux = steps / piece_ms * c.write_factor
            c.target.set_series(name, Series(s.t_last_ms, piece_ms, flux))
            sent = float(np.mean(flux))
        else:
            steps = np.array([value - s.c_last])
            sent = c.value(value - s.c_last, span)
            c.target.set(name, sent)
        self._bring(c.target, t_ms)
        s.exchanged(t_ms, value, steps)
        self._journal.exchanged(c.label, t_ms, sent)
        return value

    def _sent(self, s: WindowState, t_ms: float, outputs: list[float] | None) -> list[float]:
        """The target's outputs at `t_ms`: those already sent (pipelined), else pushed now."""
        if outputs is not None:
            return outputs
        return self._outputs.push(s.coupling.spec.target.adapter, t_ms)

    def _next_interval(
        self, s: WindowState, t_ms: float, t_out: float, outputs: list[float] | None
    ) -> None:
        """Size the window's next interval from how well its outputs extrapolate."""
        values = self._sent(s, t_ms, outputs)
        value = predicted = None
        if values:
            value, predicted = values[0], s.predict(t_out)
            s.add_output(t_out, value)
        s.schedule(
            t_ms, self._strategy.next_interval_ms(s.interval_ms, value, predicted, self._dt_ms)
        )

    def _close(self, s: WindowState, t_ms: float, outputs: list[float] | None) -> None:
        """Close `s` at `t_ms` once its target's outputs are sent; inputs get their values back."""
        self._sent(s, t_ms, outputs)
        c = s.coupling
        if isinstance(c.spec.transform, Flux):
            c.target.set(c.spec.target.variable, 0.0)
        if s.saved:
            c.target.set_many([n for n, _ in s.saved], [v for _, v in s.saved])
        s.close(t_ms)
        self._observe(c.spec.source.adapter, c.source)
        self._journal.note(t_ms, f"{c.label} window closed")

    def _observe(self, name: str, source: Adapter) -> None:
        """Tell a source whether an open window reads it (NEURON's quiet steps wait)."""
        source.observe(any(s.is_open for s in self._reading[name]))
