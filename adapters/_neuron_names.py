"""Resolve `section(x).rangevar` names to NEURON pointers, with their units and roles.

NEURON keeps one pointer per (segment, range variable); a name is parsed and resolved once
and the resulting `Entry` is cached by the adapter. Model objects may define more names
(`timescales_variables()`), which enter through `entry_from_model_var`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from timescales.adapter import ROLES, Role, Variable
from timescales.errors import AdapterError, ModelError, UnknownNameError

#: `section(x).var`; section names may hold dots and brackets (`cell[0].dend[3]`).
_NAME = re.compile(r"^(?P<sec>.+)\((?P<x>[^()]*)\)\.(?P<var>[A-Za-z_]\w*)$")
#: Range variables every segment has, with their role.
_SEGMENT_VARS: dict[str, Role] = {"v": "input", "diam": "parameter", "cm": "parameter"}
#: MechanismStandard vartype -> role (1 PARAMETER, 2 ASSIGNED, 3 STATE).
_VARTYPE_ROLES: dict[int, Role] = {1: "parameter", 2: "output", 3: "input"}


@dataclass(frozen=True, slots=True)
class Entry:
    """A resolved variable: its description and how to read/write it.

    `ref` is a NEURON pointer (bulk access, recording and native watches need one);
    otherwise `getter`/`setter` are called. `section` owns the pointer when known; `key`
    names the pointer (two names of one segment share it). `event_only`: writing it changes
    nothing before the next input event (a NetCon weight).
    """

    variable: Variable
    ref: Any = None
    getter: Callable[[], float] | None = None
    setter: Callable[[float], None] | None = None
    section: Any = None
    key: str = ""
    event_only: bool = False

    def get(self) -> float:
        if self.ref is not None:
            return float(self.ref[0])
        if self.getter is None:
            raise ModelError(f"variable {self.variable.name!r} has neither a pointer nor a getter")
        return float(self.getter())

    def set(self, value: float) -> None:
        if self.ref is not None:
            self.ref[0] = value
        elif self.setter is not None:
            self.setter(value)
        else:
            raise AdapterError(f"variable {self.variable.name!r} has no setter")


def pint_unit(neuron_unit: str) -> str:
    """NEURON's unit text in pint's syntax: "S/cm2" -> "S/cm**2", "/ms" -> "1/ms", "" -> "1"."""
    text = neuron_unit.strip()
    if not text:
        return "1"
    if text.startswith("/"):
        text = "1" + text
    return re.sub(r"([A-Za-z])(\d+)", r"\1**\2", text)


def _by_name(sections: Any) -> dict[str, Any]:
    """Sections by their full names and, where unique, by their names inside their cell."""
    full = {sec.name(): sec for sec in sections}
    short: dict[str, list[Any]] = {}
    for name, sec in full.items():
        cell, dot, inner = name.partition("].")
        if dot and "[" in cell and inner not in full:
            short.setdefault(inner, []).append(sec)
    return {**{k: v[0] for k, v in short.items() if len(v) == 1}, **full}


class NameResolver:
    """Maps names to `Entry`s for the sections currently in NEURON."""

    def __init__(self, h: Any, owner: str) -> None:
        self._h = h
        self._owner = owner
        self._sections: dict[str, Any] = {}
        self._roles: dict[str, dict[str, Role]] = {}

    def clear(self) -> None:
        self._sections.clear()

    def section(self, name: str) -> Any:
        """The section called `name`; refreshes the index once when `name` is not in it.

        A section of a cell object (`MSN[3].soma`) also goes by its name in the cell
        (`soma`) while no other section has that name.
        """
        if name not in self._sections:
            self._sections = _by_name(self._h.allsec())
        try:
            return self._sections[name]
        except KeyError:
            raise UnknownNameError("section", name, self._sections, owner=self._owner) from None

    def parse(self, name: str) -> tuple[str, float, str] | None:
        """(section, x, var) for a `section(x).var` name, or None when `name` is not one."""
        match = _NAME.match(name)
        if match is None:
            return None
        try:
            x = float(match["x"])
        except ValueError:
            raise AdapterError(f"{self._owner}: {name!r}: x must be a number in [0, 1]") from None
        if not 0.0 <= x <= 1.0:
            raise AdapterError(f"{self._owner}: {name!r}: x={x} is outside [0, 1]")
        return match["sec"], x, match["var"]

    def resolve(self, name: str, candidates: list[str]) -> Entry:
        """The entry of `section(x).var`; unknown parts raise UnknownNameError with candidates."""
        parsed = self.parse(name)
        if parsed is None:
            raise UnknownNameError("variable", name, candidates, owner=self._owner)
        sec_name, x, var = parsed
        seg = self.section(sec_name)(x)
        roles = self._segment_roles(seg)
        if var not in roles:
            raise UnknownNameError(
                "range variable", var, roles, owner=f"{self._owner} {sec_name}({x})"
            )
        ref = getattr(seg, f"_ref_{var}")
        variable = Variable(name, self._unit(var), roles[var], f"range variable at {seg}")
        key = f"{sec_name}#{seg.x:.12g}.{var}"
        return Entry(variable, ref=ref, section=seg.sec, key=key)

    def _unit(self, var: str) -> str:
        if var == "v":
            return "mV"
        try:
            return pint_unit(str(self._h.units(var)))
        except RuntimeError:
            return "1"

    def _segment_roles(self, seg: Any) -> dict[str, Role]:
        roles = dict(_SEGMENT_VARS)
        for mech in seg:
            if mech.is_ion():
                ion = mech.name().removesuffix("_ion")
                roles.update(_ion_roles(ion, [rv.name() for rv in mech]))
            else:
                roles.update(self._mechanism_roles(mech.name()))
        return roles

    def _mechanism_roles(self, mech: str) -> dict[str, Role]:
        if mech not in self._roles:
            roles: dict[str, Role] = {}
            text = self._h.ref("")
            for vartype, role in _VARTYPE_ROLES.items():
                standard = self._h.MechanismStandard(mech, vartype)
                for i in range(int(standard.count())):
                    standard.name(text, i)
                    roles[str(text[0])] = role
            self._roles[mech] = roles
        return self._roles[mech]


def _ion_roles(ion: str, names: list[str]) -> dict[str, Role]:
    """Concentrations are states the outside may drive; currents are outputs."""
    roles: dict[str, Role] = {}
    for name in names:
        if name in (f"{ion}i", f"{ion}o"):
            roles[name] = "input"
        elif name == f"e{ion}":
            roles[name] = "parameter"
        else:
            roles[name] = "output"
    return roles


def entry_from_model_var(name: str, spec: object) -> Entry:
    """An entry for a model-defined variable: any object with unit, role, ref, getter, setter."""
    role = getattr(spec, "role", "output")
    if role not in ROLES:
        raise ModelError(f"model variable {name!r}: role must be one of {ROLES}, got {role!r}")
    ref = getattr(spec, "ref", None)
    getter = getattr(spec, "getter", None)
    if ref is None and getter is None:
        raise ModelError(f"model variable {name!r} has neither a pointer (ref) nor a getter")
    unit = str(getattr(spec, "unit", "1") or "1")
    variable = Variable(name, unit, role, str(getattr(spec, "description", "") or ""))
    return Entry(
        variable,
        ref=ref,
        getter=getter,
        setter=getattr(spec, "setter", None),
        section=getattr(spec, "section", None),
        key=name,
        event_only=bool(getattr(spec, "event_only", False)),
    )
