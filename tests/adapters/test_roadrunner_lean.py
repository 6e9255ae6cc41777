"""Lean RoadRunner instances against plainly created ones: bitwise the same trajectories, eagerly
created or restored from a template's state, with a fraction of the memory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import psutil
import pytest

from conftest import skip_module_without
from timescales.adapter import Series

skip_module_without("roadrunner")
pytestmark = pytest.mark.roadrunner

from timescales.adapters import roadrunner as rr_adapter  # noqa: E402
from timescales.adapters._imports import import_roadrunner  # noqa: E402
from timescales.adapters._roadrunner_lean import new_runner  # noqa: E402
from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel  # noqa: E402
from timescales.models import sbml as catalogue  # noqa: E402

TOLERANCES = (1e-8, 1e-14)
#: Events at time 0 that change parameters by increments: firing them twice would show.
EVENTS = """
model increments
  compartment c = 1
  species A in c, B in c
  J1: A -> B; k1*A*p
  J2: B -> A; k2*B
  A = 10; B = 0; k1 = 0.5; k2 = 0.1; p = 1; q = 0; ca_in = 0
  E0: at time >= 0, t0 = false: p = p + 1, A = A + 2
  E1: at B > 3: q = q + 1, A = A + 1
  E2: at time > 1.2: k1 = k1 * 0.5
end
"""
#: No state variables and no events: boundary species only, and a rule of time.
BOUNDARIES = """
model boundaries
  compartment c = 1
  species $A in c, $B in c
  J1: $A -> $B; k*A
  A = 2; B = 1; k = 0.5
  x := k * time
end
"""
#: Instances created before measuring (they may reuse memory freed earlier), instances measured,
#: and the bound (bytes per instance).
WARM_UP = 10
MEASURED = 30
MAX_BYTES_PER_INSTANCE = 4e6


@pytest.fixture(scope="module")
def spine() -> SBMLModel:
    return SBMLModel.load(catalogue.path("spine_network"), flux_inputs={"ca": "molecules/s"})


@pytest.fixture(scope="module")
def events() -> SBMLModel:
    return SBMLModel.load(EVENTS)


def plain_runner(model: SBMLModel, tolerances: rr_adapter.Tolerances) -> Any:
    """A RoadRunner made the plain way, with the adapter's tolerances."""
    runner = import_roadrunner().RoadRunner(model.sbml)
    if tolerances is not None:
        runner.integrator.setValue("relative_tolerance", tolerances[0])
        runner.integrator.setValue("absolute_tolerance", tolerances[1])
    return runner


@pytest.fixture
def keeper(spine: SBMLModel, events: SBMLModel) -> Iterator[None]:
    """An instance of each model alive during the test: libRoadRunner 2.10 integrates the
    instance that compiles a model slightly differently from the ones that reuse it (those get
    no root functions for piecewise expressions), so every instance compared here reuses it."""
    runners = [import_roadrunner().RoadRunner(m.sbml) for m in (spine, events)]
    yield
    runners.clear()


