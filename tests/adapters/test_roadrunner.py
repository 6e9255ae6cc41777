"""The RoadRunner adapter against analytic solutions, uninterrupted runs and the contract."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path, skip_module_without
from timescales.adapter import Series, Watch
from timescales.errors import AdapterError, ModelError, SolverError, UnknownNameError
from timescales.testing.conformance import AdapterContract
from timescales.units import AVOGADRO, parse

skip_module_without("roadrunner")
pytestmark = pytest.mark.roadrunner

import libsbml  # noqa: E402

from timescales.adapters._imports import import_roadrunner  # noqa: E402
from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel  # noqa: E402

TIGHT = (1e-10, 1e-16)
#: Calcium alone in a 1 fl compartment: a flux input accumulates exactly.
CA_ONLY = """
model ca_only
  compartment cell = 1e-15
  species ca in cell
  ca = 0
  substanceOnly species dummy in cell
  dummy = 0
end
"""
#: Reversible A <-> B that starts at its steady state (A*k1 = B*k2).
AT_REST = """
model at_rest
  compartment cell = 1
  species A in cell, B in cell
  J1: A -> B; k1*A - k2*B
  A = 2; B = 1; k1 = 1; k2 = 2
end
"""
#: First-order decay A' = -k A from A = 1.
DECAY = """
model decay
  compartment cell = 1
  species A in cell
  J1: A -> ; k*A
  A = 1; k = 3
end
"""

#: A' = A^2 from A = 1: A = 1 / (1 - t), which blows up at t = 1 s.
BLOWS_UP = """
model blows_up
  compartment cell = 1
  species A in cell
  J1: -> A; A*A
  A = 1
end
"""

#: A' = k0 - k A, rest at k0 / k = 0.5, starting away from it.
SOURCE_SINK = """
model source_sink
  compartment cell = 1
  species A in cell
  J0: -> A; k0
  J1: A -> ; k*A
  A = 0; k0 = 2; k = 4
