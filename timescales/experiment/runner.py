"""Build and run an experiment: the cell in its simulator, one SBML instance per spine, couplings.

The study's protocol, in three phases: NEURON alone to the end of its equilibration;
one biochemical instance alone for its equilibration (every spine instance starts from
that state, created when it is first needed); then the coupled run under the chosen
strategy, recorded into an HDF5 file as it goes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from filelock import Timeout

from .. import checkpoint, mpi
from ..cell import Cell, SpinePort, load_cell_type
from ..checkpoint import Checkpoint, CheckpointError
from ..coupling import Coupling
from ..errors import ConfigError, SolverError
from ..registry import load_adapter
from ..results import ending_status, jsonable, writer_lock
from ..scheduler import ProgressHook, RunStats, Scheduler
from ..strategies import EventDriven, FixedInterval, Lockstep, ScheduledWindows, Strategy
from ..units import TIME_EPS_MS, factor, in_unit
from .checkpointing import Checkpointer, checkpoint_path, stop_at_sync
from .couplings import (
    BASELINE,
    compartment_volume_l,
    is_concentration_rate,
    own_calcium_target,
    spine_couplings,
)
from .model_checks import model_problems, warn_assumed_units, warn_suspicious
from .problems import ExperimentError
from .recording import BiochemOutputs, Recorder, instance_label

#: How often a clamped calcium species is set back to the cell's rest during equilibration.
HOLD_MS = 1000.0


@dataclass
class RunResult:
    """What `Experiment.run` returns: statistics, the results file and the main arrays."""

    stats: RunStats
    path: Path | None
    spines: np.ndarray
    biochem_time_ms: np.ndarray
    weight: np.ndarray
    output: np.ndarray
    output_baseline: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    def final_weights(self) -> dict[int, float]:
        """The last weight of every spine that has a biochemical instance."""
        return {int(s): float(self.weight[-1, i]) for i, s in enumerate(self.spines)}


def make_strategy(spec: Any, mode: str | None = None) -> Strategy:
    """The sync strategy an experiment's [coupling] table asks for."""
    c = spec.coupling
    mode = mode or c.mode
    if mode == "event":
        return EventDriven(
            min_interval_ms=c.min_interval_ms,
            max_interval_ms=c.max_interval_ms,
            rtol=c.rtol,
            hold=c.hold,
            resolution_ms=c.resolution_ms,
            max_advance_ms=c.max_advance_ms,
        )
    if mode == "original":
        return ScheduledWindows(
            times_ms=tuple(spec.schedule_ms()), buffer_ms=c.buffer_ms, sampling_ms=c.sampling_ms
        )
    if mode == "lockstep":
        return Lockstep()
    if mode == "fixed":
        return FixedInterval(c.interval_ms, hold=c.hold)
    raise ConfigError("coupling.mode", "event, original, lockstep or fixed", mode)


