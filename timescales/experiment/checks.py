"""Checks that span several keys: spines of the layout, trains, units, model files.

They run on whichever tables validated on their own, so a file with a type error in one
table still gets the cross-key problems of the others reported in the same error.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import biomodels, combine
from ..cell import CellType, load_cell_type
from ..errors import ArchiveError, ConfigError, ModelError, UnitError, close_matches
from ..registry import available_adapters
from ..stimuli import input_times
from ..stimuli import merged_times as merge
from ..units import dimensionality, is_amount, is_concentration, parse, quantity
from .problems import Problem, Shown
from .schema import (
    BUNDLED_MODELS,
    MODEL_SUFFIXES,
    Biochemistry,
    Calcium,
    Cell,
    CouplingSpec,
    ExperimentInfo,
    Output,
    Record,
    Stimulus,
)

TRAIN_KEYS = ("start_ms", "rate_hz", "count")


@dataclass(slots=True)
class Tables:
    """The tables of a file, validated on their own with invalid keys dropped (`broken`).

    A table is None when absent (and optional) or still invalid without those keys.
    """

    experiment: ExperimentInfo | None = None
    cell: Cell | None = None
    stimulus: list[tuple[int, Stimulus]] | None = None
    biochemistry: Biochemistry | None = None
    coupling: CouplingSpec | None = None
    record: Record | None = None
    broken: set[str] = field(default_factory=set)

    def usable(self, *paths: str) -> bool:
        """Whether none of these keys was invalid (replaced by its default)."""
        return not self.broken.intersection(paths)


@dataclass(frozen=True, slots=True)
class CellSpines:
    """What the checks know of a cell's spines before it is built.

    `numbers` None: only building the cell tells (spines placed by density). `spines`: the
    table's `spines` value, the cell type's default filled in.
    """

    spines: Any
    numbers: tuple[int, ...] | None
    synapses: tuple[str, ...]
    layout: str | None

    def allowed(self) -> str:
        """What a spine number must be, in words."""
        if self.numbers is None:
            return "a spine of the cell"
        if self.layout is None:
            return "a spine of the cell.spines list"
        n = len(self.numbers)
        return (
            f"a spine number in 1..{n} (layout {self.layout!r})"
            if n
            else (f"no spine (layout {self.layout!r})")
        )


def cell_spines(cell: Cell, base_dir: Path) -> tuple[CellSpines | None, list[Problem]]:
    """The cell's spines as its cell type gives them, and what is wrong with the table."""
    try:
        cell_type: CellType = load_cell_type(cell.model)
    except ConfigError as exc:
        return None, [Problem(exc.field, exc.expected, cell.model)]
    options = cell.options()
    if options["spines"] is None:
        options["spines"] = cell_type.default_spines
    problems = [Problem(k, a, v) for k, a, v in cell_type.problems(options, base_dir)]
    if problems:
        return None, problems
    layout = options["spines"] if isinstance(options["spines"], str) else None
    numbers = cell_type.spine_numbers(options, base_dir)
    return CellSpines(options["spines"], numbers, cell_type.synapse_kinds(options), layout), []


def _spine_list(
    path: str, numbers: tuple[int, ...] | list[int], spines: CellSpines
) -> list[Problem]:
    if spines.numbers is None:
        return []
    exists = set(spines.numbers)
    return [
        Problem(f"{path}[{i}]", spines.allowed(), n)
        for i, n in enumerate(numbers)
        if n not in exists
    ]


def check_simulator(path: str, name: str) -> list[Problem]:
    """A simulator adapter must be installed (entry-point group timescales.adapters)."""
    found = available_adapters()
    if name in found:
        return []
    return [Problem(path, f"an installed simulator ({', '.join(sorted(found)) or 'none'})", name)]


def check_cell(cell: Cell) -> list[Problem]:
    out = check_simulator("cell.simulator", cell.simulator)
    if 0 < cell.quiet_dt_ms < cell.dt_ms:
        expected = f"0 or a number >= dt_ms ({cell.dt_ms:g})"
        out.append(Problem("cell.quiet_dt_ms", expected, cell.quiet_dt_ms))
    return out


