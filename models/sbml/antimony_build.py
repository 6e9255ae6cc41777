"""Convert an Antimony model of the project to SBML L3V2 with its notes and coupling hints."""

from __future__ import annotations

from pathlib import Path

import antimony
import libsbml

from timescales.errors import ModelError

from .hints import CouplingHints
from .sbml_build import annotate, serialise


def header_notes(source: str) -> str:
    """The leading '//' comment block of an Antimony text, as plain text for the SBML notes."""
    lines: list[str] = []
    for line in source.splitlines():
        if not line.startswith("//"):
            break
        lines.append(line[2:].removeprefix(" "))
    return "\n".join(lines)


def antimony_sbml(ant_path: Path, hints: CouplingHints) -> str:
    """The SBML text of the Antimony model in `ant_path`, with notes and hints, validated."""
    source = ant_path.read_text(encoding="utf-8")
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(source) < 0:
        raise ModelError(f"{ant_path}: {antimony.getLastError().strip()}")
    text = antimony.getSBMLString(antimony.getMainModuleName())
    document = libsbml.readSBMLFromString(text)
    if document.getModel() is None:
        raise ModelError(f"{ant_path}: Antimony produced no SBML model")
    if (document.getLevel(), document.getVersion()) != (3, 2):
        document.setLevelAndVersion(3, 2)
    annotate(document.getModel(), header_notes(source), hints)
    return serialise(document, str(ant_path))
