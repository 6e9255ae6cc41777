"""Records a running experiment into its HDF5 file as syncs happen.

At every sync: a /biochem row (each spine's output as the scheduler last read it, and the
weights in the cell) and, every `record.biochem_interval_ms`, the model variables
`record.biochem` names; every BLOCK_MS: the regular samples of the cell since the last
block. Every exchange goes to /exchanges as it happens.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..results import ResultsWriter, ending_status, provenance
from ..scheduler import Scheduler

#: Simulated time between two blocks of regular samples appended to the results file.
BLOCK_MS = 200.0
#: The recordable variable stored as /soma_v_mV, where the cell offers it.
SOMA_V = "soma.v"

Latest = Callable[[], Mapping[str, tuple[float, list[float]]]]


def calcium_coupling(spine: int) -> str:
    """The label of the coupling that sends a spine's calcium to its biochemistry."""
    return f"ca{spine}"


def weight_coupling(spine: int) -> str:
    """The label of the coupling that sends a spine's biochemical output to its weight."""
    return f"w{spine}"


def instance_label(spine: int) -> str:
    """The label of a spine's biochemical instance."""
    return f"spine{spine}"


@dataclass(frozen=True)
class BiochemOutputs:
    """The biochemical side a recorder reads: instances by spine, their output variable (and
    its unit in the model), the output's equilibrium value, and the variables to record
    (name as the experiment gives it -> (model variable, unit))."""

    instances: list[Any]
    spines: list[int]
    variable: str
    unit: str
    baseline: float
    recorded: dict[str, tuple[str, str]] = field(default_factory=dict)


