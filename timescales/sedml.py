"""The model changes a SED-ML document sets on an SBML file, and their application.

A SED-ML `<model>` names its SBML file (`source`, relative to the SED-ML file, or `#id` of
another SED-ML model it starts from) and lists changes. Those that set a model's numbers
are applied: a `changeAttribute` of a parameter's value, a species' initial amount or
concentration, or a compartment's size, its target an XPath such as
`/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='k1']/@value`. Any other
change (new XML, removed XML, computed values) would run a different model than the one
described, so it is an error rather than skipped. python-libsedml reads the documents and
libsbml applies the changes; both are imported when first needed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .errors import ArchiveError
from .optional import require

TARGET = re.compile(
    r"/(?:\w+:)?(?P<kind>parameter|species|compartment)"
    r"\[@(?P<key>id|name)=(?P<quote>['\"])(?P<ident>.+?)(?P=quote)\]/@(?P<attribute>\w+)$"
)
#: (element kind, attribute) -> the libsbml getter and setter of that number.
NUMBERS = {
    ("parameter", "value"): ("getValue", "setValue"),
    ("species", "initialConcentration"): ("getInitialConcentration", "setInitialConcentration"),
    ("species", "initialAmount"): ("getInitialAmount", "setInitialAmount"),
    ("compartment", "size"): ("getSize", "setSize"),
    ("compartment", "volume"): ("getSize", "setSize"),
}
SUPPORTED = (
    "a changeAttribute of a parameter's value, a species' initialAmount or "
    "initialConcentration, or a compartment's size"
)


@dataclass(frozen=True, slots=True)
class Change:
    """One number of the SBML file set by a SED-ML model (`old`: the file's own value)."""

    sedml: str
    model: str
    kind: str
    ident: str
    attribute: str
    value: float
    by_name: bool = False
    old: float | None = None

    def describe(self) -> str:
        name = f"{self.kind} named {self.ident!r}" if self.by_name else self.ident
        was = "" if self.old is None else f"{self.old:g} -> "
        return f"{name}.{self.attribute}: {was}{self.value:g}"


@dataclass(frozen=True, slots=True)
class ModelChanges:
    """The SED-ML model applied to an SBML file, its changes, and the others on that file."""

    sedml: str | None = None
    model: str | None = None
    changes: tuple[Change, ...] = ()
    others: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _SedChange:
    """A SED-ML change as read (plain data: libsedml's objects die with their document)."""

    element: str
    target: str
    new_value: str
    is_attribute: bool


@dataclass(frozen=True, slots=True)
class _SedModel:
    source: str
    changes: tuple[_SedChange, ...]


def changes_for(entry: str, documents: Mapping[str, str], where: str) -> ModelChanges:
    """The changes of the first SED-ML model whose source is `entry` (an archive location).

    `documents` maps the location of each SED-ML file to its text, in the order to search
    (the master file first). A model that starts from another (`source="#id"`) gets that
    model's changes first. `where` names the archive in errors.
    """
    found: list[tuple[str, str, list[_SedChange]]] = []
    for location, text in documents.items():
        models = _models(location, text, where)
        for model_id in models:
            source, sed_changes = _chain(model_id, models, location)
            if source == entry:
                found.append((location, model_id, sed_changes))
    if not found:
        return ModelChanges()
    location, model_id, sed_changes = found[0]
    others = tuple(f"{loc}: {mid}" for loc, mid, _ in found[1:])
    changes = tuple(
        _change(location, model_id, i, change, where) for i, change in enumerate(sed_changes)
    )
    return ModelChanges(location, model_id, changes, others)


def apply(sbml: str, name: str, changes: Sequence[Change]) -> tuple[str, tuple[Change, ...]]:
    """The SBML text with `changes` applied, and the changes with the file's old values."""
    if not changes:
        return sbml, ()
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    errors = [
        doc.getError(i)
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors or doc.getModel() is None:
        first = errors[0].getMessage().strip().splitlines()[0] if errors else "no model"
        raise ArchiveError(name, "an SBML file", f"unreadable SBML ({first})")
    applied = tuple(_apply_one(doc.getModel(), change, name) for change in changes)
    return libsbml.writeSBMLToString(doc), applied


def _models(location: str, text: str, where: str) -> dict[str, _SedModel]:
    """The models of a SED-ML document by id, as plain data."""
    libsedml = require("libsedml", "python-libsedml", "combine", "an archive's SED-ML")

    doc = libsedml.readSedMLFromString(text)
    errors = [
        doc.getError(i)
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsedml.LIBSEDML_SEV_ERROR
    ]
    if errors:
        message = errors[0].getMessage().strip().splitlines()[0]
        raise ArchiveError(f"{where}#{location}", "a SED-ML document", f"errors ({message})")
    models = {}
    for model in (doc.getModel(i) for i in range(doc.getNumModels())):
        changes = tuple(
            _SedChange(
                change.getElementName(),
                change.getTarget(),
                change.getNewValue() if hasattr(change, "getNewValue") else "",
                change.getTypeCode() == libsedml.SEDML_CHANGE_ATTRIBUTE,
            )
            for change in (model.getChange(j) for j in range(model.getNumChanges()))
        )
        models[model.getId()] = _SedModel(model.getSource(), changes)
    return models


def _chain(
    model_id: str, models: Mapping[str, _SedModel], location: str
) -> tuple[str, list[_SedChange]]:
    """(the archive location a model's sources lead to, or "", its changes, base first)."""
    changes: list[_SedChange] = []
    seen: set[str] = set()
    model = models[model_id]
    while True:
        changes = list(model.changes) + changes
        if not model.source.startswith("#"):
            break
        seen.add(model_id)
        model_id = model.source[1:]
        if model_id not in models or model_id in seen:
            return "", []
        model = models[model_id]
    if ":" in model.source.split("/", 1)[0]:  # urn:miriam:..., https://...: not in the archive
        return "", []
    path = posixpath.normpath(posixpath.join(posixpath.dirname(location), model.source))
    return path.lstrip("/"), changes


def _change(location: str, model_id: str, index: int, change: _SedChange, where: str) -> Change:
    match = TARGET.search(change.target) if change.is_attribute else None
    key = (match["kind"], match["attribute"]) if match else None
    if match is None or key not in NUMBERS:
        raise ArchiveError(
            f"{where}#{location}",
            f"in model {model_id!r}, change {index + 1}: {SUPPORTED}",
            f"a {change.element} of {change.target!r}",
        )
    try:
        value = float(change.new_value)
    except ValueError:
        raise ArchiveError(
            f"{where}#{location}",
            f"in model {model_id!r}, change {index + 1}: a number as newValue",
            repr(change.new_value),
        ) from None
    return Change(
        location, model_id, match["kind"], match["ident"], match["attribute"], value,
        by_name=match["key"] == "name",
    )  # fmt: skip


def _apply_one(model: Any, change: Change, name: str) -> Change:
    element = _element(model, change)
    if element is None:
        how = "named" if change.by_name else "with id"
        raise ArchiveError(
            name,
            f"a {change.kind} {how} {change.ident!r} (model {change.model!r} of "
            f"{change.sedml} changes it)",
            "none in the SBML file",
        )
    getter, setter = NUMBERS[(change.kind, change.attribute)]
    old = float(getattr(element, getter)())
    if change.kind == "species":
        element.unsetInitialAmount()
        element.unsetInitialConcentration()
    getattr(element, setter)(change.value)
    return replace(change, old=old)


def _element(model: Any, change: Change) -> Any:
    elements = {
        "parameter": model.getListOfParameters(),
        "species": model.getListOfSpecies(),
        "compartment": model.getListOfCompartments(),
    }[change.kind]
    for element in elements:
        if (element.getName() if change.by_name else element.getId()) == change.ident:
            return element
    return None
