"""What an experiment checks in its biochemical model once the model is loaded: constructs
the simulator cannot run, names the model does not have and a concentration rate into a
compartment that is not a volume (problems of the file); suspicious values and units taken
from the experiment file (warnings, one line each)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..errors import TimescalesWarning
from ..units import parse, quantity
from .couplings import is_concentration_rate
from .problems import ExperimentError, Problem, Shown

AMOUNT = ".amount"


def model_problems(spec: Any, model: Any, source: Path) -> list[Problem]:
    """Constructs of `model` (read from `source`) its simulator cannot run, one problem each,
    and the names the experiment uses that the model does not have."""
    simulator = spec.biochemistry.simulator
    problems = [
        Problem(
            "biochemistry.model",
            f"a model the simulator {simulator!r} can run",
            Shown(f"{source}: {construct}"),
        )
        for construct in model.unsupported
    ]
    species = model.calcium_candidates() or [
        f"none calcium-like; species: {', '.join(list(model.species)[:8])}"
    ]
    try:
        spec.check_model_names(
            model.known_names(), str(source), {"biochemistry.calcium.species": species}
        )
    except ExperimentError as exc:
        return problems + list(exc.problems)
    return problems + _volume_problems(spec.biochemistry.calcium, model)


def _volume_problems(calcium: Any, model: Any) -> list[Problem]:
    """A concentration rate is spread over the calcium species' compartment, whose size
    must then be a volume."""
    if not is_concentration_rate(calcium):
        return []
    species = model.resolve(calcium.species)
    compartment = model.species_info[species].compartment
    unit = model.variables()[compartment].unit
    if unit and parse(unit).dimensionality == parse("L").dimensionality:
        return []
    size = f"in {unit!r}" if unit else "without a unit"
    allowed = (
        f"an amount per time (e.g. 'molecules/s'): a concentration rate is spread over the "
        f"compartment {compartment} of species {species}, whose size the model gives {size}"
    )
    return [Problem("biochemistry.calcium.unit", allowed, calcium.unit)]


def warn_assumed_units(model: Any, source: Path) -> None:
    """A TimescalesWarning for every unit the model does not declare and the experiment's
    calcium unit gave it."""
    for line in model.assumed_units:
        warnings.warn(
            f"{source}: {line} (biochemistry.calcium.unit)", TimescalesWarning, stacklevel=2
        )


def warn_suspicious(spec: Any, model: Any, source: Path) -> None:
    """A TimescalesWarning for every suspicious value the run would start from: in the
    model file, and negative amounts or concentrations of species in `biochemistry.set`."""
    for line in model.suspicious:
        warnings.warn(f"{source}: {line}", TimescalesWarning, stacklevel=2)
    for key, value in spec.biochemistry.set.items():
        name = model.resolve(key)
        species = name.removesuffix(AMOUNT)
        magnitude = quantity(value)[0] if isinstance(value, str) else value
        if species in model.species and magnitude < 0:
            kind = "amount" if name.endswith(AMOUNT) else "concentration"
            warnings.warn(
                f"{spec.source.name}: biochemistry.set.{key}: a negative initial {kind} of "
                f"species {species} ({value})",
                TimescalesWarning,
                stacklevel=2,
            )
