"""An SBML model loaded once, validated and prepared for many RoadRunner instances.

`SBMLModel` holds ONE modified SBML string (RoadRunner caches compiled models on the exact
string, so every instance of the model shares a single compile), the variables with their units,
and the inputs the adapter added (flux inputs with series knots, reaction switches).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import libsbml

from timescales import units
from timescales.adapter import Role, Variable
from timescales.errors import ModelError, UnknownNameError

from . import _sbml_checks as checks
from ._sbml_inputs import FluxInput, add_flux_input, add_switch
from ._sbml_source import read_source, validate
from ._sbml_units import UnitText, model_unit, unit_of_id

AMOUNT_SUFFIX = ".amount"
SWITCH_PREFIX = "switch."
_CALCIUM = re.compile(r"^(ca|calcium|ca2|ca2\+|ca\+\+|cai|ca_?free|free_?ca)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Binding:
    """How a variable maps onto RoadRunner: read `selector`, multiply by `factor` for the unit."""

    selector: str
    factor: float = 1.0


@dataclass(frozen=True, slots=True)
class SpeciesInfo:
    id: str
    name: str
    compartment: str
    boundary: bool
    rule: str
    conc_unit: UnitText
    amount_unit: UnitText


@dataclass
class SBMLModel:
    """A validated SBML model with the adapter's inputs added; load with `SBMLModel.load`."""

    sbml: str
    source_name: str
    model_id: str
    species_info: dict[str, SpeciesInfo]
    parameters: tuple[str, ...]
    compartments: tuple[str, ...]
    reactions: tuple[str, ...]
    reaction_names: dict[str, str]
    #: Names and initial values of the parameters and compartments, by id.
    other_names: dict[str, str]
    initial_values: dict[str, float]
    time_unit: UnitText
    ms_per_time_unit: float
    has_events: bool
    time_dependent: bool
    flux_inputs: dict[str, FluxInput]
    switches: dict[str, str]
    series_knots: int
    #: Constructs of the file libRoadRunner cannot run (algebraic rules, delays, fast
    #: reactions), and suspicious values (negative initial amounts), one line each.
    unsupported: tuple[str, ...]
    suspicious: tuple[str, ...]
    #: Units the model does not declare, taken from `load(assume_units=...)` or a flux's unit.
    assumed_units: tuple[str, ...]
    _variables: dict[str, Variable] = field(repr=False)
    _bindings: dict[str, Binding] = field(repr=False)
    #: Per-model facts and objects the adapter keeps in this process (rest state of lazy
    #: instances, a compiled RoadRunner); a pickled copy starts without them.
    cache: dict[object, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "cache": {}}

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(
        cls,
        source: object,
        *,
        flux_inputs: Mapping[str, str] | None = None,
        switches: Sequence[str] = (),
        series_knots: int = 16,
        assume_units: Mapping[str, str] | None = None,
    ) -> SBMLModel:
        """Read, validate and prepare a model.

        `source`: SBML or Antimony file path or text, or a roadrunner.RoadRunner.
        `flux_inputs`: species (id or unique name) -> unit of the input flux ("molecules/s",
        "mol/s", or a concentration rate such as "mM/ms", delivered into the species'
        compartment). `switches`: reactions (ids or unique names) that get an on/off switch.
        `series_knots`: pieces of an input series loaded per integrator restart; more
        pieces mean fewer restarts and a longer rate law evaluated at every solver step.
        `assume_units`: variable name -> the unit it has where the model declares none (e.g.
        the unit an experiment file gives). A flux input into a model that declares no unit
        for its species' amounts (or concentrations, for a concentration rate) takes them
        from the flux's unit. Each unit so taken is a line of `assumed_units`.
        Constructs libRoadRunner cannot run are listed in `unsupported` (an instance of the
        model then fails to load), suspicious values in `suspicious`.
        """
        if series_knots < 1:
            raise ModelError(f"series_knots must be at least 1, got {series_knots}")
        sbml, name = read_source(source)
        doc = validate(sbml, name)
        model = doc.getModel()
        time_dependent = _uses_time(model, sbml)
        unsupported, suspicious = checks.unsupported(model), checks.suspicious(model)
        prepared = _Prepared(model, name, assume_units or {})
        added_inputs = {
            key: prepared.add_flux(key, unit, series_knots)
            for key, unit in (flux_inputs or {}).items()
        }
        added_switches = {prepared.reaction_id(r): "" for r in switches}
        for rid in added_switches:
            added_switches[rid] = add_switch(model, rid)
        text = libsbml.writeSBMLToString(doc)
        variables, bindings = prepared.variables(added_inputs, added_switches)
        time_unit = prepared.time_unit
        return cls(
            sbml=text,
            source_name=name,
            model_id=model.getId() or "model",
            species_info=prepared.species,
            parameters=prepared.parameters,
            compartments=prepared.compartments,
            reactions=prepared.reactions,
            reaction_names=prepared.reaction_names,
            other_names=prepared.other_names,
            initial_values=prepared.initial_values,
            time_unit=time_unit,
            ms_per_time_unit=units.factor(time_unit.text, "ms") * time_unit.factor,
            has_events=model.getNumEvents() > 0,
            time_dependent=time_dependent,
            flux_inputs=added_inputs,
            switches=added_switches,
            series_knots=series_knots,
            unsupported=unsupported,
            suspicious=suspicious,
            assumed_units=tuple(prepared.assumed),
            _variables=variables,
            _bindings=bindings,
        )

    def settled(
        self, duration_ms: float, tolerances: tuple[float, float] | None = None
    ) -> SBMLModel:
        """This model with the state it reaches after `duration_ms` without input as its
        initial state (in the adapter's copy; still one SBML string for all instances).

        Lazy instances of a settled model at rest need no RoadRunner. Refused for models with
        events or time-dependent math, whose rest is not a fixed state.
        """
        if self.time_dependent:
            raise ModelError(
                f"{self.source_name}: events or time-dependent math; its rest is not a fixed state"
            )
        from ._imports import import_roadrunner

        runner = import_roadrunner().RoadRunner(self.sbml)
        if tolerances is not None:
            runner.integrator.setValue("relative_tolerance", float(tolerances[0]))
            runner.integrator.setValue("absolute_tolerance", float(tolerances[1]))
        runner.integrator.integrate(0.0, duration_ms / self.ms_per_time_unit)
        doc = libsbml.readSBMLFromString(self.sbml)
        model = doc.getModel()
        for info in self.species_info.values():
            if info.rule == "assignment":
                continue
            model.removeInitialAssignment(info.id)
            species = model.getSpecies(info.id)
            if species.isSetInitialConcentration():
                species.setInitialConcentration(runner.getValue(f"[{info.id}]"))
            else:
                species.setInitialAmount(runner.getValue(info.id))
        for i in range(model.getNumRules()):
            rule = model.getRule(i)
            element = model.getElementBySId(rule.getVariable())
            if not rule.isRate() or element is None:
                continue
            model.removeInitialAssignment(rule.getVariable())
            value = runner.getValue(rule.getVariable())
            if isinstance(element, libsbml.Parameter):
                element.setValue(value)
            elif isinstance(element, libsbml.Compartment):
                element.setSize(value)
        return dataclasses.replace(self, sbml=libsbml.writeSBMLToString(doc), cache={})

    # ----------------------------------------------------------------- queries
    @property
    def species(self) -> tuple[str, ...]:
        return tuple(self.species_info)

    def variables(self) -> Mapping[str, Variable]:
        return self._variables

    def binding(self, name: str) -> Binding:
        return self._bindings[name]

    def flux_parameter(self, key: str) -> str:
        """Variable name (parameter id) of the flux input requested as `key` (or its species)."""
        if key in self.flux_inputs:
            return self.flux_inputs[key].parameter
        for flux in self.flux_inputs.values():
            if key == flux.species:
                return flux.parameter
        raise UnknownNameError("flux input", key, self.flux_inputs, owner=self.source_name)

    def flux_input(self, parameter: str) -> FluxInput | None:
        """The flux input whose rate parameter is `parameter`, if any."""
        for flux in self.flux_inputs.values():
            if flux.parameter == parameter:
                return flux
        return None

    def resolve(self, name: str) -> str:
        """Variable name for an id or a unique name of a species (`name.amount` too), reaction,
        parameter or compartment."""
        if name in self._variables:
            return name
        base, suffix = (
            (name[: -len(AMOUNT_SUFFIX)], AMOUNT_SUFFIX)
            if name.endswith(AMOUNT_SUFFIX)
            else (name, "")
        )
        matches = [s.id for s in self.species_info.values() if s.name == base]
        if not suffix:
            named = {**self.reaction_names, **self.other_names}
            matches += [i for i, n in named.items() if n == base and i in self._variables]
        if len(matches) == 1:
            return matches[0] + suffix
        if len(matches) > 1:
            raise ModelError(
                f"{self.source_name}: name {name!r} is ambiguous ({', '.join(matches)}); use an id"
            )
        raise UnknownNameError("variable", name, self.known_names(), owner=self.source_name)

    def known_names(self) -> list[str]:
        """Every id and name an experiment may use for a variable of this model."""
        names = [s.name for s in self.species_info.values() if s.name]
        names += [n for n in (*self.reaction_names.values(), *self.other_names.values()) if n]
        return [*self._variables, *dict.fromkeys(names)]

    def calcium_candidates(self) -> list[str]:
        """Species whose id or name looks like calcium (ca, Ca2+, calcium, ...)."""
        return [
            s.id
            for s in self.species_info.values()
            if _CALCIUM.match(s.id) or _CALCIUM.match(s.name) or "calcium" in s.name.lower()
        ]

    def describe(self) -> dict[str, Any]:
        """A summary for `timescales info`: species with units, reactions, compartments..."""
        return {
            "source": self.source_name,
            "model_id": self.model_id,
            "time_unit": self.time_unit.text or "second (undeclared)",
            "species": [
                {
                    "id": s.id,
                    "name": s.name,
                    "compartment": s.compartment,
                    "unit": s.conc_unit.text,
                    "amount_unit": s.amount_unit.text,
                    "boundary": s.boundary,
                    "rule": s.rule,
                }
                for s in self.species_info.values()
            ],
            "reactions": [{"id": r, "name": self.reaction_names[r]} for r in self.reactions],
            "compartments": [self._describe(c) for c in self.compartments],
            "parameters": [self._describe(p) for p in self.parameters],
            "calcium_candidates": self.calcium_candidates(),
            "flux_inputs": {k: f.parameter for k, f in self.flux_inputs.items()},
            "switches": [SWITCH_PREFIX + r for r in self.switches],
            "has_events": self.has_events,
            "unsupported": list(self.unsupported),
            "suspicious": list(self.suspicious),
        }

    def _describe(self, ident: str) -> dict[str, Any]:
        return {
            "id": ident,
            "name": self.other_names.get(ident, ""),
            "value": self.initial_values.get(ident),
            "unit": self._variables[ident].unit,
        }