class Experiment:
    """An experiment built from a validated spec (see `timescales.experiment.load`)."""

    def __init__(
        self, spec: Any, source: str = "", overrides: dict[str, Any] | None = None
    ) -> None:
        self.spec = spec
        self.source = source
        self.overrides = dict(overrides or {})
        self._pool: Any = None

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> Experiment:
        """Load and validate an experiment file (`overrides` by dotted key, validated too)."""
        from .load import load_experiment

        return cls(load_experiment(path, overrides=overrides or None), str(path), overrides)

    # ------------------------------------------------------------------ building
    def _build_cell(self) -> Any:
        """The cell's simulator adapter (by name), building the cell its [cell] table names."""
        cell_spec = self.spec.cell
        cell_type = load_cell_type(cell_spec.model)
        simulator = load_adapter(cell_spec.simulator)
        options, base_dir = cell_spec.options(), self.spec.source.parent
        inputs = self.spec.stimulus_times_ms()

        def build() -> Cell:
            cell = cell_type.build(options, base_dir)
            _check_built(cell, self.spec)
            for spine, by_synapse in inputs.items():
                for synapse, t_ms in by_synapse.items():
                    cell.stimulate([spine], t_ms, (synapse,))
            return cell

        for_cell = getattr(simulator, "for_cell", None)
        if for_cell is None:
            raise ConfigError(
                "cell.simulator",
                "a simulator whose adapter builds cells (for_cell)",
                cell_spec.simulator,
            )
        return for_cell(build, options)

    def check(self) -> Any:
        """Load the biochemical model and check it: constructs its simulator cannot run and
        every name the experiment uses in it (one ExperimentError lists them all); suspicious
        values are TimescalesWarnings.

        Returns the model prepared for coupling (None without biochemistry). Runs before
        anything is built, so a wrong species fails at once, naming the candidates.
        """
        if self.spec.biochemistry is None:
            return None
        return self._load_model()

    def _load_model(self) -> Any:
        from timescales.models import sbml as sbml_models

        bio = self.spec.biochemistry
        calcium = bio.calcium
        simulator = self._biochemistry_simulator()
        source = self.spec.model_path() or sbml_models.path(self.spec.model_name())
        probe = simulator.load_model(source)
        problems = model_problems(self.spec, probe, source)
        if problems:
            raise ExperimentError(problems, self.spec.source.name)
        warn_suspicious(self.spec, probe, source)
        reactions = tuple(
            probe.resolve(n) for n in calcium.switch_off if probe.resolve(n) in probe.reactions
        )
        flux = {calcium.species: calcium.unit} if calcium.mode == "flux" else None
        own = own_calcium_target(calcium, probe)
        model = simulator.load_model(
            source,
            flux_inputs=flux,
            switches=reactions,
            assume_units={own: calcium.unit} if own else None,
        )
        warn_assumed_units(model, source)
        return model

    def _biochemistry_simulator(self) -> Any:
        """The adapter class `[biochemistry] simulator` names (its model loading and instances)."""
        name = self.spec.biochemistry.simulator
        simulator = load_adapter(name)
        if not all(hasattr(simulator, m) for m in ("load_model", "template", "instances")):
            raise ConfigError(
                "biochemistry.simulator",
                "a simulator that runs biochemical models (load_model, template, instances)",
                name,
            )
        return simulator

    def _biochemistry(
        self, model: Any, neuron: Any, spines: list[int], t_eq_ms: float
    ) -> tuple[list[Any], list[Coupling], str, float]:
        """Equilibrate one instance, give every spine a lazy copy of it, couple them."""
        bio = self.spec.biochemistry
        simulator = self._biochemistry_simulator()
        by_number = ports_by_number(neuron.model)
        ports = [by_number[j] for j in spines]
        rest = {p.number: neuron.get(p.calcium) for p in ports}
        tolerances = (bio.rtol, bio.atol)
        template = simulator.template(model, tolerances)
        template.initialize(0.0)
        try:
            self._equilibrate_template(model, template, float(np.mean(list(rest.values()))))
        except SolverError as exc:
            raise exc.during("equilibration") from exc
        _, state = template.save_state()  # type: ignore[misc]
        out_var = model.resolve(bio.output.variable)
        baseline = template.get(out_var)
        into_l = (
            compartment_volume_l(bio.calcium, model, template)
            if is_concentration_rate(bio.calcium)
            else None
        )
        template.close()
        instances = self._instances(model, spines, tolerances)
        for inst in instances:
            inst.initialize(t_eq_ms)
            inst.restore_state((t_eq_ms, state))
        couplings = spine_couplings(self.spec, model, ports, rest, into_l)
        return instances, couplings, out_var, baseline

    def _instances(
        self, model: Any, spines: list[int], tolerances: tuple[float, float]
    ) -> list[Any]:
        """One instance per spine, in spine order, made busiest spine first: pools (worker
        processes, MPI ranks) place them round-robin in that order, so the spines driven
        most are spread over them first."""
        made, self._pool = self._biochemistry_simulator().instances(
            model,
            [instance_label(j) for j in busiest_first(spines, self.spec.stimulus_times_ms())],
            tolerances,
            self.spec.coupling.workers,
        )
        by_label = {inst.label: inst for inst in made}
        return [by_label[instance_label(j)] for j in spines]

    def _equilibrate_template(self, model: Any, template: Any, rest_mM: float) -> None:
        """Set `[biochemistry.set]`, then run the equilibration. In clamp mode the calcium
        species follows the cell, which rests meanwhile: it is held at the cell's resting head
        calcium (set again every HOLD_MS) unless `calcium.rest = "model"`."""
        bio = self.spec.biochemistry
        units = model.variables()
        for key, value in bio.set.items():
            name = model.resolve(key)
            template.set(name, in_unit(value, units[name].unit or "dimensionless"))
        t_end_ms = bio.equilibration_s * 1000.0
        if bio.calcium.mode != "clamp" or bio.calcium.rest != "neuron":
            template.advance(t_end_ms)
            return
        name = model.resolve(bio.calcium.species)
        held = rest_mM * factor("mM", units[name].unit)
        for t_ms in [*np.arange(HOLD_MS, t_end_ms, HOLD_MS), t_end_ms]:
            template.set(name, held)
            template.advance(float(t_ms))
        template.set(name, held)

    # ------------------------------------------------------------------- running
    def run(
        self,
        *,
        duration_ms: float | None = None,
        mode: str | None = None,
        output: str | Path | None = None,
        overwrite: bool = False,
        progress: ProgressHook | None = None,
        record: bool = True,
        checkpoint_ms: float | None = None,
    ) -> RunResult:
        """Equilibrate, couple and run; `duration_ms` (counted from the experiment's start, after
        the equilibration) shortens the coupled period. With `checkpoint_ms`, the run's whole
        state goes to `<output>.checkpoint` every `checkpoint_ms` of simulated time (see
        `Experiment.resume`)."""
        options = RunOptions(duration_ms, mode, output, overwrite, progress, record, checkpoint_ms)
        self._check_run(options)
        model = self.check()
        neuron = self._build_cell()
        try:
            return self._run(neuron, model, options)
        finally:
            neuron.close()
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    @classmethod
    def resume(
        cls,
        path: str | Path,
        *,
        until_ms: float | None = None,
        progress: ProgressHook | None = None,
    ) -> RunResult:
        """Continue the run that writes `path` from its last checkpoint (rows written after it
        are dropped and computed again) to the end it was asked for, or on to `until_ms`
        (simulated ms, as the file's time axis), which may extend a complete run."""
        path = Path(path).resolve()
        saved = checkpoint.read(checkpoint_path(path))
        extra = saved.extra
        self = cls.from_file(extra["source"], **extra["overrides"])
        opts = dataclasses.replace(extra["options"], progress=progress, output=path)
        stored, _ = self._stored(opts)
        if _without_output(stored) != _without_output(_stored_in(path)):
            raise CheckpointError(
                f"{path}: the experiment file {extra['source']} changed since the run "
                "started; resume needs the experiment as it ran"
            )
        t_end = _resume_end(path, saved.t_ms, extra["until_ms"], until_ms)
        model = self.check()
        neuron = self._build_cell()
        try:
            return self._resume(neuron, model, saved, opts, t_end)
        finally:
            neuron.close()
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def _resume(
        self, neuron: Any, model: Any, saved: Checkpoint, opts: RunOptions, t_end_ms: float
    ) -> RunResult:
        """Rebuild the adapters, bring them and the scheduler back, reopen the file, run."""
        wall0 = time.perf_counter()
        extra = saved.extra
        spines, out_var, baseline = extra["spines"], extra["out_var"], extra["baseline"]
        neuron.initialize(0.0)
        t_eq = self.spec.cell.equilibration_ms
        instances = []
        if spines:
            bio = self.spec.biochemistry
            instances = self._instances(model, spines, (bio.rtol, bio.atol))
            for inst in instances:
                inst.initialize(t_eq)
        adapters = {"neuron": neuron, **{inst.label: inst for inst in instances}}
        scheduler = checkpoint.restore(saved, adapters)
        bio_outputs = _outputs(model, self.spec, instances, spines, out_var, baseline)
        run = _Run(neuron, instances, spines, out_var, baseline, None, t_end_ms)
        run.scheduler, run.next_checkpoint_ms = scheduler, extra["next_checkpoint_ms"]
        with _closing(run):
            recorder = run.recorder = Recorder.resume(
                self.spec, neuron, bio_outputs, _results_path(opts, self.spec), extra["recorder"]
            )
            recorder.wall0 = wall0
            recorder.scheduler, recorder.latest = scheduler, scheduler.latest_outputs
            self._drive(run, opts)
        return self._result(run, wall0)

    def _check_run(self, opts: RunOptions) -> None:
        """The run's options, checked before anything is built."""
        spec, source = self.spec, self.spec.source.name
        duration = opts.duration_ms
        full = spec.experiment.duration_ms
        if duration is not None and not (math.isfinite(duration) and 0 < duration <= full):
            expected = f"a duration > 0 and at most the experiment's {full:g} ms"
            raise ConfigError("duration_ms", expected, duration, source)
        every = opts.checkpoint_ms
        if every is not None and not (math.isfinite(every) and every > 0):
            raise ConfigError("checkpoint_ms", "a finite interval > 0 (ms)", every, source)
        if not opts.record:
            if every is not None:
                raise ConfigError("checkpoint_ms", "a run that writes a results file", every)
            return
        path = Path(opts.output if opts.output is not None else spec.output_path()).resolve()
        if path == spec.source.resolve():
            raise ConfigError(
                "output", "a results file other than the experiment", str(path), source
            )
        if path.exists() and not opts.overwrite:
            expected = "a path that does not exist yet (or --overwrite)"
            raise ConfigError("output", expected, str(path), source)
        if _locked(path):
            raise ConfigError("output", "a file no other run is writing", str(path), source)
        folder = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        if not os.access(folder, os.W_OK):
            raise ConfigError("output", "a path in a folder we may write to", str(path), source)

    def _stored(self, opts: RunOptions) -> tuple[dict[str, Any], Path]:
        """The experiment as it runs (the run's options applied and listed) and its output."""
        data = self.spec.to_dict()
        overrides = dict(self.overrides)
        output = Path(opts.output).resolve() if opts.output is not None else None
        for key, value in (
            ("experiment.duration_ms", opts.duration_ms),
            ("experiment.output", str(output) if output else None),
            ("coupling.mode", opts.mode),
        ):
            if value is not None:
                table, name = key.split(".")
                data[table][name] = value
                overrides[key] = value
        data["overrides"] = overrides
        return data, output or self.spec.output_path()

    def _model_files(self) -> list[Path]:
        """The model files of the run: the biochemical model and the cell's (sha256 in the
        results file's provenance)."""
        from timescales.models import sbml as sbml_models
        from timescales.models.neuron.mechanisms import MOD_DIR, mod_sources

        files = mod_sources(MOD_DIR)
        if self.spec.biochemistry is not None:
            files.insert(0, self.spec.model_path() or sbml_models.path(self.spec.model_name()))
        cell = self.spec.source.parent / self.spec.cell.model
        return [cell, *files] if cell.is_file() else files

    def _equilibrate(
        self, neuron: Any, model: Any
    ) -> tuple[list[int], list[Any], list[Coupling], str, float]:
        """The cell, then one biochemical instance, alone to their equilibria; the spines with
        an instance, the instances, their couplings, the output variable and its baseline."""
        spec = self.spec
        t_eq = spec.cell.equilibration_ms
        neuron.initialize(0.0)
        neuron.advance(t_eq)
        built = [port.number for port in neuron.model.spine_ports()]
        spines = list(spec.instance_spines(built)) if spec.biochemistry is not None else []
        if not spines:
            return [], [], [], "", math.nan
        instances, couplings, out_var, baseline = self._biochemistry(model, neuron, spines, t_eq)
        return spines, instances, couplings, out_var, baseline

    def _run(self, neuron: Any, model: Any, opts: RunOptions) -> RunResult:
        spec = self.spec
        wall0 = time.perf_counter()
        spines, instances, couplings, out_var, baseline = self._equilibrate(neuron, model)
        t_end = spec.end_ms(opts.duration_ms)
        run = _Run(neuron, instances, spines, out_var, baseline, None, t_end)
        with _closing(run):
            if opts.record:
                bio = _outputs(model, spec, instances, spines, out_var, baseline)
                stored, output = self._stored(opts)
                run.recorder = Recorder(
                    spec, stored, neuron, bio, output, opts.overwrite, self._model_files()
                )
                run.recorder.wall0 = wall0
            scheduler = _scheduler(spec, opts, [neuron, *instances], couplings, run.recorder)
            scheduler.capture(BASELINE)
            ports = ports_by_number(neuron.model)
            for j in spines:
                neuron.set(ports[j].weight, 1.0)
            run.scheduler = scheduler
            self._drive(run, opts)
        return self._result(run, wall0)

    def _drive(self, run: _Run, opts: RunOptions) -> None:
        """Run the scheduler to the end, checkpointing when asked (stop signals then wait for
        the next sync's checkpoint)."""
        checkpointer = None
        if opts.checkpoint_ms is not None and run.recorder is not None:
            checkpointer = self._checkpointer(run, opts)
        run.checkpointer = checkpointer
        scheduler = run.scheduler
        scheduler.attach(
            progress=opts.progress,
            on_sync=_on_sync(run.recorder, checkpointer, self._pool),
            retain=run.recorder.retain if run.recorder else None,
            on_exchange=run.recorder.on_exchange if run.recorder else None,
            before_finish=checkpointer.at_end if checkpointer else None,
        )
        if run.recorder is not None:
            run.recorder.writer.set_attrs(
                until_ms=run.t_end_ms, experiment_end_ms=self.spec.end_ms(None)
            )
        with stop_at_sync(checkpointer):
            try:
                scheduler.run(run.t_end_ms)
            except SolverError as exc:
                raise exc.during("run") from exc

    def _checkpointer(self, run: _Run, opts: RunOptions) -> Checkpointer:
        recorder = run.recorder
        assert recorder is not None

        def state() -> dict[str, Any]:
            return {
                "source": str(self.spec.source),
                "overrides": self.overrides,
                "options": dataclasses.replace(opts, progress=None, overwrite=False),
                "until_ms": run.t_end_ms,
                "spines": run.spines,
                "out_var": run.out_var,
                "baseline": run.baseline,
                "recorder": recorder.checkpoint_state(),
            }

        path = checkpoint_path(recorder.path)
        return Checkpointer(
            path, float(opts.checkpoint_ms or 0.0), run.scheduler, state, run.next_checkpoint_ms
        )

    def _result(self, run: _Run, wall0: float) -> RunResult:
        neuron, spines, instances = run.neuron, run.spines, run.instances
        ports = ports_by_number(neuron.model)
        scheduler, recorder, out_var = run.scheduler, run.recorder, run.out_var
        result = RunResult(
            stats=scheduler.stats,
            path=recorder.path if recorder else None,
            spines=np.array(spines, dtype=int),
            biochem_time_ms=np.array([run.t_end_ms]),
            weight=np.array([[neuron.get(ports[j].weight) for j in spines]]),
            output=np.array([[inst.get(out_var) for inst in instances]]),
            output_baseline=np.full(len(spines), run.baseline),
        )
        if recorder is not None and spines:
            result.biochem_time_ms, result.output, result.weight = recorder.biochem_arrays()
        result.extra = self._extra(neuron, scheduler, wall0)
        if run.checkpointer is not None:
            c = run.checkpointer
            result.extra["checkpoints"] = {
                "n": c.written,
                "bytes_last": c.bytes_last,
                "wall_s": c.wall_s,
            }
        return result

    def _extra(self, neuron: Any, scheduler: Scheduler, wall0: float) -> dict[str, Any]:
        """What a run measured besides its statistics."""
        extra: dict[str, Any] = {
            "wall_total_s": time.perf_counter() - wall0,
            "neuron_jumped_ms": getattr(neuron, "jumped_ms", 0.0),
            "neuron_jumps": getattr(neuron, "n_jumps", 0),
            "neuron_rest_checks": getattr(neuron, "n_rest_checks", 0),
            "neuron_quiet_steps_ms": getattr(neuron, "coarse_ms", 0.0),
            "clipped": {c.label: c.clipped for c in scheduler.couplings if c.clipped},
        }
        if self._pool is not None:
            extra["worker_busy_s"] = self._pool.busy_s()
        leader = mpi.leader()
        if leader is not None:
            extra["mpi"] = {
                "ranks": leader.comm.Get_size(),
                "rounds": leader.rounds,
                "wait_s": leader.wait_s,
            }
        return extra


