"""Quiet periods of a NEURON model: is it at rest, jumping over rest, longer steps meanwhile.

`RestProbe` finds the largest rate of change over all of a model's states, in one of two
ways: CVode's right-hand side at the current state (no step taken), or, for models CVode
cannot run (mechanisms such as a kinetic scheme solved with `sparse` may refuse CVode), the
change of every state over one fixed step, divided by dt. The states of the second way are
v and every STATE range variable (array elements included) and ion concentration of every
segment, gathered through one PtrVector.

`RestJump` decides when NeuronAdapter sets NEURON's clock forward over a stretch at rest and
counts the jumps; `QuietSteps` decides when it integrates with its longer quiet step and
counts that time. The criteria are in NeuronAdapter's module docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._neuron_watch import Armed, StderrTrap

#: Fraction of a step below which a remainder counts as zero.
STEP_TOL = 1e-6


class RestProbe:
    """Rates of change of a model's states, in each state's unit per ms."""

    def __init__(self, h: Any, trap: StderrTrap, try_cvode: bool = True) -> None:
        self._h = h
        self._trap = trap
        # None: not tried yet; False: CVode refused the model (or was not to be tried).
        self.cvode_usable: bool | None = None if try_cvode else False
        self._state_sizes: dict[str, list[tuple[str, int]]] = {}
        self._pointers: Any = None
        self._gather: Any = None
        self._buffer: Any = None

    def cvode_rate_per_ms(self, dt_ms: float) -> float | None:
        """max |dy/dt| from CVode's right-hand side, or None when CVode cannot run the model."""
        if self.cvode_usable is False:
            return None
        h = self._h
        try:
            with self._trap.capture():
                h.cvode.active(1)
                h.cvode.re_init()
        except RuntimeError:
            h.cvode.active(0)
            h.dt = dt_ms
            self.cvode_usable = False
            return None
        self.cvode_usable = True
        y, ydot = h.Vector(), h.Vector()
        h.cvode.states(y)
        h.cvode.f(h.t, y, ydot)
        h.cvode.active(0)
        h.dt = dt_ms
        rates = ydot.as_numpy()
        return float(np.max(np.abs(rates))) if len(rates) else 0.0

    def states(self) -> np.ndarray:
        """Every state of every segment now (the PtrVector is built on first use)."""
        if self._pointers is None:
            self._build()
        self._gather(self._buffer)
        return self._buffer.as_numpy().copy()

    def forget(self) -> None:
        """Drop the pointers (the model's structure changed or the adapter closes)."""
        self._pointers = self._gather = self._buffer = None

    def _build(self) -> None:
        refs = [ref for sec in self._h.allsec() for seg in sec for ref in self._segment(seg)]
        self._pointers = self._h.PtrVector(max(1, len(refs)))
        for i, ref in enumerate(refs):
            self._pointers.pset(i, ref)
        self._buffer = self._h.Vector(max(1, len(refs)))
        self._gather = self._pointers.gather

    def _segment(self, seg: Any) -> list[Any]:
        refs = [seg._ref_v]
        for mech in seg:
            name = mech.name()
            if mech.is_ion():
                ion = name.removesuffix("_ion")
                refs += [getattr(seg, f"_ref_{ion}{side}") for side in ("i", "o")]
                continue
            for var, size in self._states_of(name):
                ref = getattr(seg, f"_ref_{var}")
                refs += [ref] if size == 1 else [ref[k] for k in range(size)]
        return refs

    def _states_of(self, mech: str) -> list[tuple[str, int]]:
        if mech not in self._state_sizes:
            standard = self._h.MechanismStandard(mech, 3)
            text = self._h.ref("")
            sizes = []
            for i in range(int(standard.count())):
                size = int(standard.name(text, i))
                sizes.append((str(text[0]), size))
            self._state_sizes[mech] = sizes
        return self._state_sizes[mech]


