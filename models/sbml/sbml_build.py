"""libsbml helpers shared by the model generators: units, math, notes, hints, serialisation."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import libsbml

from timescales.errors import ModelError

from .hints import CouplingHints

#: Unit strings of the data tables -> (SBML unit id, [(base unit, exponent), ...]).
UNITS: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    "1": ("dimensionless", ()),
    "1/s": ("per_second", ((libsbml.UNIT_KIND_SECOND, -1),)),
    "M": ("molar", ((libsbml.UNIT_KIND_MOLE, 1), (libsbml.UNIT_KIND_LITRE, -1))),
    "M/s": (
        "molar_per_second",
        (
            (libsbml.UNIT_KIND_MOLE, 1),
            (libsbml.UNIT_KIND_LITRE, -1),
            (libsbml.UNIT_KIND_SECOND, -1),
        ),
    ),
    "1/(M*s)": (
        "per_molar_per_second",
        (
            (libsbml.UNIT_KIND_LITRE, 1),
            (libsbml.UNIT_KIND_MOLE, -1),
            (libsbml.UNIT_KIND_SECOND, -1),
        ),
    ),
    "molecules/s": (
        "item_per_second",
        ((libsbml.UNIT_KIND_ITEM, 1), (libsbml.UNIT_KIND_SECOND, -1)),
    ),
    "molecules/mol": ("item_per_mole", ((libsbml.UNIT_KIND_ITEM, 1), (libsbml.UNIT_KIND_MOLE, -1))),
}

_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")


def check(status: int, what: str) -> None:
    """Raise ModelError when a libsbml setter did not succeed."""
    if status != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelError(f"libsbml refused {what}: {libsbml.OperationReturnValue_toString(status)}")


def unit_id(unit: str) -> str:
    """The SBML unit id of a unit string used in the data tables."""
    if unit not in UNITS:
        raise ModelError(f"unit {unit!r} is not one of {sorted(UNITS)}")
    return UNITS[unit][0]


def add_unit_definitions(model: libsbml.Model, units: Iterable[str]) -> None:
    """Define every non-builtin unit among `units` once, in the order of UNITS."""
    wanted = set(units)
    for text, (sid, parts) in UNITS.items():
        if text not in wanted or not parts:
            continue
        definition = model.createUnitDefinition()
        check(definition.setId(sid), f"unit definition {sid}")
        for kind, exponent in parts:
            unit = definition.createUnit()
            unit.setKind(kind)
            unit.setExponent(exponent)
            unit.setScale(0)
            unit.setMultiplier(1.0)


def _mark_numbers_dimensionless(node: libsbml.ASTNode) -> None:
    if node.isNumber() and not node.hasUnits():
        node.setUnits("dimensionless")
    for i in range(node.getNumChildren()):
        _mark_numbers_dimensionless(node.getChild(i))


def parse_math(
    formula: str, molar_species: Iterable[str] = (), avogadro: str = "N_A"
) -> libsbml.ASTNode:
    """Parse an infix formula; species in `molar_species` are read as concentrations in M.

    A species symbol of a model whose substance unit is the item means items/L, so it is
    replaced by `(X / N_A)`. Bare numbers get the unit dimensionless, so units check fully.
    """
    convert = set(molar_species)
    text = _IDENTIFIER.sub(
        lambda m: f"({m.group(0)} / {avogadro})" if m.group(0) in convert else m.group(0), formula
    )
    node = libsbml.parseL3Formula(text)
    if node is None:
        raise ModelError(f"cannot parse formula {formula!r}: {libsbml.getLastParseL3Error()}")
    _mark_numbers_dimensionless(node)
    return node


def _list_items(lines: list[str]) -> list[str]:
    items: list[str] = []
    for line in lines:
        if line.startswith("- "):
            items.append(line[2:].strip())
        else:
            items[-1] += " " + line.strip()
    return items


def notes_xhtml(text: str) -> str:
    """XHTML notes from plain text: blank lines separate paragraphs, '- ' lines form lists."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    parts = []
    for block in blocks:
        lines = block.strip("\n").splitlines()
        if lines[0].startswith("- "):
            body = "".join(f"<li>{html.escape(item)}</li>" for item in _list_items(lines))
            parts.append(f"<ul>{body}</ul>")
        else:
            parts.append(f"<p>{html.escape(' '.join(line.strip() for line in lines))}</p>")
    return '<body xmlns="http://www.w3.org/1999/xhtml">' + "".join(parts) + "</body>"


def annotate(model: libsbml.Model, notes_text: str, hints: CouplingHints) -> None:
    """Attach the human-readable notes and the machine-readable coupling hints to a model."""
    check(model.setNotes(notes_xhtml(notes_text)), "the model notes")
    check(model.appendAnnotation(hints.to_xml()), "the coupling-hints annotation")


def serialise(document: libsbml.SBMLDocument, source: str) -> str:
    """The document as an SBML string; ModelError if libsbml finds errors (not warnings)."""
    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    document.checkConsistency()
    errors = [
        document.getError(i)
        for i in range(document.getNumErrors())
        if document.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors:
        listed = "; ".join(f"{e.getErrorId()}: {e.getMessage().strip()}" for e in errors[:5])
        raise ModelError(f"{source}: {len(errors)} SBML error(s): {listed}")
    return libsbml.writeSBMLToString(document)