@dataclass(frozen=True)
class RunOptions:
    """How `Experiment.run` was asked to run."""

    duration_ms: float | None
    mode: str | None
    output: str | Path | None
    overwrite: bool
    progress: ProgressHook | None
    record: bool
    checkpoint_ms: float | None = None


@dataclass
class _Run:
    """A run's parts once built: adapters, spines with instances, recorder, scheduler."""

    neuron: Any
    instances: list[Any]
    spines: list[int]
    out_var: str
    baseline: float
    recorder: Recorder | None
    t_end_ms: float
    scheduler: Any = None
    checkpointer: Checkpointer | None = None
    next_checkpoint_ms: float = math.nan


def _without_output(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored experiment as JSON keeps it, without where its results went (a results file
    may be moved before it is resumed)."""
    data = json.loads(json.dumps(jsonable(stored)))
    data["experiment"].pop("output", None)
    data["overrides"].pop("experiment.output", None)
    return data


def _stored_in(path: Path) -> dict[str, Any]:
    """The experiment a results file says it ran."""
    from ..results import Results

    return Results.open(path).experiment


def _results_path(opts: RunOptions, spec: Any) -> Path:
    return Path(opts.output).resolve() if opts.output is not None else spec.output_path()


def _resume_end(path: Path, t_ms: float, asked_ms: float, until_ms: float | None) -> float:
    """Where a resumed run ends: where the run was asked to end, or `until_ms` (after the
    checkpoint; past the end of a complete run)."""
    from ..results import Results

    status = Results.open(path).status
    if until_ms is None:
        if status == "complete":
            raise ConfigError(
                "until_ms", "a time past the end of this complete run", None, path.name
            )
        return asked_ms
    if not (math.isfinite(until_ms) and until_ms > t_ms + TIME_EPS_MS):
        raise ConfigError(
            "until_ms", f"a finite time after the checkpoint at {t_ms:g} ms", until_ms, path.name
        )
    return float(until_ms)


@contextlib.contextmanager
def _closing(run: _Run) -> Iterator[None]:
    """Close the run's results file (once its recorder exists) with the run's status however
    the run ends: complete, interrupted (Ctrl-C, a stop signal) or failed (any error, kept
    in the file so far)."""
    exc: BaseException | None = None
    try:
        yield
    except BaseException as escaped:
        exc = escaped
        raise
    finally:
        recorder = run.recorder
        if recorder is not None:
            recorder.scheduler = run.scheduler
            recorder.close(ending_status(exc), time.perf_counter() - recorder.wall0)


def _on_sync(
    recorder: Recorder | None, checkpointer: Checkpointer | None, pool: Any
) -> Callable[[float], None] | None:
    """The scheduler's sync hook: the recorder's row, the checkpoint when one is due, then
    the pool's queued work sent off, to run while the cell advances."""
    hooks: list[Callable[[float], None]] = [
        hook.on_sync for hook in (recorder, checkpointer) if hook is not None
    ]
    if pool is not None:
        hooks.append(lambda _t_ms: pool.dispatch())
    if not hooks:
        return None

    def on_sync(t_ms: float) -> None:
        for hook in hooks:
            hook(t_ms)

    return on_sync


def busiest_first(spines: list[int], inputs: dict[int, dict[str, list[float]]]) -> list[int]:
    """`spines` by their number of input times (all synapses), most first, then by number."""
    count = {j: len({t for times in inputs.get(j, {}).values() for t in times}) for j in spines}
    return sorted(spines, key=lambda j: (-count[j], j))


def _locked(path: Path) -> bool:
    """Whether another process holds the writer's lock of `path`."""
    lock = writer_lock(path)
    if not path.parent.exists():
        return False
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def _scheduler(
    spec: Any, opts: RunOptions, adapters: list[Any], couplings: list[Coupling], recorder: Any
) -> Scheduler:
    """The run's scheduler, with the recorder's hooks."""
    scheduler = Scheduler(adapters, couplings, make_strategy(spec, opts.mode))
    if recorder is not None:
        recorder.scheduler = scheduler
        recorder.latest = scheduler.latest_outputs
        recorder.writer.write_exchange_units(
            {c.label: c.spec.target.unit for c in scheduler.couplings}
        )
    return scheduler


def _outputs(
    model: Any, spec: Any, instances: list[Any], spines: list[int], out_var: str, baseline: float
) -> BiochemOutputs:
    """What the recorder reads of the biochemistry, with the units of the model."""
    unit = model.variables()[out_var].unit if out_var else ""
    recorded = {}
    for name in spec.record.biochem:
        variable = model.resolve(name)
        recorded[name] = (variable, model.variables()[variable].unit)
    return BiochemOutputs(instances, spines, out_var, unit, baseline, recorded)


def _check_built(cell: Cell, spec: Any) -> None:
    """Every spine the experiment names exists in the built cell (spines placed by density
    are known only now)."""
    numbers = {port.number for port in cell.spine_ports()}
    needed = set(spec.stimulated_spines()) | set(spec.instance_spines(sorted(numbers)))
    missing = sorted(needed - numbers)
    if missing:
        raise ConfigError(
            "stimulus/biochemistry.instances",
            f"spines of the built cell (1..{len(numbers)})",
            missing,
            spec.source.name,
        )


def ports_by_number(cell: Cell) -> dict[int, SpinePort]:
    """The cell's spines by number."""
    return {port.number: port for port in cell.spine_ports()}


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)] if values.size else values