def resolve_stimulus(stim: Stimulus, spines: CellSpines, seed: int | None = None) -> Stimulus:
    """A stimulus with its defaults filled in: every synapse kind, the layout's spines for
    `spines = "all"` (none while only building the cell tells), and `seed` for a Poisson
    train without one."""
    update: dict[str, Any] = {}
    if not stim.synapses:
        update["synapses"] = list(spines.synapses)
    if stim.spines == "all":
        update["spines"] = list(spines.numbers or ())
    if stim.process == "poisson" and stim.seed is None:
        update["seed"] = seed
    return stim.model_copy(update=update)


def check_steps(cell: Cell, stimuli: Iterable[Stimulus], spines: CellSpines) -> list[Problem]:
    """The electrical step must not be longer than the shortest interval between two inputs
    to one synapse, or the inputs within one step act as one (quiet steps end one regular
    step before every input, so only `dt_ms` is concerned). `stimuli`: valid trains and
    lists of times (a Poisson train's intervals are drawn, not chosen); `spines` resolves
    `spines = "all"` and the synapses of stimuli that name none."""
    stimuli = [resolve_stimulus(stim, spines) for stim in stimuli]
    gaps = [
        (b - a, spine, synapse, a, b)
        for spine, by_synapse in merged_times(stimuli, spines.synapses).items()
        for synapse, times in by_synapse.items()
        for a, b in itertools.pairwise(times)
    ]
    if not gaps or cell.dt_ms <= min(gaps)[0]:
        return []
    gap, spine, synapse, a, b = min(gaps)
    allowed = (
        f"a step no longer than the shortest interval between two inputs to a synapse "
        f"({gap:g} ms: spine {spine}'s {synapse} at {a:g} and {b:g} ms)"
    )
    return [Problem("cell.dt_ms", allowed, cell.dt_ms)]


def check_stimulus(
    i: int, stim: Stimulus, spines: CellSpines | None, cell: Cell | None, t_end_ms: float | None
) -> list[Problem]:
    """Spines and synapses of the cell (if known), train or times, inputs within the run."""
    path = f"stimulus[{i}]"
    out: list[Problem] = []
    if stim.spines == "all":
        if spines is not None and spines.numbers is None:
            expected = "a list of spine numbers (this cell places its spines when it is built)"
            out.append(Problem(f"{path}.spines", expected, "all"))
    elif spines is not None:
        out += _spine_list(f"{path}.spines", stim.spines, spines)
    synapses = stim.synapses or []
    if len(set(synapses)) != len(synapses):
        out.append(Problem(f"{path}.synapses", "no repeated synapse", synapses))
    if spines is not None and set(synapses) - set(spines.synapses):
        kinds = ", ".join(map(repr, spines.synapses))
        out.append(Problem(f"{path}.synapses", f"a non-empty subset of [{kinds}]", synapses))
    timing = _timing(path, stim)
    if timing or cell is None or t_end_ms is None:
        return out + timing
    if stim.process == "poisson":
        out += _poisson_span(path, stim, cell.equilibration_ms, t_end_ms)
    else:
        times = stimulus_times(stim)
        late = [t for t in times if not cell.equilibration_ms < t <= t_end_ms]
        if late:
            key = f"{path}.times_ms" if stim.times_ms is not None else path
            out.append(
                Problem(
                    key,
                    f"input times after the equilibration and within the run "
                    f"({cell.equilibration_ms:g} < t <= {t_end_ms:g} ms)",
                    Shown(f"inputs at {', '.join(f'{t:g}' for t in late[:5])} ms"),
                )
            )
    return out


def _poisson_span(path: str, stim: Stimulus, t_eq_ms: float, t_end_ms: float) -> list[Problem]:
    """A Poisson train's span lies after the equilibration and within the run."""
    start, stop = float(stim.start_ms or 0.0), float(stim.stop_ms or 0.0)
    if t_eq_ms <= start < stop <= t_end_ms:
        return []
    expected = (
        "start_ms < stop_ms, after the equilibration and within the run "
        f"({t_eq_ms:g} <= start < stop <= {t_end_ms:g} ms)"
    )
    return [Problem(path, expected, Shown(f"{start:g} to {stop:g} ms"))]


