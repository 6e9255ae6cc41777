"""The validated experiment: the schema plus what a runner asks of it.

An `ExperimentSpec` comes from `load_experiment`, which has already resolved its
defaults and paths (name, output file, model file, calcium unit); its queries answer in
spine numbers and absolute times in ms (time 0 is the start of the electrical
equilibration, as in the study).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import combine
from ..errors import ConfigError, close_matches
from .checks import merged_times, stimulus_times
from .problems import ExperimentError, Problem
from .schema import BUNDLED_MODELS, ExperimentFile, SpineKit

Spines = Sequence[int] | None

DEFAULT_CALCIUM_UNIT = {"flux": "molecules/s", "parameter": "molecules/s", "clamp": "mM"}


class ExperimentSpec(ExperimentFile):
    """A validated, resolved experiment (frozen)."""

    @property
    def source(self) -> Path:
        """The experiment file this spec was read from."""
        return Path(self._source)

    @property
    def name(self) -> str:
        assert self.experiment.name is not None
        return self.experiment.name

    def output_path(self) -> Path:
        """The results file (absolute)."""
        assert self.experiment.output is not None
        return Path(self.experiment.output)

    @property
    def t_end_ms(self) -> float:
        """Simulation end time: equilibration plus the experiment's duration."""
        return self.cell.equilibration_ms + self.experiment.duration_ms

    def model_path(self) -> Path | None:
        """The biochemical model file, or None for a bundled model (see `model_name`); for a
        COMBINE archive, its SBML model with the SED-ML changes applied, as a cached file."""
        if self.biochemistry is None or self.biochemistry.model in BUNDLED_MODELS:
            return None
        if combine.is_archive(self.biochemistry.model):
            return combine.read(self.biochemistry.model).file()
        return Path(self.biochemistry.model)

    def model_name(self) -> str | None:
        """The bundled model's name, or None for a model file (or no biochemistry)."""
        if self.biochemistry is None or self.biochemistry.model not in BUNDLED_MODELS:
            return None
        return self.biochemistry.model

    def layout_spines(self, built: Spines = None) -> tuple[int, ...]:
        """The cell's spine numbers: as the built cell has them (`built`), else as its cell
        type gives them from the experiment file."""
        if built is not None:
            return tuple(built)
        if self._spine_numbers is None:
            raise ConfigError("cell.spines", "spines known before the cell is built", "placed")
        return self._spine_numbers

    def stimulated_spines(self) -> tuple[int, ...]:
        return tuple(sorted({n for s in self.stimulus for n in s.spines}))

    def instance_spines(self, built: Spines = None) -> tuple[int, ...]:
        """Spines that get a biochemical instance (each created when first needed)."""
        bio = self.biochemistry
        if bio is None:
            return ()
        if bio.instances == "stimulated":
            return self.stimulated_spines()
        if bio.instances == "all":
            return self.layout_spines(built)
        return tuple(sorted(set(bio.instances)))

    def recorded_spines(self, instances: Sequence[int] | None = None) -> tuple[int, ...]:
        """Spines whose head calcium is recorded every record.interval_ms.

        `instances` replaces `instance_spines()` for record.spine_calcium = "instances".
        """
        which = self.record.spine_calcium
        if which == "none":
            return ()
        if which == "instances":
            return self.instance_spines() if instances is None else tuple(instances)
        if which == "stimulated":
            return self.stimulated_spines()
        return tuple(sorted(set(which)))

    def stimulus_times_ms(self) -> dict[int, dict[str, list[float]]]:
        """Spine -> synapse -> sorted unique input times (ms), all stimuli merged."""
        return merged_times(self.stimulus)

    def end_ms(self, duration_ms: float | None = None) -> float:
        """When a run ends (absolute ms): the equilibration, then the experiment's duration
        (or `duration_ms` of it)."""
        duration = self.experiment.duration_ms if duration_ms is None else duration_ms
        return self.cell.equilibration_ms + duration

    def schedule_ms(self) -> list[float]:
        """Sorted unique union of every input time: the windows of the `original` mode."""
        return sorted({t for stim in self.stimulus for t in stimulus_times(stim)})

    def model_names(self) -> dict[str, str]:
        """Key path -> name of each SBML variable the spec refers to (checked by the runner)."""
        bio = self.biochemistry
        if bio is None:
            return {}
        names = {"biochemistry.calcium.species": bio.calcium.species}
        if bio.calcium.parameter is not None:
            names["biochemistry.calcium.parameter"] = bio.calcium.parameter
        for i, name in enumerate(bio.calcium.switch_off):
            names[f"biochemistry.calcium.switch_off[{i}]"] = name
        names["biochemistry.output.variable"] = bio.output.variable
        for key in bio.set:
            names[f"biochemistry.set.{key}"] = key
        for i, name in enumerate(self.record.biochem):
            names[f"record.biochem[{i}]"] = name
        return names

    def check_model_names(
        self,
        known: Iterable[str],
        model: str = "the model",
        candidates: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Raise ExperimentError listing every referenced name that is not in `known`.

        `candidates` suggests names per key path (e.g. the model's calcium-like species)
        where no known name is close to the one given.
        """
        valid = set(known)
        problems = []
        for path, name in self.model_names().items():
            if name not in valid:
                close = close_matches(name, valid, n=3)
                suggested = list((candidates or {}).get(path, ()))
                if close:
                    hint = f" (closest: {', '.join(close)})"
                elif suggested:
                    hint = f" (candidates: {', '.join(suggested[:8])})"
                else:
                    hint = ""
                problems.append(Problem(path, f"an id or name in {model}{hint}", name))
        if problems:
            raise ExperimentError(problems, self.source.name)

    def to_dict(self) -> dict[str, Any]:
        """The resolved experiment as plain JSON-able data (provenance of a results file)."""
        data = self.model_dump(mode="json")
        data["source"] = str(self.source)
        return data

    def summary(self) -> str:
        """A few lines that say what the experiment will do."""
        cell, coupling = self.cell, self.coupling
        times = self.schedule_ms()
        lines = [
            f"experiment {self.name!r} ({self.source})",
            f"  cell: {cell.model}, {self._describe_spines()}, "
            f"dt {cell.dt_ms:g} ms, equilibration {cell.equilibration_ms:g} ms, "
            f"run to {self.t_end_ms:g} ms",
            f"  stimuli: {len(self.stimulus)} on spines {_spines(self.stimulated_spines())}, "
            + (
                f"{len(times)} input times {times[0]:g}..{times[-1]:g} ms" if times else "no inputs"
            ),
        ]
        bio = self.biochemistry
        if bio is None:
            lines.append("  biochemistry: none (electrical only)")
        else:
            lines.append(
                f"  biochemistry: {bio.model}, {len(self.instance_spines())} instances "
                f"({_spines(self.instance_spines())}), calcium {bio.calcium.species!r} by "
                f"{bio.calcium.mode} [{bio.calcium.unit}], weight {bio.output.rule} of "
                f"{bio.output.variable!r}"
            )
            lines.append(f"  coupling: {coupling.mode}")
        lines.append(f"  output: {self.output_path()}")
        return "\n".join(lines)

    def _describe_spines(self) -> str:
        spines = self.cell.spines
        if isinstance(spines, SpineKit):
            if spines.at is not None:
                return f"{len(spines.at)} {spines.kind} spines at listed places"
            return (
                f"{spines.kind} spines on {', '.join(spines.sections or ())} at "
                f"{spines.density_per_um} per um (seed {spines.seed}; placed when built)"
            )
        if spines is None:
            return "no spines"
        layout = spines if isinstance(spines, str) else "list"
        if self._spine_numbers is None:
            return f"layout {layout} (spines placed when the cell is built)"
        return f"layout {layout} ({len(self._spine_numbers)} spines)"


def _spines(numbers: tuple[int, ...]) -> str:
    if not numbers:
        return "none"
    shown = ", ".join(map(str, numbers[:8]))
    return shown + (f", ... ({len(numbers)})" if len(numbers) > 8 else "")
