"""SBML unit definitions as unit strings that timescales.units.parse accepts, plus a factor.

A unit such as "60 seconds" (minute) or "1e-3 mole" (mmol) becomes ("minute", 1.0) or
("millimole", 1.0); one that has no pint name keeps its base kinds and a numeric factor, so that
value_in_string_unit = model_value * factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import libsbml

from timescales import units

_PREFIXES = {
    -15: "femto",
    -12: "pico",
    -9: "nano",
    -6: "micro",
    -3: "milli",
    -2: "centi",
    -1: "deci",
    0: "",
    3: "kilo",
}
_TIME_NAMES = {60.0: "minute", 3600.0: "hour", 86400.0: "day"}
_KIND_NAMES = {"item": "molecule", "avogadro": "avogadro_number", "celsius": "kelvin"}
#: L1/L2 defaults of the built-in unit ids substance, volume, area, length and time.
_L2_DEFAULTS = {
    "substance": ((libsbml.UNIT_KIND_MOLE, 1.0),),
    "volume": ((libsbml.UNIT_KIND_LITRE, 1.0),),
    "area": ((libsbml.UNIT_KIND_METRE, 2.0),),
    "length": ((libsbml.UNIT_KIND_METRE, 1.0),),
    "time": ((libsbml.UNIT_KIND_SECOND, 1.0),),
}


@dataclass(frozen=True, slots=True)
class UnitText:
    """A unit as text (parseable by timescales.units.parse) and model-value-to-text factor.

    `text` is "" when the model leaves the unit undeclared.
    """

    text: str
    factor: float = 1.0

    @property
    def declared(self) -> bool:
        return bool(self.text)

    def over(self, other: UnitText) -> UnitText:
        """This unit divided by `other` (undeclared if either is)."""
        if not (self.declared and other.declared):
            return UnitText("")
        return UnitText(f"{_group(self.text)} / {_group(other.text)}", self.factor / other.factor)


def _group(text: str) -> str:
    return text if text.isidentifier() else f"({text})"


def unit_of_id(model: libsbml.Model, unit_id: str) -> UnitText:
    """The unit named `unit_id` in `model`: a unit definition, a base kind or an L2 default."""
    if not unit_id:
        return UnitText("")
    definition = model.getUnitDefinition(unit_id)
    if definition is not None:
        return from_definition(definition)
    level, version = model.getLevel(), model.getVersion()
    if libsbml.UnitKind_isValidUnitKindString(unit_id, level, version):
        return _from_terms(((libsbml.UnitKind_forName(unit_id), 1.0, 0, 1.0),))
    if unit_id in _L2_DEFAULTS:
        return _from_terms(tuple((k, e, 0, 1.0) for k, e in _L2_DEFAULTS[unit_id]))
    return UnitText("")


def model_unit(model: libsbml.Model, which: str) -> UnitText:
    """The model-wide unit `which` ("substance", "volume", "area", "length", "time", "extent")."""
    if model.getLevel() >= 3:
        getter = getattr(model, f"get{which.capitalize()}Units")
        unit_id = getter()
        if which == "extent" and not unit_id:
            unit_id = model.getSubstanceUnits()
        return unit_of_id(model, unit_id)
    return unit_of_id(model, "substance" if which == "extent" else which)


def from_definition(definition: libsbml.UnitDefinition) -> UnitText:
    units_ = definition.getListOfUnits()
    terms = tuple(
        (u.getKind(), float(u.getExponentAsDouble()), int(u.getScale()), float(u.getMultiplier()))
        for u in units_
    )
    return _from_terms(terms)


def _from_terms(terms: tuple[tuple[int, float, int, float], ...]) -> UnitText:
    numerator: list[str] = []
    denominator: list[str] = []
    factor = 1.0
    for kind, exponent, scale, multiplier in terms:
        kind_name = libsbml.UnitKind_toString(kind)
        if kind_name == "dimensionless":
            factor *= (multiplier * 10.0**scale) ** exponent
            continue
        name, leftover = _name(_KIND_NAMES.get(kind_name, kind_name), scale, multiplier)
        factor *= leftover**exponent
        power = abs(exponent)
        term = name if power == 1 else f"{name}**{power:g}"
        (numerator if exponent > 0 else denominator).append(term)
    top = " * ".join(numerator) or "1"
    text = top if not denominator else f"{top} / ({' * '.join(denominator)})"
    if text == "1":
        text = "dimensionless"
    units.parse(text)
    return UnitText(text, factor)


def _name(kind: str, scale: int, multiplier: float) -> tuple[str, float]:
    """A pint name for multiplier * 10**scale * kind, and the factor left over."""
    if multiplier == 1.0 and scale in _PREFIXES:
        return _PREFIXES[scale] + kind, 1.0
    size = multiplier * 10.0**scale
    if kind == "second":
        for seconds, name in _TIME_NAMES.items():
            if math.isclose(size, seconds, rel_tol=1e-12):
                return name, 1.0
    return kind, size