def _timing(path: str, stim: Stimulus) -> list[Problem]:
    """The keys that say when inputs come: a train, a list of times or a Poisson train."""
    keys = (*TRAIN_KEYS, "times_ms", "stop_ms", "seed")
    given = [k for k in keys if getattr(stim, k) is not None]
    if stim.process == "poisson":
        needed, allowed = (
            {"start_ms", "rate_hz", "stop_ms"},
            {"start_ms", "rate_hz", "stop_ms", "seed"},
        )
        expected = "a Poisson train: start_ms, rate_hz and stop_ms (and a seed)"
        ok = needed <= set(given) <= allowed
    else:
        train = [k for k in TRAIN_KEYS if k in given]
        expected = "either a train (start_ms, rate_hz and count) or times_ms"
        extra = {"stop_ms", "seed"} & set(given)
        ok = len(train) == (0 if stim.times_ms is not None else 3) and not extra
    if ok:
        return []
    return [Problem(path, expected, Shown("keys " + (", ".join(given) or "none")))]


def stimulus_times(stim: Stimulus) -> list[float]:
    """Sorted unique input times (ms) of a stimulus table (see timescales.stimuli)."""
    return input_times(stim.model_dump())


def merged_times(
    stimuli: Iterable[Stimulus], synapses: Sequence[str] = ()
) -> dict[int, dict[str, list[float]]]:
    """Spine -> synapse -> sorted unique input times (ms) of all `stimuli` together; a
    stimulus that names no synapses reaches `synapses`."""
    tables = (stim.model_dump() for stim in stimuli)
    return merge({**t, "synapses": t["synapses"] or list(synapses)} for t in tables)


def _check_unit(calcium: Calcium) -> list[Problem]:
    if calcium.unit is None:
        return []
    path = "biochemistry.calcium.unit"
    try:
        unit = parse(calcium.unit)
    except UnitError:
        return [Problem(path, "a unit such as 'molecules/s', 'mol/s', 'mM', 'uM'", calcium.unit)]
    if calcium.mode == "clamp":
        if is_concentration(calcium.unit) or is_amount(calcium.unit):
            return []
        allowed = "a concentration or amount unit for mode 'clamp' (e.g. 'mM', 'molecules')"
    else:
        per_time = f"({unit}) * second"
        if is_amount(per_time) or is_concentration(per_time):
            return []
        allowed = (
            f"an amount or concentration per time for mode {calcium.mode!r} (e.g. 'molecules/s')"
        )
    return [Problem(path, allowed, Shown(f"{calcium.unit!r} ({dimensionality(calcium.unit)})"))]


def check_calcium(calcium: Calcium) -> list[Problem]:
    out = _check_unit(calcium)
    path = "biochemistry.calcium.parameter"
    if calcium.mode == "parameter" and calcium.parameter is None:
        out.append(Problem(path, "a parameter name (required with mode = 'parameter')"))
    if calcium.mode != "parameter" and calcium.parameter is not None:
        out.append(Problem(path, "no parameter unless mode = 'parameter'", calcium.parameter))
    return out


def check_output(output: Output) -> list[Problem]:
    out = []
    low, high = output.bounds
    if not low < high:
        out.append(
            Problem(
                "biochemistry.output.bounds",
                "a pair [low, high] with low < high",
                list(output.bounds),
            )
        )
    if output.rule == "ratio" and "offset" in output.model_fields_set:
        out.append(
            Problem("biochemistry.output.offset", "no offset with rule = 'ratio'", output.offset)
        )
    return out


def model_path(model: str, base_dir: Path) -> Path | None:
    """The file a biochemistry.model names, or None for a bundled model."""
    if model in BUNDLED_MODELS:
        return None
    if biomodels.is_biomodels(model):
        return biomodels.resolve(model)
    return (base_dir / model).resolve()


