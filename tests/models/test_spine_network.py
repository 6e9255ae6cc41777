"""The study's spine network (spine_network.xml) against the reference tables, BIOMD0000000183
and the fact sheet's independent check values (biochemistry.md, coupling-algorithm.md)."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path, skip_module_without

skip_module_without("roadrunner")
pytestmark = pytest.mark.roadrunner

import libsbml  # noqa: E402

from timescales.adapters._imports import import_roadrunner  # noqa: E402
from timescales.models import sbml as catalogue  # noqa: E402

roadrunner = import_roadrunner()

N_A = 6.0221367e23  # E-Cell's Avogadro constant (biochemistry.md §1)
VOLUME_L = 1e-15  # the /Spine compartment that ran (biochemistry.md §1, §8)
M_PER_ITEM = 1.0 / (N_A * VOLUME_L)
#: libsbml warnings this model may raise (unit checks included): none.
ALLOWED_WARNINGS: frozenset[int] = frozenset()
#: The reactions BIOMD0000000183 has and the study dropped (biochemistry.md §9.1).
REMOVED_FROM_BIOMD = {"reaction_197"}
KOFF_PP2B_STUDY, KOFF_PP2B_BIOMD = 0.4, 0.0013  # biochemistry.md §2.4


def shared_rows(name: str) -> list[dict[str, str]]:
    with shared_path("reference", "data", name).open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def sbml_text() -> str:
    return catalogue.path("spine_network").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def document(sbml_text: str) -> libsbml.SBMLDocument:
    return libsbml.readSBMLFromString(sbml_text)


@pytest.fixture(scope="module")
def model(document: libsbml.SBMLDocument) -> libsbml.Model:
    return document.getModel()


@pytest.fixture(scope="module")
def constant_species(model: libsbml.Model) -> set[str]:
    return {s.getId() for s in model.getListOfSpecies() if s.getConstant()}


@pytest.fixture(scope="module")
def species_rows() -> list[dict[str, str]]:
    return shared_rows("biochem_species.csv")


@pytest.fixture(scope="module")
def reaction_rows() -> list[dict[str, str]]:
    return shared_rows("biochem_reactions.csv")


@pytest.fixture(scope="module")
def assignment_rows() -> dict[str, dict[str, str]]:
    return {row["target"]: row for row in shared_rows("biochem_assignments.csv")}


@pytest.fixture(scope="module")
def runner(sbml_text: str) -> roadrunner.RoadRunner:
    """One compiled instance for the module; each test starts it with resetAll()."""
    return roadrunner.RoadRunner(sbml_text)


def set_random_state(rr: roadrunner.RoadRunner, seed: int, constant: set[str]) -> dict[str, float]:
    """Random molecule counts for every non-constant species; returns all concentrations (M)."""
    ids = list(rr.model.getFloatingSpeciesIds())
    amounts = np.array(rr.model.getFloatingSpeciesAmounts())
    rng = np.random.default_rng(seed)
    for i, sid in enumerate(ids):
        if sid not in constant:
            amounts[i] = rng.uniform(1.0, 2000.0)
    rr.model.setFloatingSpeciesAmounts(amounts)
    return {sid: float(a) * M_PER_ITEM for sid, a in zip(ids, amounts, strict=True)}


def derived_values(conc: dict[str, float], rows: dict[str, dict[str, str]]) -> dict[str, float]:
    """Every derived quantity of the reference table (sums in M, ratios and formulas unitless)."""
    values = dict(conc)

    def value(name: str) -> float:
        if name not in values:
            row = rows[name]
            operands = row["operands"].split(";")
            if row["operation"] == "sum":
                values[name] = sum(value(op) for op in operands)
            elif row["operation"] == "ratio":
                values[name] = value(operands[0]) / value(operands[1])
            else:
                names = set(re.findall(r"[A-Za-z_]\w*", row["operands"]))
                scope = {n: value(n) for n in names}
                values[name] = float(eval(row["operands"], {"__builtins__": {}}, scope))
        return values[name]

    for name in rows:
        value(name)
    return values


def table_parameters(text: str) -> dict[str, float]:
    """'vmax=4e-3 M/s; km=1e-6 M' -> {'vmax': 0.004, 'km': 1e-06}."""
    found = {}
    for part in text.split(";"):
        name, _, rest = part.strip().partition("=")
        found[name] = float(rest.split()[0])
    return found


def table_rate_M_per_s(row, values: dict[str, float], k_in_molecules_per_s: float) -> float:
    """The rate of one reference-table row, given all species and derived values, in M/s."""
    if row["eml_process_class"] == "ConstantFluxProcess":
        return k_in_molecules_per_s * M_PER_ITEM
    law = row["rate_law_M_per_s"].replace(" (constant)", "")
    constants = table_parameters(row["parameters"])
    if row["eml_process_class"] == "PythonFluxProcess":
        law, x_def, f_def = (part.strip() for part in law.split(", "))
        x_expr = x_def.partition("=")[2]
        polynomial = re.sub(r"(\d)x", r"\1*x", f_def.partition("=")[2])
        law = law.replace("f(x)", f"({polynomial})").replace("x", f"({x_expr})")

    def bracket(match: re.Match[str]) -> str:
        return repr(values[match.group(1)])

    expression = re.sub(r"\[(\w+)\]", bracket, law).replace("^", "**")
    return float(eval(expression, {"__builtins__": {}}, constants))


def reaction_names(model: libsbml.Model) -> set[str]:
    names: set[str] = set()
    for reaction in model.getListOfReactions():
        stack = [reaction.getKineticLaw().getMath()]
        while stack:
            node = stack.pop()
            if node.isName():
                names.add(node.getName())
            stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return names


# --- validity and units ---------------------------------------------------------------------


def test_libsbml_reports_no_errors_and_consistent_units(sbml_text: str) -> None:
    document = libsbml.readSBMLFromString(sbml_text)
    assert (document.getLevel(), document.getVersion()) == (3, 2)
    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    document.checkConsistency()
    issues = [document.getError(i) for i in range(document.getNumErrors())]
    errors = [e.getMessage() for e in issues if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert errors == []
    assert {e.getErrorId() for e in issues} <= ALLOWED_WARNINGS


def test_units_compartment_and_interface_ids(model: libsbml.Model) -> None:
    assert model.getSubstanceUnits() == "item"
    assert model.getExtentUnits() == "item"
    assert model.getTimeUnits() == "second"
    (compartment,) = model.getListOfCompartments()
    assert compartment.getSize() == VOLUME_L
    assert compartment.getUnits() == "litre"
    assert model.getParameter("N_A").getValue() == N_A
    k_in = model.getParameter("ca_in_k")
    assert (k_in.getValue(), k_in.getUnits(), k_in.getConstant()) == (0.0, "item_per_second", False)
    for vmax in ("ca_leak_vmax", "ca_pump_vmax"):
        parameter = model.getParameter(vmax)
        assert (parameter.getValue(), parameter.getUnits()) == (4e-3, "molar_per_second")
        assert not parameter.getConstant()
    for sid in ("ca", "AMPAR_P", "AMPAR"):
        assert not model.getSpecies(sid).getHasOnlySubstanceUnits()


def test_notes_document_the_study_quirks(model: libsbml.Model) -> None:
    notes = model.getNotesString()
    for quirk in ("1.0843", "0.01171", "totPP1", "reaction_197", "koff_PP2B", "0.0013"):
        assert quirk in notes


def test_hints_in_the_file_name_the_coupling_interface() -> None:
    hints = catalogue.hints("spine_network")
    assert (hints.calcium_species, hints.input_parameter, hints.output) == (
        "ca",
        "ca_in_k",
        "AMPAR_P",
    )
    assert set(hints.switch_off_parameters) == {"ca_leak_vmax", "ca_pump_vmax"}
    assert (hints.rest_calcium_M, hints.equilibration_s) == (1e-8, 300.0)
    assert (hints.input_unit, hints.output_unit) == ("molecules/s", "molecules")


# --- table-driven: every row of the reference tables ------------------------------------------


def test_every_species_and_initial_value_matches_the_table(model, species_rows) -> None:
    assigned = {r.getVariable() for r in model.getListOfRules()}
    assert len(species_rows) == model.getNumSpecies() + len(assigned) == 240
    for row in species_rows:
        name = row["name"]
        if row["role"].startswith("assigned"):
            assert name in assigned, name
            continue
        species = model.getSpecies(name)
        assert species is not None, name
        molecules = float(row["initial_molecules_in_eml"])
        assert species.getInitialAmount() == pytest.approx(molecules, rel=1e-12, abs=0), name
        assert molecules * M_PER_ITEM == pytest.approx(float(row["initial_conc_M"]), rel=4e-4)
        assert species.getConstant() == row["role"].startswith("inert (no reaction"), name


def test_every_reaction_has_the_tables_reactants_and_products(model, reaction_rows) -> None:
    assert model.getNumReactions() == len(reaction_rows) == 646

    def side(text: str) -> list[str]:
        return [] if text == "(none)" else sorted(text.split(" + "))

    for row in reaction_rows:
        reaction = model.getReaction(row["id"])
        assert reaction is not None, row["id"]
        reactants = sorted(r.getSpecies() for r in reaction.getListOfReactants())
        products = sorted(p.getSpecies() for p in reaction.getListOfProducts())
        assert (reactants, products) == (side(row["reactants"]), side(row["products"])), row["id"]
        for reference in [*reaction.getListOfReactants(), *reaction.getListOfProducts()]:
            assert reference.getStoichiometry() == 1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_every_rate_law_and_constant_matches_the_table(
    runner, constant_species, reaction_rows, assignment_rows, seed
) -> None:
    rr = runner
    rr.resetAll()
    conc = set_random_state(rr, seed, constant_species)
    k_in = 1234.5
    rr["ca_in_k"] = k_in
    rates = dict(zip(rr.model.getReactionIds(), rr.getReactionRates(), strict=True))
    values = derived_values(conc, assignment_rows)
    for row in reaction_rows:
        expected = table_rate_M_per_s(row, values, k_in)
        got = rates[row["id"]] * M_PER_ITEM
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-30), row["id"]


def test_every_derived_quantity_is_an_assignment_rule_matching_the_table(
    runner, model, constant_species, assignment_rows
) -> None:
    rules = {r.getVariable(): r for r in model.getListOfRules()}
    assert set(rules) == set(assignment_rows)
    assert all(rule.isAssignment() for rule in rules.values())
    rr = runner
    rr.resetAll()
    conc = set_random_state(rr, 3, constant_species)
    values = derived_values(conc, assignment_rows)
    for name in assignment_rows:
        assert rr[name] == pytest.approx(values[name], rel=1e-12), name


def test_rate_laws_use_the_derived_quantities_that_feed_rates(model) -> None:
    assert {"CaMKIIbar", "total_CaMKII_active", "totPP1"} <= reaction_names(model)


# --- the reactions shared with BIOMD0000000183 --------------------------------------------------


def test_shared_reactions_have_biomd183_rate_laws(runner, constant_species, species_rows) -> None:
    biomd = roadrunner.RoadRunner(str(shared_path("sbml", "BIOMD0000000183.xml")))
    ours = runner
    ours.resetAll()
    conc = set_random_state(ours, 4, constant_species)
    to_biomd = {r["name"]: r["in_BIOMD0000000183_as"] for r in species_rows}
    from_biomd = {v: k for k, v in to_biomd.items() if v}
    biomd_ids = list(biomd.model.getFloatingSpeciesIds())
    biomd.model.setFloatingSpeciesConcentrations([conc[from_biomd[s]] for s in biomd_ids])

    document = libsbml.readSBML(str(shared_path("sbml", "BIOMD0000000183.xml")))
    koff_pp2b_id = next(
        p.getId() for p in document.getModel().getListOfParameters() if p.getName() == "koffPP2B"
    )
    uses_koff_pp2b = {
        r.getId()
        for r in document.getModel().getListOfReactions()
        if koff_pp2b_id in libsbml.formulaToL3String(r.getKineticLaw().getMath())
    }
    assert len(uses_koff_pp2b) == 16

    ours_rates = dict(zip(ours.model.getReactionIds(), ours.getReactionRates(), strict=True))
    biomd_rates = dict(zip(biomd.model.getReactionIds(), biomd.getReactionRates(), strict=True))
    assert set(biomd_rates) - set(ours_rates) == REMOVED_FROM_BIOMD
    for rid, biomd_mol_per_s in biomd_rates.items():
        if rid in REMOVED_FROM_BIOMD:
            continue
        expected = biomd_mol_per_s
        if rid in uses_koff_pp2b:
            expected *= KOFF_PP2B_STUDY / KOFF_PP2B_BIOMD
        assert ours_rates[rid] / N_A == pytest.approx(expected, rel=1e-7), rid


# --- dynamics: equilibration and a 20 Hz calcium train ------------------------------------------


@pytest.fixture(scope="module")
def equilibrated(runner: roadrunner.RoadRunner) -> roadrunner.RoadRunner:
    """The instance run for 300 s from the initial state with no input (biochemistry.md §7)."""
    runner.resetAll()
    runner.simulate(0.0, 300.0, 3)
    return runner


def test_equilibration_gives_the_fact_sheet_resting_state(equilibrated) -> None:
    rr = equilibrated
    assert rr["AMPAR_P"] == pytest.approx(25.0, rel=0.01)
    assert rr["ca"] * M_PER_ITEM == pytest.approx(1e-8, rel=0.01)
    assert rr["AMPAR"] * M_PER_ITEM == pytest.approx(1.619e-6, rel=0.01)
    for name, value in {
        "CaMKIIbar": 0.0329,
        "PP2Bbar": 0.316,
        "Dpbar": 0.536,
        "PP1abar": 0.331,
        "CaMKIIpbar": 8.8e-4,
    }.items():
        assert rr[name] == pytest.approx(value, rel=0.01), name


def head_volume_F_conv() -> float:
    """Molecules/s per mM/ms of NEURON head calcium change (coupling-algorithm.md 4.4)."""
    v_head_L = math.pi * (1.175 / 2) ** 2 * 1e-15
    return 1e-3 * v_head_L * 6.022e23 / 1e-3


def run_train(rr, start_s: float, pulses: int, rise_mM: float, base: float) -> tuple[float, float]:
    """20 Hz pulses of 1 ms of influx (leak and pump off during each); (end time, peak weight)."""
    t, peak = start_s, 1.0
    for _ in range(pulses):
        rr["ca_in_k"] = rise_mM / 1.0 * head_volume_F_conv()  # rise_mM per 1 ms -> molecules/s
        rr["ca_leak_vmax"] = rr["ca_pump_vmax"] = 0.0
        rr.simulate(t, t + 1e-3, 2)
        t += 1e-3
        rr["ca_in_k"] = 0.0
        rr["ca_leak_vmax"] = rr["ca_pump_vmax"] = 4e-3
        rr.simulate(t, t + 0.049, 2)
        t += 0.049
        peak = max(peak, rr["AMPAR_P"] / base)
    return t, peak


def test_a_20_hz_calcium_train_raises_the_weight_which_relaxes_over_minutes(equilibrated) -> None:
    rr = equilibrated
    base = rr["AMPAR_P"]
    t, peak = run_train(rr, 300.0, pulses=50, rise_mM=1e-3, base=base)
    trace = rr.simulate(t, t + 300.0, 301, ["time", "AMPAR_P"])
    weight = trace[:, 1] / base
    peak = max(peak, float(weight.max()))
    w60, w300 = float(weight[60]), float(weight[300])
    assert peak > 1.05
    assert abs(w300 - 1.0) < abs(w60 - 1.0) < abs(peak - 1.0)
    assert abs(w300 - 1.0) < 0.01


def test_the_shipped_file_is_found_through_importlib_resources() -> None:
    found = catalogue.path("spine_network")
    assert found.name == "spine_network.xml"
    assert found.parent == Path(catalogue.__file__).parent
