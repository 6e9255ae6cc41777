"""Unit strings parsed once with pint and turned into float factors; time comparisons."""

from __future__ import annotations

import functools
import math
from tokenize import TokenError

import pint

from .errors import UnitError

#: Times closer than this (ms) are the same scheduler time.
TIME_EPS_MS = 1e-9

AVOGADRO = 6.02214076e23

_MOLECULE_DEF = "molecule = mole / 6.02214076e23 = molecules = items = item"


@functools.cache
def registry() -> pint.UnitRegistry:
    """The shared unit registry, with molecule counts (`molecules`, `items`) defined."""
    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define(_MOLECULE_DEF)
    return ureg


def _normalise(unit: str) -> str:
    text = unit.strip()
    if text in ("", "1", "dimensionless"):
        return "dimensionless"
    return text.replace("mol/l", "mol/L").replace("µ", "u")


@functools.cache
def parse(unit: str) -> pint.Unit:
    """Parse a unit string such as "mM", "molecules/s" or "mM/ms"; raise UnitError if unknown."""
    try:
        return registry().Unit(_normalise(unit))
    # pint's parser fails on some malformed strings ("m/", "molecules/(s") with Python's
    # own errors instead of its own
    except (pint.errors.PintError, ValueError, AssertionError, TypeError, TokenError) as exc:
        expected = "a unit pint understands (mM, uM, molecules, ms, ...)"
        raise UnitError("unit", expected, unit) from exc


def quantity(text: str) -> tuple[float, str]:
    """The magnitude and unit of a quantity written as text ("1e-7 M", "250 nM")."""
    number, _, unit = text.strip().partition(" ")
    try:
        magnitude = float(number)
    except ValueError:
        raise UnitError("quantity", "a number followed by a unit, such as '1e-7 M'", text) from None
    parse(unit)
    return magnitude, unit.strip() or "dimensionless"


def in_unit(value: float | str, unit: str) -> float:
    """A number (already in `unit`) or a quantity with its own unit, in `unit`."""
    if not isinstance(value, str):
        return value
    magnitude, own = quantity(value)
    return magnitude * factor(own, unit)


def product(*units: str) -> str:
    """The product of unit strings, each in parentheses; an empty one counts as 1."""
    return " * ".join(f"({_normalise(u)})" for u in units)


def per(unit: str) -> str:
    """The reciprocal of a unit string (an empty one counts as 1)."""
    return f"1 / ({_normalise(unit)})"


def factor(from_unit: str, to_unit: str, what: str = "unit") -> float:
    """Multiplier that converts a value in `from_unit` to `to_unit`.

    Raises UnitError naming both units when their dimensions differ.
    """
    src, dst = parse(from_unit), parse(to_unit)
    try:
        return float(registry().Quantity(1.0, src).to(dst).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise UnitError(
            what,
            f"a unit convertible to {to_unit!r} ({dst.dimensionality})",
            f"{from_unit} ({src.dimensionality})",
        ) from exc


def accumulated(rate_unit: str) -> str:
    """What a rate in `rate_unit` adds up to over time: "molecules/s" -> "molecule",
    "mM/ms" -> "millimolar"."""
    ureg = registry()
    total = ureg.Quantity(1.0, parse(rate_unit)) * ureg.Quantity(1.0, "second")
    return str(total.to_reduced_units().units)


def dimensionality(unit: str) -> str:
    """The dimensionality of a unit as text, e.g. "[substance] / [length] ** 3"."""
    return str(parse(unit).dimensionality)


def is_concentration(unit: str) -> bool:
    return parse(unit).dimensionality == registry().Unit("mM").dimensionality


def is_amount(unit: str) -> bool:
    return parse(unit).dimensionality == registry().Unit("mol").dimensionality


def times_close(a_ms: float, b_ms: float) -> bool:
    """Whether two scheduler times are the same instant (absolute tolerance TIME_EPS_MS)."""
    return math.isclose(a_ms, b_ms, rel_tol=0.0, abs_tol=TIME_EPS_MS)
