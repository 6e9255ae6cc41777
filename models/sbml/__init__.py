"""SBML spine networks authored by this project, and what a coupling needs to know about them.

`path(name)` finds a shipped file (also inside an installed wheel); `hints` and `describe` read
the coupling hints that every file carries in its model annotation, so they work on any SBML
file authored the same way. Importing this package imports no simulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from timescales.errors import UnknownNameError

from .hints import NAMESPACE, CouplingHints, read_hints

#: Shipped models: catalogue name -> file in this package.
MODELS: dict[str, str] = {
    "spine_network": "spine_network.xml",
    "camkii_simple": "camkii_simple.xml",
}


def names() -> tuple[str, ...]:
    """The catalogue names of the shipped models."""
    return tuple(MODELS)


def path(name: str) -> Path:
    """The file of a shipped model; UnknownNameError lists the catalogue names."""
    if name not in MODELS:
        raise UnknownNameError("SBML model", name, MODELS, owner="timescales.models.sbml")
    return Path(str(files(__name__).joinpath(MODELS[name])))


def _resolve(name_or_path: str | Path) -> Path:
    if isinstance(name_or_path, Path) or Path(name_or_path).suffix:
        return Path(name_or_path)
    return path(name_or_path)


def hints(name_or_path: str | Path) -> CouplingHints:
    """The coupling hints of a shipped model (by name) or of any SBML file (by path)."""
    return read_hints(_resolve(name_or_path))


@dataclass(frozen=True)
class ModelDescription:
    """What `timescales info` shows for an SBML spine network."""

    name: str
    path: Path
    hints: CouplingHints

    def __str__(self) -> str:
        h = self.hints
        return "\n".join(
            (
                f"model:            {self.name} ({self.path})",
                f"calcium species:  {h.calcium_species} (rest {h.rest_calcium_M:g} M)",
                f"input parameter:  {h.input_parameter} [{h.input_unit}]",
                f"output:           {h.output} [{h.output_unit}]",
                f"switched off during input: {', '.join(h.switch_off_parameters)}",
                f"equilibration:    {h.equilibration_s:g} s",
            )
        )


def describe(name_or_path: str | Path) -> ModelDescription:
    """Calcium species, input parameter, output and their units of a model (name or path)."""
    resolved = _resolve(name_or_path)
    name = str(name_or_path) if str(name_or_path) in MODELS else resolved.stem
    return ModelDescription(name=name, path=resolved, hints=read_hints(resolved))


__all__ = [
    "MODELS",
    "NAMESPACE",
    "CouplingHints",
    "ModelDescription",
    "describe",
    "hints",
    "names",
    "path",
]