class RestJump:
    """When to set NEURON's clock forward over a stretch at rest, and how far it went.

    A stretch is worth checking when it spans at least `min_ms` of whole regular steps
    before the next input. A check that finds a rate above `tol_per_ms` is repeated after
    `min_ms` of model time, then after twice as long each time it fails again, up to
    `max_wait_ms`: a cell relaxing towards rest after its last input is caught a few
    checks after it gets there, at the cost of a few trial steps per stretch.
    """

    def __init__(
        self, h: Any, dt_ms: float, tol_per_ms: float, min_ms: float, max_wait_ms: float
    ) -> None:
        self._h = h
        self.dt_ms = dt_ms
        self.tol_per_ms = tol_per_ms
        self.min_ms = min_ms
        self.max_wait_ms = max(min_ms, max_wait_ms)
        self.n_jumps = 0
        self.n_checks = 0
        self.jumped_ms = 0.0
        self._no_check_before_ms = -math.inf
        self._wait_ms = min_ms

    @property
    def next_check_ms(self) -> float:
        """Model time before which no check is made."""
        return self._no_check_before_ms

    def recheck(self) -> None:
        """The model changed: the next advance may check for rest again."""
        self._no_check_before_ms = -math.inf
        self._wait_ms = self.min_ms

    def bookkeeping(self) -> tuple[int, int, float, float, float]:
        """What a checkpoint keeps: jumps and checks so far, the jumps' span, when to check
        next and the wait after the next failed check."""
        return (
            self.n_jumps,
            self.n_checks,
            self.jumped_ms,
            self._no_check_before_ms,
            self._wait_ms,
        )

    def resume(self, saved: tuple[int, int, float, float, float]) -> None:
        (
            self.n_jumps,
            self.n_checks,
            self.jumped_ms,
            self._no_check_before_ms,
            self._wait_ms,
        ) = saved

    def steps(self, until_ms: float, next_input_ms: Callable[[], float]) -> int:
        """Regular steps from now a jump may cover, ending one step before the next input
        (0: no stretch worth checking now)."""
        t = float(self._h.t)
        if t < self._no_check_before_ms or until_ms - t < self.min_ms:
            return 0
        span = min(until_ms, next_input_ms() - self.dt_ms) - t
        n = max(0, math.floor(span / self.dt_ms + STEP_TOL))
        return n if n * self.dt_ms >= self.min_ms else 0

    def near_a_level(self, armed: Sequence[Armed]) -> bool:
        """Whether a watched variable is closer to its level than the shortest jump may
        drift at the tolerated rate (then no check is worth making)."""
        drift = self.tol_per_ms * self.min_ms
        return any(abs(a.entry.get() - a.watch.level) <= drift for a in armed)

    def jump(self, t_ms: float, n: int, rate_per_ms: float, armed: Sequence[Armed]) -> None:
        """Set the clock forward from `t_ms` by up to `n` steps if `rate_per_ms` (max |dy/dt|
        now) is within the tolerance: as far as no watched variable could reach its level
        drifting at that rate. Otherwise wait before the next check (doubling the wait)."""
        self.n_checks += 1
        if rate_per_ms > 0.0:
            for a in armed:
                clear_ms = abs(a.entry.get() - a.watch.level) / rate_per_ms
                n = min(n, math.floor(clear_ms / self.dt_ms))
        if rate_per_ms > self.tol_per_ms or n * self.dt_ms < self.min_ms:
            self._no_check_before_ms = float(self._h.t) + self._wait_ms
            self._wait_ms = min(2.0 * self._wait_ms, self.max_wait_ms)
            return
        self._wait_ms = self.min_ms
        span = t_ms + n * self.dt_ms - float(self._h.t)
        self._h.t = t_ms + n * self.dt_ms
        self.n_jumps += 1
        self.jumped_ms += span


class Segment(NamedTuple):
    """A run of steps: where it ends, its step, and whether that is the quiet step."""

    end_ms: float
    step_ms: float
    quiet: bool


class QuietSteps:
    """When to integrate with the longer quiet step, and for how long it ran (`coarse_ms`).

    Quiet steps need no open window reading the model, `after_ms` since the last input or
    change from outside, and end one regular step before the next input.
    """

    def __init__(self, dt_ms: float, quiet_dt_ms: float, after_ms: float) -> None:
        self.dt_ms = dt_ms
        self.quiet_dt_ms = quiet_dt_ms
        self.after_ms = after_ms
        self.coarse_ms = 0.0
        self._from_ms = math.inf
        self._input_seen_ms = math.inf

    def restart(self, t_ms: float) -> None:
        """The model was set up or changed at `t_ms`: quiet steps wait `after_ms` from there."""
        self._from_ms = t_ms + self.after_ms

    def segment(self, t_ms: float, until_ms: float, input_ms: float, observed: bool) -> Segment:
        """The next run of steps from `t_ms` towards `until_ms`, the next input being at
        `input_ms`; regular steps run until the quiet step may start again (past the next
        input when one comes first)."""
        self._input_seen_ms = input_ms
        if observed:
            return Segment(until_ms, self.dt_ms, False)
        quiet = t_ms >= self._from_ms - STEP_TOL * self.dt_ms
        if quiet:
            end = min(until_ms, input_ms - self.dt_ms)
            n = math.floor((end - t_ms) / self.quiet_dt_ms + STEP_TOL)
            if n >= 1:
                return Segment(t_ms + n * self.quiet_dt_ms, self.quiet_dt_ms, True)
        resume = input_ms + self.after_ms if quiet else self._from_ms
        return Segment(min(until_ms, max(resume, t_ms + self.dt_ms)), self.dt_ms, False)

    def ran(
        self,
        segment: Segment,
        t0_ms: float,
        t1_ms: float,
        next_input: Callable[[float], float] | None,
    ) -> None:
        """Account for `segment`, run from `t0_ms` to `t1_ms`: quiet steps count in
        `coarse_ms`; after regular ones, quiet steps wait for `after_ms` after the inputs that
        arrived in (t0, t1] (walked with the model's `next_input`; without it the end of the
        run counts as the last input when one was due)."""
        if segment.quiet:
            self.coarse_ms += t1_ms - t0_ms
            return
        last = None
        if next_input is not None:
            x = float(next_input(t0_ms))
            while x <= t1_ms + 1e-9:
                last, x = x, float(next_input(x))
        elif self._input_seen_ms <= t1_ms:
            last = t1_ms
        if last is not None:
            self._from_ms = max(self._from_ms, last + self.after_ms)