def summary_rows(result: RunResult) -> list[tuple[str, str]]:
    """Rows of the end-of-run summary table."""
    s = result.stats
    w = result.weight[-1] if result.weight.size else np.array([])
    rows = [
        ("strategy", s.strategy),
        ("simulated", f"{s.t_end_ms - s.t_start_ms:g} ms"),
        ("wall time", f"{result.extra.get('wall_total_s', s.wall_s):.1f} s"),
        ("syncs", str(s.syncs)),
        ("exchanges", str(s.n_exchanges)),
        ("windows", str(len(s.windows))),
    ]
    finite = _finite(np.asarray(w, dtype=float))
    if finite.size:
        rows.append(("final weight (min/max)", f"{finite.min():.4f} / {finite.max():.4f}"))
    for kind, st in s.adapters.items():
        rows.append((f"{kind} time", f"{st.wall_s:.1f} s ({st.n_advance} advances)"))
    if math.isfinite(s.wall_s):
        rows.append(("scheduler wall", f"{s.wall_s:.1f} s"))
    ranks = result.extra.get("mpi")
    if ranks:
        rows.append(
            (
                "MPI",
                f"{ranks['ranks']} ranks, {ranks['rounds']} rounds, "
                f"{ranks['wait_s']:.1f} s waiting for the ranks",
            )
        )
    return rows
