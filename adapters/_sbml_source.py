"""Turn what a user hands over (SBML file or text, Antimony file or text, a RoadRunner) into
validated SBML text, with errors that name the file, the line and libsbml's message."""

from __future__ import annotations

import os
from pathlib import Path

import libsbml

from timescales.errors import ModelError

STRING_NAME = "<string>"
#: Longest text treated as a possible file name rather than as model text.
_MAX_PATH_CHARS = 4096


def read_source(source: object) -> tuple[str, str]:
    """(SBML text, source name for messages) from a path, SBML/Antimony text or a RoadRunner."""
    if hasattr(source, "getCurrentSBML"):
        return str(source.getCurrentSBML()), f"<RoadRunner {source.getModelId() or 'model'}>"
    if isinstance(source, os.PathLike) or _looks_like_path(source):
        path = Path(source)
        if not path.is_file():
            raise ModelError(f"{path}: no such model file")
        text = path.read_text(encoding="utf-8", errors="replace")
        return _as_sbml(text, str(path)), str(path)
    if isinstance(source, str):
        return _as_sbml(source, STRING_NAME), STRING_NAME
    raise ModelError(
        "model source: expected an SBML or Antimony file path, SBML or Antimony text, "
        f"or a roadrunner.RoadRunner; got {type(source).__name__}"
    )


def _looks_like_path(source: object) -> bool:
    if not isinstance(source, str) or "\n" in source or len(source) > _MAX_PATH_CHARS:
        return False
    text = source.strip()
    return not text.startswith("<") and (
        os.path.exists(text) or text.endswith((".xml", ".sbml", ".ant", ".txt"))
    )


def _as_sbml(text: str, name: str) -> str:
    """SBML text as is; anything else is read as Antimony and translated."""
    if text.lstrip().startswith("<"):
        return text
    return antimony_to_sbml(text, name)


def antimony_to_sbml(text: str, name: str = STRING_NAME) -> str:
    """Translate Antimony text with the `antimony` package (no tellurium needed)."""
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        message = (antimony.getLastError() or "unknown error").strip()
        raise ModelError(f"{name}: not valid SBML (no XML) nor valid Antimony: {message}")
    sbml = antimony.getSBMLString(antimony.getMainModuleName())
    if not sbml:
        raise ModelError(f"{name}: Antimony text defines no model")
    return sbml


def validate(sbml: str, name: str) -> libsbml.SBMLDocument:
    """Parse and check the SBML; raise ModelError naming file, line and message on errors.

    Reading errors and consistency errors of severity error or fatal count; unit-consistency
    checks are off (many published models, BioModels included, are loose about units).
    """
    doc = libsbml.readSBMLFromString(sbml)
    _raise_on_errors(doc, name, "is not readable SBML")
    if doc.getModel() is None:
        raise ModelError(f"{name}: the SBML document contains no model")
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_MODELING_PRACTICE, False)
    doc.checkConsistency()
    _raise_on_errors(doc, name, "is not valid SBML")
    return doc


def _raise_on_errors(doc: libsbml.SBMLDocument, name: str, what: str) -> None:
    errors = [
        doc.getError(i)
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if not errors:
        return
    lines = [f"{name}, line {e.getLine()}: {e.getMessage().strip()}" for e in errors[:5]]
    more = f"\n... and {len(errors) - 5} more" if len(errors) > 5 else ""
    raise ModelError(f"{name} {what} ({len(errors)} error(s)):\n" + "\n".join(lines) + more)