end
"""


@pytest.fixture(scope="module")
def stefan() -> SBMLModel:
    return SBMLModel.load(
        shared_path("sbml", "BIOMD0000000183.xml"),
        flux_inputs={"ca": "molecules/s"},
        switches=("reaction_0",),
        series_knots=16,
    )


# --------------------------------------------------------------------- contract
class TestContract(AdapterContract):
    @pytest.fixture
    def adapter(self, stefan: SBMLModel) -> RoadRunnerAdapter:
        adapter = RoadRunnerAdapter(stefan, label="spine[0]", integrator_tolerances=(1e-8, 1e-14))
        adapter.initialize(0.0)
        adapter.set(stefan.flux_parameter("ca"), 1e6)
        return adapter

    @pytest.fixture
    def watch_spec(self) -> tuple[str, float, str]:
        return ("species_1", 1.2e-5, "rising")

    @pytest.fixture
    def settable(self) -> tuple[str, float]:
        return ("species_1", 2e-5)

    @pytest.fixture
    def changing(self) -> str:
        return "species_1"

    @pytest.fixture
    def series_input(self, stefan: SBMLModel) -> tuple[str, float]:
        return (stefan.flux_parameter("ca"), 2e6)


class TestLazyContract(AdapterContract):
    """The same promises from a lazy instance of a model at rest (no RoadRunner until needed)."""

    @pytest.fixture
    def adapter(self) -> RoadRunnerAdapter:
        model = SBMLModel.load(AT_REST, flux_inputs={"A": ""})
        adapter = RoadRunnerAdapter(model, lazy=True)
        adapter.initialize(0.0)
        adapter.set("A", 3.0)  # off its rest, so that advancing changes it
        adapter.set("B", 0.0)  # and A falls through the watch level within the horizon
        return adapter

    @pytest.fixture
    def changing(self) -> str:
        return "B"

    @pytest.fixture
    def series_input(self) -> tuple[str, float]:
        return ("ts_flux_A", 0.5)

    @pytest.fixture
    def watch_spec(self) -> tuple[str, float, str]:
        return ("A", 2.9, "falling")

    @pytest.fixture
    def settable(self) -> tuple[str, float]:
        return ("A", 0.5)


# ----------------------------------------------------------------------- loading
def test_sources_give_the_same_model(tmp_path: Path) -> None:
    antimony_file = tmp_path / "decay.ant"
    antimony_file.write_text(DECAY)
    from_text = SBMLModel.load(DECAY)
    sbml_file = tmp_path / "decay.xml"
    sbml_file.write_text(from_text.sbml)
    runner = import_roadrunner().RoadRunner(from_text.sbml)
    runner["k"] = 5.0
    loaded = {
        "antimony text": from_text,
        "antimony file": SBMLModel.load(antimony_file),
        "sbml file": SBMLModel.load(sbml_file),
        "sbml text": SBMLModel.load(sbml_file.read_text()),
        "roadrunner": SBMLModel.load(runner),
    }
    for how, model in loaded.items():
        assert model.species == ("A",), how
        assert model.parameters == ("k",), how
    assert loaded["antimony file"].source_name == str(antimony_file)
    assert loaded["sbml text"].source_name == "<string>"
    adapter = RoadRunnerAdapter(loaded["roadrunner"])
    adapter.initialize()
    assert adapter.get("k") == 5.0


def test_tellurium_model_is_accepted() -> None:
    te = pytest.importorskip("tellurium")
    model = SBMLModel.load(te.loada(DECAY))
    assert model.species == ("A",)


def test_invalid_sbml_names_file_line_and_message(tmp_path: Path) -> None:
    good = SBMLModel.load(DECAY).sbml
    broken = tmp_path / "broken.xml"
    broken.write_text(good.replace('<species id="A"', '<species id="2A"', 1))
    line = next(i for i, text in enumerate(broken.read_text().splitlines(), 1) if '"2A"' in text)
    with pytest.raises(ModelError) as err:
        SBMLModel.load(broken)
    message = str(err.value)
    assert str(broken) in message
    assert f"line {line}" in message
    assert "SId" in message


def test_unreadable_xml_is_a_model_error(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.xml"
    truncated.write_text(SBMLModel.load(DECAY).sbml[:300])
    with pytest.raises(ModelError, match=r"truncated\.xml.*line \d+"):
        SBMLModel.load(truncated)


def test_bad_antimony_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="Antimony"):
        SBMLModel.load("model m\n  A -> ; k*\nend\n")


def test_missing_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        SBMLModel.load(tmp_path / "absent.xml")


def test_user_file_is_not_edited(tmp_path: Path) -> None:
    path = tmp_path / "decay.xml"
    path.write_text(SBMLModel.load(DECAY).sbml)
    before = path.read_text()
    model = SBMLModel.load(path, flux_inputs={"A": ""}, switches=("J1",))
    assert path.read_text() == before
    assert model.flux_parameter("A") in model.sbml
    assert model.flux_parameter("A") not in before


# --------------------------------------------------------- names, units, errors
def test_stefan_variables_and_units(stefan: SBMLModel) -> None:
    variables = stefan.variables()
    assert len(stefan.species) == 67
    assert stefan.resolve("ca") == "species_1"
    assert stefan.resolve("ca.amount") == "species_1.amount"
    assert parse(variables["species_1"].unit) == parse("mol/l")
    assert parse(variables["species_1.amount"].unit) == parse("mol")
    assert variables[stefan.flux_parameter("ca")].unit == "molecules/s"
    assert stefan.ms_per_time_unit == 1000.0
    assert "species_1" in stefan.describe()["calcium_candidates"]


def test_unknown_name_lists_close_candidates(stefan: SBMLModel) -> None:
    with pytest.raises(UnknownNameError, match="camR"):
        stefan.resolve("camr")


def test_calcium_input_on_a_model_without_calcium() -> None:
    path = shared_path("sbml", "BIOMD0000000067.xml")
    with pytest.raises(ModelError) as err:
        SBMLModel.load(path, flux_inputs={"ca": "molecules/s"})
    message = str(err.value)
    assert "BIOMD0000000067" in message
    assert "no calcium-like species" in message
    assert "AcCoA" in message


def test_flux_into_boundary_species_is_refused() -> None:
    with pytest.raises(ModelError, match="boundary species"):
        SBMLModel.load(
            AT_REST.replace("species A in cell", "species $A in cell"), flux_inputs={"A": ""}
        )


def test_time_in_minutes_is_converted() -> None:
    doc = libsbml.readSBMLFromString(SBMLModel.load(DECAY).sbml)
    minute = doc.getModel().createUnitDefinition()
    minute.setId("min")
    unit = minute.createUnit()
    unit.setKind(libsbml.UNIT_KIND_SECOND)
    unit.setExponent(1)
    unit.setScale(0)
    unit.setMultiplier(60.0)
    doc.getModel().setTimeUnits("min")
    model = SBMLModel.load(libsbml.writeSBMLToString(doc))
    assert model.ms_per_time_unit == 60_000.0
    adapter = RoadRunnerAdapter(model, integrator_tolerances=TIGHT)
    adapter.initialize()
    adapter.advance(30_000.0)
    assert adapter.get("A") == pytest.approx(math.exp(-3 * 0.5), rel=1e-7)


# ------------------------------------------------------------------ flux inputs
@pytest.mark.parametrize(
    ("unit", "value", "expected_conc_M"),
    [
        ("molecules/s", AVOGADRO * 1e-15 * 1e-6 * 1e3, 1e-6),
        ("mol/s", 1e-21 * 1e3, 1e-6),
        ("mM/ms", 1e-3, 1e-6),
    ],
)
def test_flux_units_deliver_the_expected_amount(
    unit: str, value: float, expected_conc_M: float
) -> None:
    """1 ms of the flux adds 1 µM to a 1 fl compartment (analytic: no reactions)."""
    model = SBMLModel.load(
        CA_ONLY.replace(
            "compartment cell", "unit substance = mole\n  unit volume = litre\n  compartment cell"
        ),
        flux_inputs={"ca": unit},
    )
    adapter = RoadRunnerAdapter(model, integrator_tolerances=TIGHT)
    adapter.initialize()
    adapter.set(model.flux_parameter("ca"), value)
    adapter.advance(1.0)
    assert adapter.get("ca") == pytest.approx(expected_conc_M, rel=1e-9)


def test_series_is_exact_on_an_integrator(tmp_path: Path) -> None:
    """A series longer than the knots, then the plain value: analytic sum of value * dt."""
    model = SBMLModel.load(CA_ONLY, flux_inputs={"ca": ""}, series_knots=4)
    adapter = RoadRunnerAdapter(model, integrator_tolerances=TIGHT)
    adapter.initialize()
    flux = model.flux_parameter("ca")
    adapter.set(flux, 2.0)
    adapter.advance(1.0)
    values = np.arange(1.0, 11.0)
    adapter.set_series(flux, Series(1.0, 0.5, values))
    adapter.advance(4.0)
    adapter.advance(12.0)
    amount_s = 2.0 * 1.0 + values.sum() * 0.5 + 2.0 * (12.0 - 6.0)
    assert adapter.get("ca.amount") == pytest.approx(amount_s / 1000.0, rel=1e-9)


def test_series_delivers_each_pieces_amount_with_a_continuous_flux() -> None:
    """On ca' = flux, the amount at every piece boundary is the sum of the pieces so far (to
    the integrator's tolerance, over more than one chunk of knots); the flux has no jump at
    a boundary, and never falls below zero for pieces of one sign."""
    model = SBMLModel.load(CA_ONLY, flux_inputs={"ca": ""}, series_knots=4)
    adapter = RoadRunnerAdapter(model, integrator_tolerances=TIGHT)
    adapter.initialize()
    flux = model.flux_parameter("ca")
    values = np.array([0.0, 5.0, 1.0, 8.0, 8.0, 2.0, 0.5, 9.0, 3.0, 0.0])
    dt_ms, delta_ms = 0.5, 1e-4
    adapter.set_series(flux, Series(0.0, dt_ms, values))
    expected = np.concatenate([[0.0], np.cumsum(values * dt_ms / 1000.0)])
    amounts, left, right = [0.0], [], []
    for k in range(1, len(values) + 1):
        t_k = k * dt_ms
        before = adapter.get("ca.amount")
        adapter.advance(t_k - delta_ms)
        at_left = adapter.get("ca.amount")
        assert at_left >= before - 1e-12  # the integrator's tolerance on amounts of 1e-2
        adapter.advance(t_k)
        amounts.append(adapter.get("ca.amount"))
        left.append((amounts[-1] - at_left) / delta_ms)
        if k < len(values):
            adapter.advance(t_k + delta_ms)
            right.append((adapter.get("ca.amount") - amounts[-1]) / delta_ms)
    np.testing.assert_allclose(amounts, expected, rtol=1e-8, atol=1e-18)
    # steps would jump by the difference of two pieces' means (0.5 at least); this flux
    # moves by O(delta_ms) across a boundary
    smallest_jump = np.min(np.abs(np.diff(values))[np.diff(values) != 0]) / 1000.0
    assert np.max(np.abs(np.array(left[:-1]) - np.array(right))) < 0.05 * smallest_jump


def test_a_series_of_one_value_acts_as_that_constant_flux(stefan: SBMLModel) -> None:
    """Equal pieces are one constant flux, on a nonlinear model too."""
    flux = stefan.flux_parameter("ca")
    series = RoadRunnerAdapter(stefan, integrator_tolerances=TIGHT)
    constant = RoadRunnerAdapter(stefan, integrator_tolerances=TIGHT)
    for adapter in (series, constant):
        adapter.initialize()
    series.set_series(flux, Series(0.0, 0.1, np.full(40, 3e5)))
    constant.set(flux, 3e5)
    constant.advance(4.0)
    constant.set(flux, 0.0)
    for adapter in (series, constant):
        adapter.advance(6.0)
    names = list(stefan.species)
    np.testing.assert_allclose(
        series.get_many(names), constant.get_many(names), rtol=1e-6, atol=1e-16
    )


def test_series_only_on_flux_inputs(stefan: SBMLModel) -> None:
    adapter = RoadRunnerAdapter(stefan)
    adapter.initialize()
    with pytest.raises(AdapterError, match="only flux inputs"):
        adapter.set_series("species_1", Series(0.0, 1.0, np.ones(3)))


def test_switch_turns_a_reaction_off(stefan: SBMLModel) -> None:
    adapter = RoadRunnerAdapter(stefan)
    adapter.initialize()
    assert adapter.get("reaction_0") != 0.0
    adapter.set("switch.reaction_0", 0.0)
    assert adapter.get("reaction_0") == 0.0
    adapter.advance(1.0)
    assert adapter.get("reaction_0") == 0.0


# ------------------------------------------------------------- stop and go
def _calcium_pulse(model: SBMLModel, stops_ms: np.ndarray, round_trip: bool) -> np.ndarray:
    """Calcium flux on for 5 ms, then off; species read at every stop (and written back)."""
    adapter = RoadRunnerAdapter(model, integrator_tolerances=(1e-8, 1e-14))
    adapter.initialize()
    flux = model.flux_parameter("ca")
    names = list(model.species)
    rows = []
    adapter.set(flux, 5e5)
    for t_ms in stops_ms:
        adapter.advance(t_ms)
        if math.isclose(t_ms, 5.0):
            adapter.set(flux, 0.0)
        values = adapter.get_many(names)
        if round_trip:
            adapter.set_many(names, values)
        rows.append(values)
    return np.array(rows)


def test_chunked_run_matches_uninterrupted(stefan: SBMLModel) -> None:
    grid = np.array([0.0, 5.0, 10.0, 20.0, 30.0])
    irregular = np.sort(np.concatenate([grid, [0.013, 0.4, 1.7, 3.33, 4.999, 7.1, 15.0, 25.5]]))
    whole = _calcium_pulse(stefan, grid, round_trip=False)
    chunked = _calcium_pulse(stefan, irregular, round_trip=True)[np.searchsorted(irregular, grid)]
    assert whole[1, 1] > 1.3 * whole[0, 1]
    # Integrator tolerances (1e-8, 1e-14): RoadRunner scales the absolute one by the 1 fl
    # volume for species starting at zero, i.e. 1e-14 M; allow 100x the relative one.
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-14)


def test_save_restore_replays_the_trajectory(stefan: SBMLModel) -> None:
    adapter = RoadRunnerAdapter(stefan, integrator_tolerances=(1e-8, 1e-14))
    adapter.initialize()
    adapter.set(stefan.flux_parameter("ca"), 5e5)
    adapter.advance(2.0)
    state = adapter.save_state()
    adapter.advance(4.0)
    first = adapter.get_many(list(stefan.species))
    adapter.restore_state(state)
    assert adapter.t_ms == 2.0
    adapter.advance(4.0)
    np.testing.assert_allclose(adapter.get_many(list(stefan.species)), first, rtol=1e-6, atol=1e-16)


# --------------------------------------------------------------------- watches
def test_watch_locates_analytic_crossing() -> None:
    model = SBMLModel.load(DECAY)
    adapter = RoadRunnerAdapter(model, integrator_tolerances=TIGHT)
    adapter.initialize()
    watch = Watch("A", 0.5, "falling", key="half")
    assert not adapter.advance(100.0, [watch]).fired
    reached = adapter.advance(1000.0, [watch])
    assert reached.fired == (watch,)
    assert reached.t_ms == pytest.approx(1000.0 * math.log(2) / 3.0, abs=1e-5)
    assert adapter.get("A") <= 0.5


def test_watch_in_the_wrong_direction_does_not_fire() -> None:
    adapter = RoadRunnerAdapter(SBMLModel.load(DECAY))
    adapter.initialize()
    reached = adapter.advance(1000.0, [Watch("A", 0.5, "rising")])
    assert reached.t_ms == 1000.0
    assert not reached.fired


# ------------------------------------------------------------- many and lazy
def test_lazy_instances_at_rest_create_no_roadrunner() -> None:
    model = SBMLModel.load(AT_REST, flux_inputs={"A": ""})
    instances = RoadRunnerAdapter.many(model, 5, lazy=True)
    for adapter in instances:
        adapter.initialize()
        adapter.advance(1000.0)
    assert not any(a.materialized for a in instances)
    values = RoadRunnerAdapter.get_all(instances, ["A", "B"])
    np.testing.assert_array_equal(values, np.tile([2.0, 1.0], (5, 1)))
    instances[3].set(model.flux_parameter("A"), 0.0)
    assert not instances[3].materialized
    instances[3].set(model.flux_parameter("A"), 1.0)
    assert [a.materialized for a in instances] == [False, False, False, True, False]
    for adapter in instances:
        adapter.advance(2000.0)
    values = RoadRunnerAdapter.get_all(instances, ["A", "B"])
    assert values[3, 0] + values[3, 1] == pytest.approx(3.0 + 1.0, rel=1e-6)
    np.testing.assert_array_equal(values[[0, 1, 2, 4]], np.tile([2.0, 1.0], (4, 1)))


def test_fast_forward_once_at_rest_matches_analytic() -> None:
    """A(t) = A_eq + (A0 - A_eq) exp(-(k1 + k2) t); the later 1 s chunks are jumped over."""
    adapter = RoadRunnerAdapter(SBMLModel.load(AT_REST), integrator_tolerances=TIGHT)
    adapter.initialize()
    adapter.set("A", 2.3)
    a_eq = (2.3 + 1.0) * 2.0 / 3.0
    for t_s in range(1, 31):
        adapter.advance(1000.0 * t_s)
        expected = a_eq + (2.3 - a_eq) * math.exp(-3.0 * t_s)
        assert adapter.get("A") == pytest.approx(expected, rel=1e-7), t_s
    assert 0 < adapter.n_fast_forwards < 30


def test_driven_instance_is_not_fast_forwarded() -> None:
    model = SBMLModel.load(AT_REST, flux_inputs={"A": ""})
    adapter = RoadRunnerAdapter(model, integrator_tolerances=TIGHT)
    adapter.initialize()
    adapter.set(model.flux_parameter("A"), 0.3)
    adapter.advance(10_000.0)
    assert adapter.n_fast_forwards == 0
    assert adapter.get("A") + adapter.get("B") == pytest.approx(3.0 + 3.0, rel=1e-7)


def test_many_share_one_model_and_set_all() -> None:
    model = SBMLModel.load(DECAY)
    instances = RoadRunnerAdapter.many(model, 3, labels=["a", "b", "c"], lazy=False)
    for adapter in instances:
        adapter.initialize()
    RoadRunnerAdapter.set_all(instances, ["A"], np.array([[1.0], [2.0], [4.0]]))
    for adapter in instances:
        adapter.advance(100.0)
    values = RoadRunnerAdapter.get_all(instances, ["A"])[:, 0]
    np.testing.assert_allclose(values, np.array([1.0, 2.0, 4.0]) * math.exp(-0.3), rtol=1e-5)
    assert [a.label for a in instances] == ["a", "b", "c"]


def test_settled_model_rests_lazily_until_driven() -> None:
    # A settled state is at rest to the integrator's tolerance, and the rest test over a
    # jump asks |dA/dt| * jump <= rtol * A: a jump of 20 relaxation times (5 s), not hours.
    model = SBMLModel.load(SOURCE_SINK, flux_inputs={"A": ""}).settled(20_000.0, TIGHT)
    instances = RoadRunnerAdapter.many(model, 3, lazy=True, integrator_tolerances=TIGHT)
    for adapter in instances:
        adapter.initialize()
        adapter.advance(5_000.0)
    assert not any(a.materialized for a in instances)
    assert instances[0].get("A") == pytest.approx(2.0 / 4.0, rel=1e-8)
    instances[1].set(model.flux_parameter("A"), 1.0)
    instances[1].advance(120_000.0)
    assert instances[1].get("A") == pytest.approx((2.0 + 1.0) / 4.0, rel=1e-8)
    assert [a.materialized for a in instances] == [False, True, False]


def test_settling_refuses_time_dependent_models() -> None:
    with_event = SOURCE_SINK.replace("end", "  E1: at time > 1: k = 8\nend")
    with pytest.raises(ModelError, match="time-dependent"):
        SBMLModel.load(with_event).settled(1000.0)


def test_lazy_instances_restored_from_a_template_stay_lazy() -> None:
    """The pattern of equilibrating one instance and restoring its state into every spine."""
    model = SBMLModel.load(SOURCE_SINK, flux_inputs={"A": ""})
    template = RoadRunnerAdapter(model, integrator_tolerances=TIGHT)
    template.initialize()
    template.advance(20_000.0)
    _, state = template.save_state()  # type: ignore[misc]
    instances = RoadRunnerAdapter.many(model, 3, lazy=True, integrator_tolerances=TIGHT)
    for adapter in instances:
        adapter.initialize(20_000.0)
        adapter.restore_state((20_000.0, state))
        adapter.advance(25_000.0)  # 20 relaxation times (see the test above)
    assert not any(a.materialized for a in instances)
    assert instances[2].get("A") == pytest.approx(0.5, rel=1e-8)
    instances[0].set(model.flux_parameter("A"), 1.0)
    instances[0].advance(140_000.0)
    assert instances[0].get("A") == pytest.approx(0.75, rel=1e-8)
    assert [a.materialized for a in instances] == [True, False, False]


def test_rest_atol_ignores_sub_molecule_drift() -> None:
    """A trace species decaying at 1e-26 mol is activity for the integrator's own tolerances
    but not above a 1e-24 mol floor."""
    trace = SBMLModel.load(
        "model trace\n  compartment cell = 1\n  species A in cell, X in cell\n"
        "  J1: X -> ; k*X\n  A = 1; X = 1e-26; k = 0.01\nend\n"
    )
    strict, floored = (
        RoadRunnerAdapter(trace, lazy=True, rest_atol=floor) for floor in (0.0, 1e-24)
    )
    for adapter in (strict, floored):
        adapter.initialize()
        adapter.advance(1000.0)
    assert strict.materialized
    assert not floored.materialized
    assert floored.get("A") == 1.0


def test_parameters_and_compartments_resolve_by_their_unique_names() -> None:
    model = SBMLModel.load(shared_path("sbml", "BIOMD0000000183.xml"))
    # the file names parameter_0 'kon' and compartment_0 'Spine'
    assert model.resolve("kon") == "parameter_0"
    assert model.resolve("Spine") == "compartment_0"
    assert model.resolve("parameter_0") == "parameter_0"
    assert "kon" in model.known_names()
    described = {p["id"]: p for p in model.describe()["parameters"]}
    assert described["parameter_0"]["name"] == "kon"
    assert described["parameter_0"]["value"] == pytest.approx(1e6)
    with pytest.raises(UnknownNameError, match="kon"):
        model.resolve("konn")


# ------------------------------------------------------------------ failures
@pytest.mark.parametrize("watched", [False, True])
def test_an_integrator_failure_names_the_instance_its_time_and_the_model(
    tmp_path: Path, watched: bool
) -> None:
    file = tmp_path / "blows_up.xml"
    file.write_text(SBMLModel.load(BLOWS_UP).sbml)
    adapter = RoadRunnerAdapter(SBMLModel.load(file), "spine3", integrator_tolerances=TIGHT)
    adapter.initialize()
    adapter.advance(500.0)
    assert adapter.get("A") == pytest.approx(2.0, rel=1e-7)  # 1 / (1 - 0.5)
    watches = [Watch("A", 1e300)] if watched else []
    with pytest.raises(SolverError) as err:
        adapter.advance(2000.0, watches)
    failure = err.value
    assert (failure.instance, failure.model, failure.phase) == ("spine3", str(file), "")
    # the integrator gives up on its way to the singularity at 1 s, not before
    assert 990.0 < failure.t_ms <= 1000.0
    assert failure.message.startswith("CVODE Error: CV_")
    assert str(failure) == (
        f"{file}: instance 'spine3': the integrator failed at t = {failure.t_ms:.10g} ms: "
        f"{failure.message}"
    )
    assert "\n" not in str(failure)
    placed = str(failure.during("run"))
    assert placed.startswith(f"{file}: instance 'spine3': the integrator failed during the run")
