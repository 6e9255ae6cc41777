"""Records a running experiment into its HDF5 file, block by block, as syncs happen."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..results import ResultsWriter, provenance
from ..scheduler import Scheduler

#: Simulated time between two blocks appended to the results file.
BLOCK_MS = 200.0
#: The recordable variable stored as /soma_v_mV, where the cell offers it.
SOMA_V = "soma.v"


def calcium_coupling(spine: int) -> str:
    """The label of the coupling that sends a spine's calcium to its biochemistry."""
    return f"ca{spine}"


@dataclass(frozen=True)
class BiochemOutputs:
    """The biochemical side a recorder reads: instances by spine, their output variable (and
    its unit in the model) and the output's equilibrium value."""

    instances: list[Any]
    spines: list[int]
    variable: str
    unit: str
    baseline: float


class Recorder:
    """Pulls recorded NEURON samples and biochemical outputs at syncs and appends them.

    `stored` is the experiment that runs as the results file keeps it (`spec` with the run's
    overrides); `files`, the model files whose hashes go into its provenance.
    """

    def __init__(
        self,
        spec: Any,
        stored: dict[str, Any],
        neuron: Any,
        bio: BiochemOutputs,
        output: Path,
        overwrite: bool,
        files: list[Path],
    ) -> None:
        instances, spines = bio.instances, bio.spines
        self.neuron = neuron
        self.instances = instances
        self.spines = spines
        self.out_var = bio.variable
        self.baseline = bio.baseline
        self.dt_ms = spec.record.interval_ms
        self.rec_spines = spec.recorded_spines(spines)
        ports = {port.number: port for port in neuron.model.spine_ports()}
        self.weights = [ports[j].weight for j in spines]
        self.names = [ports[j].calcium for j in self.rec_spines]
        if spec.record.soma_v and SOMA_V in neuron.model.recordable():
            self.names.insert(0, SOMA_V)
        self.path = output
        self.writer = ResultsWriter(
            self.path,
            stored,
            provenance(" ".join(sys.argv), files),
            overwrite=overwrite,
            spines=self.rec_spines,
            biochem_spines=spines,
            output_unit=bio.unit,
        )
        kept = [ports[j] for j in sorted(set(spines) | set(self.rec_spines))]
        self.writer.write_cell(
            spec.cell.model,
            [p.number for p in kept],
            [p.section for p in kept],
            [p.x for p in kept],
            [p.head_volume_l for p in kept],
        )
        self.t_flushed_ms = self.next_sample_ms = neuron.t_ms
        self._bio_t: list[float] = []
        self._bio_out: list[np.ndarray] = []
        self._bio_w: list[np.ndarray] = []
        if self.names:
            neuron.record(self.names, self.dt_ms)

    def on_sync(self, t_ms: float) -> None:
        """Scheduler hook: note biochemical outputs; append a block when one is due."""
        if t_ms - self.t_flushed_ms >= BLOCK_MS - 1e-9:
            self._note_biochem(t_ms)
            self._flush(t_ms)

    def on_exchange(self, t_ms: float, coupling: str, value: float) -> None:
        """Scheduler hook: every exchange goes to /exchanges."""
        self.writer.add_exchange(t_ms, coupling, value)

    def retain(self) -> float:
        """The earliest time whose samples this recorder has not written yet."""
        return self.next_sample_ms

    def _note_biochem(self, t_ms: float) -> None:
        out = np.array([inst.get(self.out_var) for inst in self.instances])
        weights = np.array([self.neuron.get(name) for name in self.weights])
        self._bio_t.append(t_ms)
        self._bio_out.append(out)
        self._bio_w.append(weights)
        self.writer.append_biochem(t_ms, out, weights)

    def _flush(self, t_ms: float) -> None:
        """Append the regular samples recorded since the last block."""
        grid = np.arange(self.next_sample_ms, t_ms + 1e-9, self.dt_ms)
        if self.names and grid.size:
            columns = []
            for name in self.names:
                rec = self.neuron.samples(name, float(grid[0]), t_ms)
                columns.append(np.interp(grid, rec.t_ms, rec.values))
            has_soma = self.names[0] == SOMA_V
            soma = columns[0] if has_soma else np.full(grid.size, math.nan)
            calcium = np.array(columns[1:] if has_soma else columns).reshape(-1, grid.size).T
            self.writer.append_samples(grid, soma, calcium)
            self.next_sample_ms = float(grid[-1]) + self.dt_ms
        self.t_flushed_ms = t_ms

    def close(self, scheduler: Scheduler, status: str, wall_s: float) -> None:
        """Write the last block, the windows and the statistics; mark the file's status."""
        t = scheduler.t_ms
        if t > self.t_flushed_ms:
            self._note_biochem(t)
            self._flush(t)
        stats = scheduler.stats
        spine_of = {calcium_coupling(j): j for j in self.spines}
        self.writer.write_windows([asdict(w) for w in stats.windows], spine_of)
        payload = {
            "strategy": stats.strategy,
            "wall_s": wall_s,
            "scheduler_wall_s": stats.wall_s,
            "syncs": stats.syncs,
            "exchanges": stats.exchanges,
            "adapters": {k: v.as_dict() for k, v in stats.adapters.items()},
            "baseline": self.baseline,
        }
        self.writer.write_stats(json.loads(json.dumps(payload)))
        self.writer.close(status)

    def biochem_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self._bio_t), np.array(self._bio_out), np.array(self._bio_w)
