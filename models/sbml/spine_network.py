"""Build the study's per-spine network (biomd183_loop) as SBML L3V2 from the tables in data/."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import libsbml

from timescales.errors import ModelError

from .hints import CouplingHints
from .sbml_build import add_unit_definitions, annotate, check, parse_math, serialise, unit_id

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_ID = "spine_network"
COMPARTMENT = "Spine"
VOLUME_L = 1e-15
AVOGADRO = "N_A"

HINTS = CouplingHints(
    calcium_species="ca",
    input_parameter="ca_in_k",
    input_unit="molecules/s",
    output="AMPAR_P",
    output_unit="molecules",
    switch_off_parameters=("ca_leak_vmax", "ca_pump_vmax"),
    rest_calcium_M=1e-8,
    equilibration_s=300.0,
)


@dataclass(frozen=True)
class Tables:
    """The data tables of the network, one list of rows (dicts) per file."""

    species: list[dict[str, str]]
    parameters: list[dict[str, str]]
    functions: list[dict[str, str]]
    assignments: list[dict[str, str]]
    reactions: list[dict[str, str]]
    notes: str


def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of a data table whose first line is a '# Source: ...' comment."""
    with path.open(newline="", encoding="utf-8") as handle:
        first = handle.readline()
        if not first.startswith("#"):
            raise ModelError(f"{path}: the first line must name the source ('# Source: ...')")
        return list(csv.DictReader(handle))


def read_tables(data_dir: Path = DATA_DIR) -> Tables:
    """All tables of the network from `data_dir`."""
    return Tables(
        species=read_table(data_dir / "spine_species.csv"),
        parameters=read_table(data_dir / "spine_parameters.csv"),
        functions=read_table(data_dir / "spine_functions.csv"),
        assignments=read_table(data_dir / "spine_assignments.csv"),
        reactions=read_table(data_dir / "spine_reactions.csv"),
        notes=(data_dir / "spine_network_notes.txt").read_text(encoding="utf-8"),
    )


def _model_skeleton(document: libsbml.SBMLDocument, tables: Tables) -> libsbml.Model:
    model = document.createModel()
    check(model.setId(MODEL_ID), "the model id")
    model.setName("Mattioni & Le Novère 2013 per-spine network (biomd183_loop)")
    model.setSubstanceUnits("item")
    model.setExtentUnits("item")
    model.setTimeUnits("second")
    model.setVolumeUnits("litre")
    used = {row["unit"] for row in tables.parameters + tables.assignments}
    add_unit_definitions(model, used)
    compartment = model.createCompartment()
    check(compartment.setId(COMPARTMENT), "the compartment id")
    compartment.setSize(VOLUME_L)
    compartment.setSpatialDimensions(3)
    compartment.setUnits("litre")
    compartment.setConstant(True)
    return model


def _add_species(model: libsbml.Model, rows: list[dict[str, str]]) -> None:
    for row in rows:
        species = model.createSpecies()
        check(species.setId(row["id"]), f"species id {row['id']!r}")
        species.setCompartment(COMPARTMENT)
        species.setInitialAmount(float(row["molecules"]))
        species.setHasOnlySubstanceUnits(False)
        species.setBoundaryCondition(False)
        species.setConstant(row["kind"] == "constant")


def _add_parameters(model: libsbml.Model, tables: Tables) -> None:
    for row in tables.parameters:
        parameter = model.createParameter()
        check(parameter.setId(row["id"]), f"parameter id {row['id']!r}")
        parameter.setName(row["meaning"])
        parameter.setValue(float(row["value"]))
        parameter.setUnits(unit_id(row["unit"]))
        parameter.setConstant(row["set_by_coupling"] != "yes")
    for row in tables.assignments:
        parameter = model.createParameter()
        check(parameter.setId(row["id"]), f"parameter id {row['id']!r}")
        parameter.setUnits(unit_id(row["unit"]))
        parameter.setConstant(False)


def _add_functions(model: libsbml.Model, rows: list[dict[str, str]]) -> None:
    for row in rows:
        function = model.createFunctionDefinition()
        check(function.setId(row["id"]), f"function id {row['id']!r}")
        body = f"lambda({row['argument']}, {row['expression']})"
        check(function.setMath(parse_math(body)), f"the math of function {row['id']}")


def _add_rules(model: libsbml.Model, rows: list[dict[str, str]], species: set[str]) -> None:
    for row in rows:
        rule = model.createAssignmentRule()
        check(rule.setVariable(row["id"]), f"the rule for {row['id']}")
        math = parse_math(row["expression"], species, AVOGADRO)
        check(rule.setMath(math), f"the math of rule {row['id']}")


def _species_in(formula: str, species: set[str]) -> list[str]:
    """The species a formula mentions, sorted (to declare modifiers)."""
    root = libsbml.parseL3Formula(formula)  # keeps the tree alive while children are visited
    found: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.isName() and node.getName() in species and node.getName() not in found:
            found.append(node.getName())
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return sorted(found)


def _kinetic_formula(row: dict[str, str]) -> str:
    if row["rate_unit"] == "molecules/s":
        return row["rate"]
    if row["rate_unit"] == "M/s":
        return f"{COMPARTMENT} * {AVOGADRO} * ({row['rate']})"
    raise ModelError(f"reaction {row['id']}: rate_unit must be M/s or molecules/s")


def _add_reactions(model: libsbml.Model, rows: list[dict[str, str]], species: set[str]) -> None:
    for row in rows:
        reaction = model.createReaction()
        check(reaction.setId(row["id"]), f"reaction id {row['id']!r}")
        reaction.setName(row["group"])
        reaction.setReversible(False)
        reactants = [s for s in row["reactants"].split(" + ") if s]
        products = [s for s in row["products"].split(" + ") if s]
        for name in reactants:
            reference = reaction.createReactant()
            reference.setSpecies(name)
            reference.setStoichiometry(1.0)
            reference.setConstant(True)
        for name in products:
            reference = reaction.createProduct()
            reference.setSpecies(name)
            reference.setStoichiometry(1.0)
            reference.setConstant(True)
        for name in _species_in(row["rate"], species):
            if name not in reactants and name not in products:
                reaction.createModifier().setSpecies(name)
        law = reaction.createKineticLaw()
        math = parse_math(_kinetic_formula(row), species, AVOGADRO)
        check(law.setMath(math), f"the rate law of {row['id']}")


def build_document(tables: Tables) -> libsbml.SBMLDocument:
    """The network as an SBML Level 3 Version 2 document."""
    document = libsbml.SBMLDocument(3, 2)
    model = _model_skeleton(document, tables)
    species = {row["id"] for row in tables.species}
    _add_species(model, tables.species)
    _add_parameters(model, tables)
    _add_functions(model, tables.functions)
    _add_rules(model, tables.assignments, species)
    _add_reactions(model, tables.reactions, species)
    annotate(model, tables.notes, HINTS)
    return document


def spine_network_sbml(data_dir: Path = DATA_DIR) -> str:
    """The SBML text of the network, built from the tables in `data_dir` and validated."""
    return serialise(build_document(read_tables(data_dir)), MODEL_ID)