def _uses_time(model: libsbml.Model, sbml: str) -> bool:
    """Whether the model has events, or math (anywhere) with the time or delay csymbol."""
    return model.getNumEvents() > 0 or any(
        f"sbml/symbols/{symbol}" in sbml for symbol in ("time", "delay")
    )


class _Prepared:
    """Facts gathered from the libsbml model while it is being edited."""

    def __init__(self, model: libsbml.Model, name: str, assume: Mapping[str, str]) -> None:
        self.model = model
        self.name = name
        self.assume = assume
        self.assumed: list[str] = []
        self.rules = {
            model.getRule(i).getVariable(): (
                "assignment" if model.getRule(i).isAssignment() else "rate"
            )
            for i in range(model.getNumRules())
            if model.getRule(i).getVariable()
        }
        self.time_unit = model_unit(model, "time")
        if not self.time_unit.declared:
            self.time_unit = UnitText("second")
        self.substance = model_unit(model, "substance")
        self.extent = model_unit(model, "extent")
        self.compartment_units = {
            c.getId(): self._compartment_unit(c) for c in model.getListOfCompartments()
        }
        self.species = {s.getId(): self._species(s) for s in model.getListOfSpecies()}
        self.parameters = tuple(p.getId() for p in model.getListOfParameters())
        self.compartments = tuple(self.compartment_units)
        self.reactions = tuple(r.getId() for r in model.getListOfReactions())
        self.reaction_names = {r.getId(): r.getName() for r in model.getListOfReactions()}
        others = [*model.getListOfParameters(), *model.getListOfCompartments()]
        self.other_names = {x.getId(): x.getName() for x in others}
        self.initial_values = {p.getId(): p.getValue() for p in model.getListOfParameters()}
        self.initial_values |= {c.getId(): c.getSize() for c in model.getListOfCompartments()}

    def _compartment_unit(self, comp: libsbml.Compartment) -> UnitText:
        if comp.isSetUnits():
            return unit_of_id(self.model, comp.getUnits())
        dims = comp.getSpatialDimensionsAsDouble() if comp.isSetSpatialDimensions() else 3.0
        which = {3.0: "volume", 2.0: "area", 1.0: "length"}.get(dims, "")
        return model_unit(self.model, which) if which else UnitText("dimensionless")

    def _species(self, sp: libsbml.Species) -> SpeciesInfo:
        amount = (
            unit_of_id(self.model, sp.getSubstanceUnits())
            if sp.isSetSubstanceUnits()
            else self.substance
        )
        comp_unit = self.compartment_units.get(sp.getCompartment(), UnitText(""))
        return SpeciesInfo(
            id=sp.getId(),
            name=sp.getName(),
            compartment=sp.getCompartment(),
            boundary=sp.getBoundaryCondition(),
            rule=self.rules.get(sp.getId(), ""),
            conc_unit=amount.over(comp_unit),
            amount_unit=amount,
        )

    def species_id(self, name: str) -> str:
        if name in self.species:
            return name
        matches = [s.id for s in self.species.values() if s.name == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ModelError(
                f"{self.name}: species name {name!r} is ambiguous ({', '.join(matches)})"
            )
        calcium = [
            s.id for s in self.species.values() if _CALCIUM.match(s.name) or _CALCIUM.match(s.id)
        ]
        names = [f"{s.id} ({s.name})" if s.name else s.id for s in self.species.values()]
        hint = (
            f"; calcium-like species: {', '.join(calcium)}"
            if calcium
            else "; no calcium-like species"
        )
        err = UnknownNameError(
            "species",
            name,
            [*self.species, *[s.name for s in self.species.values() if s.name]],
            owner=self.name,
        )
        raise ModelError(
            f"{err}{hint}; species of the model: {', '.join(names[:20])}"
            + (" ..." if len(names) > 20 else "")
        ) from None

    def reaction_id(self, name: str) -> str:
        if name in self.reaction_names:
            return name
        matches = [rid for rid, rname in self.reaction_names.items() if rname == name]
        if len(matches) == 1:
            return matches[0]
        raise UnknownNameError(
            "reaction", name, [*self.reaction_names, *self.reaction_names.values()], owner=self.name
        )

    def add_flux(self, key: str, unit: str, knots: int) -> FluxInput:
        sid = self.species_id(key)
        info = self.species[sid]
        if info.boundary or info.rule:
            why = "a boundary species" if info.boundary else f"set by a {info.rule} rule"
            raise ModelError(
                f"{self.name}: species {sid} is {why}, so a reaction flux cannot change it; "
                "set its value instead"
            )
        scale = self._flux_scale(sid, unit)
        return add_flux_input(self.model, key, sid, unit, scale, knots)

    def _flux_scale(self, sid: str, unit: str) -> str:
        """Formula turning a flux in `unit` into the model's extent per time unit.

        Where the model declares no unit for the species' amounts (an amount rate) or
        concentrations (a concentration rate), the flux's amount or concentration unit is
        taken as the model's (an entry of `assumed`).
        """
        info = self.species[sid]
        if not units.parse(unit).dimensionality or unit.strip() in ("", "1"):
            return "1"
        per_time = self.extent.over(self.time_unit)
        if units.is_amount(f"({unit}) * s"):
            if not per_time.declared:
                per_time = self._taken(unit, f"amount unit for species {sid}")
            return repr(units.factor(unit, per_time.text, f"flux into {sid}") / per_time.factor)
        per_volume = per_time.over(self.compartment_units[info.compartment])
        if not per_volume.declared:
            per_volume = self._taken(unit, f"concentration unit for species {sid}")
        value = units.factor(unit, per_volume.text, f"flux into {sid}") / per_volume.factor
        return f"{value!r} * {info.compartment}"

    def _taken(self, rate_unit: str, what: str) -> UnitText:
        """The model's unit per time unit, where it declares no `what`: what a rate in
        `rate_unit` accumulates to (e.g. 'molecule' for 'molecules/s')."""
        accumulated = units.accumulated(rate_unit)
        self.assumed.append(
            f"the model declares no {what}: taken as {accumulated!r}, from the flux's unit "
            f"{rate_unit!r}"
        )
        return UnitText(f"({accumulated}) / {self.time_unit.text}", 1.0 / self.time_unit.factor)

    def variables(
        self, inputs: Mapping[str, FluxInput], switches: Mapping[str, str]
    ) -> tuple[dict[str, Variable], dict[str, Binding]]:
        variables: dict[str, Variable] = {}
        bindings: dict[str, Binding] = {}

        def add(name: str, unit: UnitText, role: Role, selector: str, text: str) -> None:
            if not unit.declared and name in self.assume:
                unit = UnitText(self.assume[name])
                self.assumed.append(f"{name} declares no unit: taken as {unit.text!r}")
            variables[name] = Variable(name, unit.text, role, text)
            bindings[name] = Binding(selector, unit.factor)

        for s in self.species.values():
            role: Role = "output" if s.rule == "assignment" else "input"
            label = f"{s.name or s.id}{' (boundary)' if s.boundary else ''}"
            add(s.id, s.conc_unit, role, f"[{s.id}]", f"concentration of {label}")
            add(s.id + AMOUNT_SUFFIX, s.amount_unit, role, s.id, f"amount of {label}")
        for cid in self.compartments:
            add(cid, self.compartment_units[cid], self._role(cid), cid, "compartment size")
        for pid in self.parameters:
            p = self.model.getParameter(pid)
            unit = unit_of_id(self.model, p.getUnits()) if p.isSetUnits() else UnitText("")
            add(pid, unit, self._role(pid), pid, p.getName() or "parameter")
        for flux in inputs.values():
            add(
                flux.parameter,
                UnitText(flux.unit),
                "input",
                flux.parameter,
                f"input flux into {flux.species}",
            )
        for rid, pid in switches.items():
            add(
                SWITCH_PREFIX + rid,
                UnitText("dimensionless"),
                "parameter",
                pid,
                f"1 = {rid} on, 0 = off",
            )
        rate_unit = self.extent.over(self.time_unit)
        for rid in self.reactions:
            add(rid, rate_unit, "output", rid, f"rate of {self.reaction_names[rid] or rid}")
        for name in set(self.assume) - set(variables):
            raise UnknownNameError("variable", name, variables, owner=self.name)
        return variables, bindings

    def _role(self, sid: str) -> Role:
        rule = self.rules.get(sid, "")
        if rule == "assignment":
            return "output"
        if rule == "rate":
            return "input"
        return "parameter"
