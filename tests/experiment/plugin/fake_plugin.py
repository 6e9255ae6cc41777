"""A third party's cell and simulator, registered through entry points (see test_plugins.py).

The cell has two spines whose head calcium jumps by `PULSE_MM` at each input and relaxes
to rest with `TAU_MS`; the simulator solves that in closed form.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from timescales import Adapter, Capabilities, Reached, Variable, Watch
from timescales.cell import SpinePort

REST_MM = 1e-4
PULSE_MM = 2e-3
TAU_MS = 20.0
HEAD_L = 1e-16


class PulseCell:
    """Two spines; inputs make calcium pulses (the cell protocol of timescales.cell)."""

    def __init__(self) -> None:
        self.inputs: dict[int, list[float]] = {1: [], 2: []}
        self.weights = {1: 1.0, 2: 1.0}

    def spine_ports(self) -> list[SpinePort]:
        return [
            SpinePort(n, f"spine{n}.ca", f"spine{n}.weight", HEAD_L, "dend", 0.5, ("syn",))
            for n in self.inputs
        ]

    def stimulate(
        self, spines: Iterable[int], times_ms: Iterable[float], synapses: Iterable[str]
    ) -> None:
        times = list(times_ms)
        for n in spines:
            self.inputs[n] = sorted(set(self.inputs[n]) | set(times))

    def next_input_ms(self, t_ms: float) -> float:
        later = [t for ts in self.inputs.values() for t in ts if t > t_ms + 1e-9]
        return min(later, default=math.inf)

    def recordable(self) -> dict[str, str]:
        return {}

    def calcium(self, n: int, t_ms: float) -> float:
        arrived = self.inputs[n][: bisect.bisect_right(self.inputs[n], t_ms + 1e-9)]
        return REST_MM + sum(PULSE_MM * math.exp(-(t_ms - t) / TAU_MS) for t in arrived)


class PulseCellType:
    default_spines = None

    def spine_numbers(self, options: Mapping[str, Any], base_dir: Path) -> tuple[int, ...]:
        return (1, 2)

    def synapse_kinds(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return ("syn",)

    def problems(self, options: Mapping[str, Any], base_dir: Path) -> list[tuple[str, str, Any]]:
        return []

    def build(self, options: Mapping[str, Any], base_dir: Path) -> PulseCell:
        return PulseCell()


PULSE_CELL = PulseCellType()


class PulseSimulator(Adapter):
    """Runs a PulseCell exactly: watches fire at the input that lifts calcium over a level."""

    kind = "pulse"
    capabilities = Capabilities(native_watches=True)

    def __init__(self, cell: PulseCell, dt_ms: float) -> None:
        super().__init__("neuron")
        self.model = cell
        self.dt_ms = dt_ms
        self._vars = {}
        for port in cell.spine_ports():
            self._vars[port.calcium] = Variable(port.calcium, "mM", "output")
            self._vars[port.weight] = Variable(port.weight, "1", "parameter")

    @classmethod
    def for_cell(cls, build: Callable[[], PulseCell], options: Mapping[str, Any]) -> PulseSimulator:
        return cls(build(), options["dt_ms"])

    def variables(self) -> Mapping[str, Variable]:
        return self._vars

    def _initialize(self, t0_ms: float) -> None:
        pass

    def _advance(self, until_ms: float, watches: tuple[Watch, ...]) -> Reached:
        for t_in in sorted({t for ts in self.model.inputs.values() for t in ts}):
            if not self.t_ms < t_in <= until_ms:
                continue
            fired = tuple(w for w in watches if self._crosses(w, t_in))
            if fired:
                return Reached(t_in, fired)
        return Reached(until_ms)

    def _crosses(self, w: Watch, t_ms: float) -> bool:
        n = int(w.variable[len("spine") :].split(".")[0])
        return self.model.calcium(n, t_ms - 1e-6) < w.level <= self.model.calcium(n, t_ms)

    def _get(self, name: str) -> float:
        n = int(name[len("spine") :].split(".")[0])
        if name.endswith(".ca"):
            return self.model.calcium(n, self.t_ms)
        return self.model.weights[n]

    def _set(self, name: str, value: float) -> None:
        self.model.weights[int(name[len("spine") :].split(".")[0])] = value

    def _next_event_time(self) -> float:
        return self.model.next_input_ms(self.t_ms)
