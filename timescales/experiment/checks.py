"""Checks that span several keys: spines of the layout, trains, units, model files.

They run on whichever tables validated on their own, so a file with a type error in one
table still gets the cross-key problems of the others reported in the same error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import biomodels
from ..errors import ModelError, UnitError, close_matches
from ..units import dimensionality, is_amount, is_concentration, parse
from .problems import Problem, Shown
from .schema import (
    BUNDLED_MODELS,
    LAYOUT_SIZES,
    MAX_SPINE,
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


def layout_spines(spines: str | tuple[int, ...]) -> tuple[int, ...]:
    """The spine numbers that exist in a layout (a name, or an explicit list)."""
    if isinstance(spines, str):
        return tuple(range(1, LAYOUT_SIZES[spines] + 1))
    return tuple(sorted(set(spines)))


def _in_layout(spines: str | tuple[int, ...]) -> str:
    """What a spine number must be in a layout, in words."""
    if isinstance(spines, str):
        n = LAYOUT_SIZES[spines]
        return f"a spine number in 1..{n} (layout {spines!r})" if n else "no spine (layout 'zero')"
    return "a spine of the cell.spines list"


def _spine_list(path: str, numbers: tuple[int, ...] | list[int], cell: Cell) -> list[Problem]:
    exists = set(layout_spines(cell.spines))
    return [
        Problem(f"{path}[{i}]", _in_layout(cell.spines), n)
        for i, n in enumerate(numbers)
        if n not in exists
    ]


def check_cell(cell: Cell) -> list[Problem]:
    out = []
    if 0 < cell.quiet_dt_ms < cell.dt_ms:
        expected = f"0 or a number >= dt_ms ({cell.dt_ms:g})"
        out.append(Problem("cell.quiet_dt_ms", expected, cell.quiet_dt_ms))
    if isinstance(cell.spines, str):
        return out
    out += [
        Problem(f"cell.spines[{i}]", f"a spine number 1..{MAX_SPINE}", n)
        for i, n in enumerate(cell.spines)
        if not 1 <= n <= MAX_SPINE
    ]
    if len(set(cell.spines)) != len(cell.spines):
        out.append(Problem("cell.spines", "a list without repeated spines", list(cell.spines)))
    return out


def check_stimulus(
    i: int, stim: Stimulus, cell: Cell | None, t_end_ms: float | None
) -> list[Problem]:
    """Spines of the layout (if `cell`), train or times, inputs within the run (if `t_end_ms`)."""
    path = f"stimulus[{i}]"
    out: list[Problem] = []
    if cell is not None:
        out += _spine_list(f"{path}.spines", stim.spines, cell)
    if len(set(stim.synapses)) != len(stim.synapses):
        out.append(Problem(f"{path}.synapses", "no repeated synapse", stim.synapses))
    given = [k for k in (*TRAIN_KEYS, "times_ms") if getattr(stim, k) is not None]
    train = [k for k in TRAIN_KEYS if k in given]
    if len(train) != (0 if stim.times_ms is not None else 3):
        allowed = "either a train (start_ms, rate_hz and count) or times_ms"
        out.append(Problem(path, allowed, Shown("keys " + (", ".join(given) or "none"))))
    elif cell is not None and t_end_ms is not None:
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


def stimulus_times(stim: Stimulus) -> list[float]:
    """Sorted unique input times (ms); a train follows the study: start + k * 1000/rate."""
    if stim.times_ms is not None:
        return sorted({round(t, 9) for t in stim.times_ms})
    start_ms, rate_hz, count = stim.start_ms or 0.0, stim.rate_hz or 1.0, stim.count or 0
    period_ms = 1000.0 / rate_hz
    return sorted({round(start_ms + k * period_ms, 9) for k in range(1, count + 1)})


def merged_times(stimuli: Iterable[Stimulus]) -> dict[int, dict[str, list[float]]]:
    """Spine -> synapse -> sorted unique input times (ms) of all `stimuli` together."""
    merged: dict[int, dict[str, set[float]]] = {}
    for stim in stimuli:
        times = stimulus_times(stim)
        for spine in stim.spines:
            for syn in stim.synapses:
                merged.setdefault(spine, {}).setdefault(syn, set()).update(times)
    return {
        spine: {syn: sorted(ts) for syn, ts in sorted(by_syn.items())}
        for spine, by_syn in sorted(merged.items())
    }


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
    if biomodels.is_biomodels(model):
        try:
            biomodels.resolve(model)
        except ModelError as exc:
            return [Problem(path, "a BioModels model that can be found or downloaded", str(exc))]
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


def check_biochemistry(bio: Biochemistry, cell: Cell | None, base_dir: Path) -> list[Problem]:
    out = check_model(bio.model, base_dir) + check_calcium(bio.calcium) + check_output(bio.output)
    if cell is not None and not isinstance(bio.instances, str):
        out += _spine_list("biochemistry.instances", bio.instances, cell)
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
    cell = t.cell if t.usable("cell.spines") else None
    t_end_ms = None
    if cell is not None and t.experiment is not None and t.usable("cell.equilibration_ms"):
        t_end_ms = cell.equilibration_ms + t.experiment.duration_ms
    if cell is not None:
        out += check_cell(cell)
    for i, stim in t.stimulus or []:
        out += check_stimulus(i, stim, cell, t_end_ms)
    if t.biochemistry is not None:
        out += check_biochemistry(t.biochemistry, cell, base_dir)
    if t.coupling is not None:
        out += check_coupling(t.coupling)
    if t.record is not None and cell is not None and not isinstance(t.record.spine_calcium, str):
        out += _spine_list("record.spine_calcium", t.record.spine_calcium, cell)
    return out
