"""Is a NEURON model at rest? The largest rate of change over all of its states.

Two ways: CVode's right-hand side at the current state (no step taken), or, for models CVode
cannot run (mechanisms such as a kinetic scheme solved with `sparse` may refuse CVode), the
change of every state over one fixed step, divided by dt. The states of the second way are
v and every STATE range variable (array elements included) and ion concentration of every
segment, gathered through one PtrVector.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._neuron_watch import StderrTrap


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