def both_ways(
    monkeypatch: pytest.MonkeyPatch, run: Callable[[], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """`run` with the adapter's lean instances, then with instances made the plain way."""
    lean = run()
    with monkeypatch.context() as patch:
        patch.setattr(rr_adapter, "_new_runner", plain_runner)
        plain = run()
    return lean, plain


def drive(adapter: RoadRunnerAdapter, model: SBMLModel, t0_ms: float = 0.0) -> np.ndarray:
    """Calcium flux steps and a sampled transient: every species after each advance."""
    flux = model.flux_parameter("ca")
    names = list(model.species)
    rows = []
    for k, value in enumerate((2e5, 0.0, 8e5)):
        adapter.set(flux, value)
        adapter.advance(t0_ms + 5.0 * (k + 1))
        rows.append(adapter.get_many(names))
    adapter.set_series(flux, Series(t0_ms + 15.0, 0.5, np.linspace(1e5, 1e6, 10)))
    adapter.advance(t0_ms + 25.0)
    rows.append(adapter.get_many(names))
    return np.array(rows)


@pytest.mark.usefixtures("keeper")
def test_eager_spine_network_integrates_bitwise_like_a_plain_instance(
    spine: SBMLModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run() -> np.ndarray:
        adapter = RoadRunnerAdapter(spine, integrator_tolerances=TOLERANCES)
        adapter.initialize(0.0)
        return drive(adapter, spine)

    lean, plain = both_ways(monkeypatch, run)
    assert np.count_nonzero(lean[-1] != lean[0]) > len(spine.species) / 2  # the inputs act
    np.testing.assert_array_equal(lean, plain)


@pytest.mark.usefixtures("keeper")
def test_restored_spine_network_integrates_bitwise_like_a_plain_instance(
    spine: SBMLModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A template driven for a while, its state restored into a lazy instance, then driven."""

    def run() -> np.ndarray:
        template = RoadRunnerAdapter(spine, integrator_tolerances=TOLERANCES)
        template.initialize(0.0)
        template.set(spine.flux_parameter("ca"), 3e5)
        template.advance(10.0)
        _, state = template.save_state()  # type: ignore[misc]
        adapter = RoadRunnerAdapter(spine, lazy=True, integrator_tolerances=TOLERANCES)
        adapter.initialize(10.0)
        adapter.restore_state((10.0, state))
        return drive(adapter, spine, t0_ms=10.0)

    lean, plain = both_ways(monkeypatch, run)
    np.testing.assert_array_equal(lean, plain)


@pytest.mark.usefixtures("keeper")
def test_events_at_time_zero_fire_once_as_in_a_plain_instance(events: SBMLModel) -> None:
    names = ["A", "B", "p", "q", "k1"]
    lean, plain = new_runner(events), plain_runner(events, None)
    rows = {"lean": [], "plain": []}
    for key, runner in (("lean", lean), ("plain", plain)):
        for t in np.arange(0.0, 3.0, 0.5):
            runner.model.setTime(t)
            runner.integrator.restart(t)
            runner.integrator.integrate(t, 0.5)
            rows[key].append([runner.getValue(n) for n in names])
    assert rows["plain"][0][2] == 2.0  # p: E0 fired once
    assert rows["plain"][-1][3] >= 1.0  # q: E1 fired during the run
    np.testing.assert_array_equal(rows["lean"], rows["plain"])


def test_models_without_state_variables_load_lean_and_run() -> None:
    """The sensitivity solver of such a model holds no CVODE memory: shrinking it would read
    a null state vector (a segfault, SBML Test Suite case 00013)."""
    model = SBMLModel.load(BOUNDARIES)
    lean, plain = new_runner(model), plain_runner(model, None)
    assert len(lean.getCurrentSBML()) < len(plain.getCurrentSBML()) / 2
    adapter = RoadRunnerAdapter(model)
    adapter.initialize(0.0)
    for t_ms in (500.0, 1500.0, 4000.0):
        adapter.advance(t_ms)
        assert adapter.get("x") == pytest.approx(0.5 * t_ms / 1000.0, rel=1e-12)
        assert (adapter.get("A"), adapter.get("B")) == (2.0, 1.0)


@pytest.mark.usefixtures("keeper")
def test_lean_instances_keep_no_document_and_one_sensitivity(spine: SBMLModel) -> None:
    lean, plain = new_runner(spine), plain_runner(spine, None)
    assert len(lean.getCurrentSBML()) < len(plain.getCurrentSBML()) / 50
    n_states = len(spine.species)
    assert plain.getSensitivitySolver().getSensitivityMatrix(0).shape[0] > 100
    assert lean.getSensitivitySolver().getSensitivityMatrix(0).shape == (1, n_states)


@pytest.mark.usefixtures("keeper")
def test_lean_spine_networks_take_under_4_mb_each(spine: SBMLModel) -> None:
    runners = [new_runner(spine) for _ in range(WARM_UP)]
    process = psutil.Process()
    before = process.memory_info().rss
    runners += [new_runner(spine) for _ in range(MEASURED)]
    assert (process.memory_info().rss - before) / MEASURED < MAX_BYTES_PER_INSTANCE
