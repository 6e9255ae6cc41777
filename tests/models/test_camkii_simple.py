"""The project's small calcium -> plasticity model (camkii_simple.ant -> camkii_simple.xml)."""

from __future__ import annotations

import math

import pytest

from conftest import skip_module_without

skip_module_without("roadrunner")
pytestmark = pytest.mark.roadrunner

import libsbml  # noqa: E402

from timescales.adapters._imports import import_roadrunner  # noqa: E402
from timescales.models import sbml as catalogue  # noqa: E402

roadrunner = import_roadrunner()

N_A = 6.0221367e23  # the model's molecules per mole (E-Cell's value, as in the spine network)
VOLUME_L = 1e-15
M_PER_ITEM = 1.0 / (N_A * VOLUME_L)
#: libsbml warnings this model may raise (unit checks included): none.
ALLOWED_WARNINGS: frozenset[int] = frozenset()


@pytest.fixture(scope="module")
def sbml_text() -> str:
    return catalogue.path("camkii_simple").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def runner(sbml_text: str) -> roadrunner.RoadRunner:
    return roadrunner.RoadRunner(sbml_text)


def test_libsbml_reports_no_errors_and_consistent_units(sbml_text: str) -> None:
    document = libsbml.readSBMLFromString(sbml_text)
    assert (document.getLevel(), document.getVersion()) == (3, 2)
    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    document.checkConsistency()
    issues = [document.getError(i) for i in range(document.getNumErrors())]
    assert [e.getMessage() for e in issues if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR] == []
    assert {e.getErrorId() for e in issues} <= ALLOWED_WARNINGS
    model = document.getModel()
    assert (model.getSubstanceUnits(), model.getTimeUnits()) == ("item", "second")
    assert model.getCompartment("Spine").getSize() == VOLUME_L
    assert model.getParameter("N_A").getValue() == N_A


def test_the_file_says_what_it_simplifies(sbml_text: str) -> None:
    notes = libsbml.readSBMLFromString(sbml_text).getModel().getNotesString()
    assert "What it simplifies" in notes
    assert notes.count("<li>") >= 3


def test_same_interface_ids_as_the_spine_network() -> None:
    simple, study = catalogue.hints("camkii_simple"), catalogue.hints("spine_network")
    for field in ("calcium_species", "input_parameter", "input_unit", "output", "output_unit"):
        assert getattr(simple, field) == getattr(study, field)
    assert simple.switch_off_parameters == study.switch_off_parameters
    assert simple.rest_calcium_M == 1e-8
    assert simple.equilibration_s <= 60.0


def analytic_rest_AMPAR_P(rr: roadrunner.RoadRunner) -> float:
    """Resting AMPAR_P (molecules) with only the basal kinase: k_b (T - P) = V P / (P + K)."""
    total = (rr["AMPAR"] + rr["AMPAR_P"]) * M_PER_ITEM
    k_b, v_max = rr["k_basal"], rr["kcat_AMPAR_dephos"] * rr["PP1_M"]
    km = rr["KM_AMPAR_dephos"]
    a, b, c = -k_b, k_b * total - k_b * km - v_max, k_b * total * km
    return (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a) / M_PER_ITEM


def test_equilibrates_to_10_nM_calcium_within_60_s(runner) -> None:
    rr = runner
    rr.resetAll()
    rr.simulate(0.0, 60.0, 3)
    ca_60, out_60 = rr["ca"] * M_PER_ITEM, rr["AMPAR_P"]
    rr.simulate(60.0, 600.0, 3)
    assert ca_60 == pytest.approx(1e-8, rel=0.01)
    assert out_60 == pytest.approx(rr["AMPAR_P"], rel=1e-3)
    assert out_60 == pytest.approx(analytic_rest_AMPAR_P(rr), rel=1e-3)


def train_peak_weight(rr: roadrunner.RoadRunner, rise_mM: float) -> tuple[float, float]:
    """Peak weight of 50 pulses at 20 Hz (1 ms influx, leak and pump off); weight 60 s later."""
    rr.resetAll()
    rr.simulate(0.0, 60.0, 3)
    base, t, peak = rr["AMPAR_P"], 60.0, 1.0
    f_conv = 1e-3 * math.pi * (1.175 / 2) ** 2 * 1e-15 * 6.022e23 / 1e-3  # molecules/s per mM/ms
    for _ in range(50):
        rr["ca_in_k"] = rise_mM / 1.0 * f_conv
        rr["ca_leak_vmax"] = rr["ca_pump_vmax"] = 0.0
        rr.simulate(t, t + 1e-3, 2)
        rr["ca_in_k"] = 0.0
        rr["ca_leak_vmax"] = rr["ca_pump_vmax"] = 4e-3
        rr.simulate(t + 1e-3, t + 0.05, 2)
        t += 0.05
        peak = max(peak, rr["AMPAR_P"] / base)
    trace = rr.simulate(t, t + 60.0, 601, ["time", "AMPAR_P"])
    return max(peak, float(trace[:, 1].max() / base)), float(trace[-1, 1] / base)


def test_output_rises_with_calcium_and_returns_to_rest(runner) -> None:
    weights = [train_peak_weight(runner, rise) for rise in (0.5e-3, 1e-3, 2e-3)]
    peaks = [peak for peak, _ in weights]
    assert 1.05 < peaks[0] < peaks[1] < peaks[2]
    for _, after_60_s in weights:
        assert after_60_s == pytest.approx(1.0, abs=0.01)