class Recorder:
    """Pulls recorded cell samples and biochemical outputs at syncs and appends them.

    `stored` is the experiment that runs as the results file keeps it (`spec` with the run's
    overrides); `files`, the model files whose hashes go into its provenance. `latest` (set
    once the scheduler exists) gives the outputs the scheduler last read.
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
        self._setup(spec, neuron, bio, output)
        self.writer = ResultsWriter(
            self.path,
            stored,
            provenance(" ".join(sys.argv), files),
            overwrite=overwrite,
            spines=self.rec_spines,
            biochem_spines=bio.spines,
            output_unit=bio.unit,
        )
        try:
            self._start(spec, neuron, bio)
        except BaseException as exc:
            self.writer.close(ending_status(exc))
            raise

    def _start(self, spec: Any, neuron: Any, bio: BiochemOutputs) -> None:
        """Describe the cell and the recorded variables in the new file; start recording."""
        ports = {port.number: port for port in neuron.model.spine_ports()}
        kept = [ports[j] for j in sorted(set(bio.spines) | set(self.rec_spines))]
        self.writer.write_cell(
            spec.cell.model,
            [p.number for p in kept],
            [p.section for p in kept],
            [p.x for p in kept],
            [p.head_volume_l for p in kept],
        )
        self.writer.record_samples({n: neuron.variable(n).unit for n in self.cell_names})
        self.writer.record_biochem({name: unit for name, (_, unit) in bio.recorded.items()})
        self.t_flushed_ms = self.next_sample_ms = neuron.t_ms
        self._next_biochem_ms = neuron.t_ms
        if self.names or self.cell_names:
            # At every step of the cell: a checkpoint restarts NEURON's recording at a sync,
            # and every sync lies on the step grid, so the samples stay where they were.
            neuron.record(self.names + self.cell_names, neuron.dt_ms or self.dt_ms)

    @classmethod
    def resume(
        cls, spec: Any, neuron: Any, bio: BiochemOutputs, output: Path, state: dict[str, Any]
    ) -> Recorder:
        """Go on recording into `output` from a `checkpoint_state()`: rows written after it
        are dropped (the cell's recordings come back with its adapter's checkpoint)."""
        self = cls.__new__(cls)
        self._setup(spec, neuron, bio, output)
        self.t_flushed_ms, self.next_sample_ms = state["t_flushed_ms"], state["next_sample_ms"]
        self._next_biochem_ms = state["next_biochem_ms"]
        self._bio_t, self._bio_out, self._bio_w = state["biochem"]
        self._windows_written = set(state["windows_written"])
        self.writer = ResultsWriter.reopen(output, state["rows"])  # last: nothing after it fails
        return self

    def _setup(self, spec: Any, neuron: Any, bio: BiochemOutputs, output: Path) -> None:
        """What to record, as the experiment asks and the cell names it."""
        self.neuron = neuron
        self.bio = bio
        self.dt_ms = spec.record.interval_ms
        self.biochem_interval_ms = spec.record.biochem_interval_ms
        self.rec_spines = spec.recorded_spines(bio.spines)
        ports = {port.number: port for port in neuron.model.spine_ports()}
        self.weights = [ports[j].weight for j in bio.spines]
        self.names = [ports[j].calcium for j in self.rec_spines]
        if spec.record.soma_v and SOMA_V in neuron.model.recordable():
            self.names.insert(0, SOMA_V)
        self.cell_names = list(spec.record.cell)
        self.path = output
        self.latest: Latest = dict
        self.scheduler: Scheduler | None = None
        self.wall0 = time.perf_counter()
        self._bio_t: list[float] = []
        self._bio_out: list[np.ndarray] = []
        self._bio_w: list[np.ndarray] = []
        self._windows_written: set[int] = set()

    def checkpoint_state(self) -> dict[str, Any]:
        """Where the recording stands: the file's rows (flushed, with the statistics so
        far) and what is due next."""
        self._write_stats(time.perf_counter() - self.wall0)
        return {
            "rows": self.writer.rows(),
            "t_flushed_ms": self.t_flushed_ms,
            "next_sample_ms": self.next_sample_ms,
            "next_biochem_ms": self._next_biochem_ms,
            "biochem": (list(self._bio_t), list(self._bio_out), list(self._bio_w)),
            "windows_written": sorted(self._windows_written),
        }

    def on_sync(self, t_ms: float) -> None:
        """Scheduler hook: a /biochem row and the windows closed since the last sync; a
        block of samples and the statistics so far when one is due."""
        self._note_biochem(t_ms)
        self._write_closed_windows()
        if t_ms - self.t_flushed_ms >= BLOCK_MS - 1e-9:
            self._flush(t_ms)
            self._write_stats(time.perf_counter() - self.wall0)

    def on_exchange(self, t_ms: float, coupling: str, value: float) -> None:
        """Scheduler hook: every exchange goes to /exchanges."""
        self.writer.add_exchange(t_ms, coupling, value)

    def retain(self) -> float:
        """The earliest time whose samples this recorder has not written yet."""
        return self.next_sample_ms

    def _note_biochem(self, t_ms: float) -> None:
        latest = self.latest()
        out = np.array(
            [latest[instance_label(j)][1][0] if instance_label(j) in latest else math.nan
             for j in self.bio.spines]
        )  # fmt: skip
        weights = np.array([self.neuron.get(name) for name in self.weights])
        self._bio_t.append(t_ms)
        self._bio_out.append(out)
        self._bio_w.append(weights)
        self.writer.append_biochem(t_ms, out, weights, recorded=self._read_recorded(t_ms))

    def _read_recorded(self, t_ms: float) -> dict[str, np.ndarray] | None:
        """The model variables of `record.biochem` in every instance, when they are due."""
        if not self.bio.recorded or t_ms < self._next_biochem_ms - 1e-9:
            return None
        self._next_biochem_ms = t_ms + self.biochem_interval_ms
        variables = [variable for variable, _ in self.bio.recorded.values()]
        values = np.array([inst.get_many(variables) for inst in self.bio.instances])
        return {name: values[:, i] for i, name in enumerate(self.bio.recorded)}

    def _flush(self, t_ms: float) -> None:
        """Append the regular samples recorded since the last block."""
        grid = np.arange(self.next_sample_ms, t_ms + 1e-9, self.dt_ms)
        names = self.names + self.cell_names
        if names and grid.size:
            columns = {}
            for name in names:
                rec = self.neuron.samples(name, float(grid[0]), t_ms)
                columns[name] = np.interp(grid, rec.t_ms, rec.values)
            soma = columns.pop(SOMA_V) if SOMA_V in self.names else np.full(grid.size, math.nan)
            calcium = [columns.pop(name) for name in self.names if name != SOMA_V]
            self.writer.append_samples(grid, soma, np.array(calcium).reshape(-1, grid.size).T)
            self.writer.append_recorded_samples(columns)
            self.next_sample_ms = float(grid[-1]) + self.dt_ms
        self.t_flushed_ms = t_ms

    def close(self, status: str, wall_s: float) -> None:
        """Write the last block, the windows and the statistics (when the run started); mark
        the file's status (the file is closed with it whatever goes wrong on the way)."""
        try:
            if self.scheduler is not None:
                self._write_last(self.scheduler, wall_s)
        finally:
            self.writer.close(status)

    def _write_last(self, scheduler: Scheduler, wall_s: float) -> None:
        t = scheduler.t_ms
        if t > self.t_flushed_ms:
            self._flush(t)
        self._write_closed_windows(every=True)
        self._write_stats(wall_s)

    def _write_closed_windows(self, every: bool = False) -> None:
        """Append the windows that closed since the last call (`every`: the open ones too)."""
        if self.scheduler is None:
            return
        records = self.scheduler.stats.windows
        new = [
            i
            for i, w in enumerate(records)
            if i not in self._windows_written and (every or math.isfinite(w.close_ms))
        ]
        if not new:
            return
        spine_of = {calcium_coupling(j): j for j in self.bio.spines}
        self.writer.write_windows([asdict(records[i]) for i in new], spine_of)
        self._windows_written.update(new)

    def _write_stats(self, wall_s: float) -> None:
        """The statistics so far, and how many weights each spine had clipped."""
        if self.scheduler is None:
            return
        scheduler = self.scheduler
        stats = scheduler.stats
        payload = {
            "strategy": stats.strategy,
            "t_start_ms": stats.t_start_ms,
            "t_end_ms": stats.t_end_ms if math.isfinite(stats.t_end_ms) else scheduler.t_ms,
            "wall_s": wall_s,
            "scheduler_wall_s": stats.wall_s,
            "syncs": stats.syncs,
            "exchanges": stats.exchanges,
            "adapters": {k: v.as_dict() for k, v in stats.adapters.items()},
            "baseline": self.bio.baseline,
        }
        clipped = {c.label: c.clipped for c in scheduler.couplings}
        self.writer.set_clipped([clipped.get(weight_coupling(j), 0) for j in self.bio.spines])
        self.writer.write_stats(json.loads(json.dumps(payload)))

    def biochem_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self._bio_t), np.array(self._bio_out), np.array(self._bio_w)