def check_model(model: str, base_dir: Path) -> list[Problem]:
    path = "biochemistry.model"
    if model in BUNDLED_MODELS:
        return []
    if combine.is_archive(model):
        try:
            combine.read(combine.absolute(model, base_dir))
        except ArchiveError as exc:
            return [Problem(path, exc.expected, Shown(f"{exc.where}: {exc.got}"))]
        return []
    if biomodels.is_biomodels(model):
        try:
            biomodels.resolve(model)
        except ModelError as exc:
            return [Problem(path, "a BioModels model that can be found or downloaded", Shown(exc))]
        return []
    if Path(model).suffix.lower() not in MODEL_SUFFIXES:
        close = close_matches(model, BUNDLED_MODELS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        allowed = (
            f"a bundled model ({', '.join(map(repr, BUNDLED_MODELS))}){hint} or a path to a "
            f"{'/'.join(MODEL_SUFFIXES)} file"
        )
        return [Problem(path, allowed, model)]
    file = model_path(model, base_dir)
    assert file is not None
    if not file.is_file():
        return [Problem(path, f"an existing model file (no file at {file})", model)]
    return []


def check_values(bio: Biochemistry) -> list[Problem]:
    """Model values given as strings must be quantities with a unit pint reads."""
    out = []
    for key, value in bio.set.items():
        if isinstance(value, str):
            try:
                quantity(value)
            except UnitError:
                allowed = "a number (in the model's unit) or a quantity such as '1e-7 M'"
                out.append(Problem(f"biochemistry.set.{key}", allowed, value))
    return out


def check_biochemistry(
    bio: Biochemistry, spines: CellSpines | None, base_dir: Path
) -> list[Problem]:
    out = check_model(bio.model, base_dir) + check_calcium(bio.calcium) + check_output(bio.output)
    out += check_simulator("biochemistry.simulator", bio.simulator) + check_values(bio)
    if spines is not None and not isinstance(bio.instances, str):
        out += _spine_list("biochemistry.instances", bio.instances, spines)
    return out


def check_coupling(c: CouplingSpec) -> list[Problem]:
    out = []
    if c.max_interval_ms < c.min_interval_ms:
        out.append(
            Problem(
                "coupling.max_interval_ms",
                f"a number >= min_interval_ms ({c.min_interval_ms:g})",
                c.max_interval_ms,
            )
        )
    if c.hysteresis_mM >= c.threshold_mM:
        out.append(
            Problem(
                "coupling.hysteresis_mM",
                f"a number < threshold_mM ({c.threshold_mM:g})",
                c.hysteresis_mM,
            )
        )
    return out


def check_tables(t: Tables, base_dir: Path) -> list[Problem]:
    """Every cross-key problem of the tables that validated."""
    out: list[Problem] = []
    cell = t.cell if t.usable("cell.spines", "cell.model") else None
    spines = None
    t_end_ms = None
    if cell is not None:
        out += check_cell(cell)
        spines, problems = cell_spines(cell, base_dir)
        out += problems
        if t.experiment is not None and t.usable("cell.equilibration_ms"):
            t_end_ms = cell.equilibration_ms + t.experiment.duration_ms
    timed: list[Stimulus] = []
    for i, stim in t.stimulus or []:
        problems = check_stimulus(i, stim, spines, cell, t_end_ms)
        out += problems
        if not problems and stim.process != "poisson":
            timed.append(stim)
    if cell is not None and t.usable("cell.dt_ms") and spines is not None:
        out += check_steps(cell, timed, spines)
    if t.biochemistry is not None:
        out += check_biochemistry(t.biochemistry, spines, base_dir)
    if t.coupling is not None:
        out += check_coupling(t.coupling)
    if t.record is not None and t.record.biochem and t.biochemistry is None:
        out.append(
            Problem("record.biochem", "no model variables without [biochemistry]", t.record.biochem)
        )
    if t.record is not None and spines is not None and not isinstance(t.record.spine_calcium, str):
        out += _spine_list("record.spine_calcium", t.record.spine_calcium, spines)
    return out
