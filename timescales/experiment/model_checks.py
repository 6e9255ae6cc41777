"""What an experiment checks in its biochemical model once the model is loaded: constructs
the simulator cannot run and names the model does not have (problems of the file), and
suspicious values (warnings, one line each)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..errors import TimescalesWarning
from ..units import quantity
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
        problems += exc.problems
    return problems


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
