"""The RoadRunner pool: proxies keep the adapter contract, match local runs exactly, run
asynchronously, and carry worker errors and deaths to the parent."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import numpy as np
import psutil
import pytest

from conftest import skip_module_without
from timescales.adapter import Adapter, Series, Watch
from timescales.errors import AdapterError, SolverError
from timescales.testing.conformance import AdapterContract

skip_module_without("roadrunner")
pytestmark = pytest.mark.roadrunner

from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel  # noqa: E402
from timescales.adapters.roadrunner_pool import (  # noqa: E402
    WORKER_NICE,
    RemoteRoadRunnerAdapter,
    RoadRunnerPool,
)

#: First-order decay with a flux input into S.
DECAY = """
model decay_in
  compartment cell = 1
  species S in cell
  J1: S -> ; k*S
  S = 1; k = 3
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
#: A fast oscillator: a long series takes CVODE about a second (many restarts).
OSCILLATOR = """
model fast_osc
  compartment cell = 1
  species x in cell, y in cell
  J1: -> x; w*y
  J2: -> y; -w*x
  x = 1; y = 0; w = 300
end
"""


@pytest.fixture(scope="module")
def oscillator() -> SBMLModel:
    return SBMLModel.load(OSCILLATOR, flux_inputs={"x": ""})


@pytest.fixture(scope="module")
def slow_pool(oscillator: SBMLModel) -> Iterator[RoadRunnerPool]:
    with RoadRunnerPool(oscillator, workers=1) as pool:
        yield pool


@pytest.fixture(scope="module")
def decay() -> SBMLModel:
    return SBMLModel.load(DECAY, flux_inputs={"S": ""})


@pytest.fixture(scope="module")
def pool(decay: SBMLModel) -> Iterator[RoadRunnerPool]:
    with RoadRunnerPool(decay, workers=2) as pool:
        yield pool


def _children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children() if p.status() != psutil.STATUS_ZOMBIE]


def _pool_pids_alive(pids: tuple[int, ...]) -> list[int]:
    """Pool processes that still exist as children (running or unreaped)."""
    return [p.pid for p in psutil.Process().children() if p.pid in pids]


# --------------------------------------------------------------------- contract
class TestContract(AdapterContract):
    @pytest.fixture
    def adapter(self, pool: RoadRunnerPool) -> Adapter:
        proxy = pool.adapters(["spine"])[0]
        proxy.initialize(0.0)
        proxy.set("ts_flux_S", 2.0)
        return proxy

    @pytest.fixture
    def settable(self) -> tuple[str, float]:
        return ("S", 0.25)

    @pytest.fixture
    def changing(self) -> str:
        return "S"

    @pytest.fixture
    def series_input(self) -> tuple[str, float]:
        return ("ts_flux_S", 0.5)


def test_proxies_take_no_watches(pool: RoadRunnerPool) -> None:
    proxy = pool.adapters(["w"])[0]
    proxy.initialize(0.0)
    with pytest.raises(AdapterError, match="watches"):
        proxy.advance(proxy.t_ms + 1.0, [Watch("S", 0.5, "falling")])


def test_proxy_declares_roadrunner_kind_and_answers_variables_locally(
    pool: RoadRunnerPool, decay: SBMLModel
) -> None:
    proxy = pool.adapters(["v"])[0]
    assert isinstance(proxy, RemoteRoadRunnerAdapter)
    assert proxy.kind == RoadRunnerAdapter.kind
    assert proxy.capabilities.save_restore
    assert proxy.capabilities.series_input
    assert not proxy.capabilities.native_watches
    assert proxy.variables() is decay.variables()


# --------------------------------------------------------------------- equality
def _drive(adapters: list[Adapter], flux: str) -> list[np.ndarray]:
    """The same sequence of operations on every adapter, advances posted (proxies run them
    side by side); all variables read at the end."""
    names = list(adapters[0].variables())
    for a in adapters:
        a.initialize(0.0)
    saved = []
    for k in range(6):
        for i, a in enumerate(adapters):
            values = np.linspace(0.0, 4.0 * (i + 1), 7) * (k % 3)
            a.set_series(flux, Series(a.t_ms, 1.5, values))
            a.post_advance(a.t_ms + 12.0)
            if k == 2:
                a.set("k", 2.0 + i)
                saved.append(a.save_state())
    for a, state in zip(adapters, saved, strict=True):
        a.post_advance(a.t_ms + 5.0)
        a.restore_state(state)
        a.post_advance(a.t_ms + 7.0)
    return [a.get_many(names) for a in adapters]


@pytest.mark.parametrize("lazy", [True, False])
def test_pool_run_equals_local_run_exactly(
    pool: RoadRunnerPool, decay: SBMLModel, lazy: bool
) -> None:
    labels = [f"s{i}" for i in range(5)]
    proxies = pool.adapters(labels, lazy=lazy)
    assert {p.worker for p in proxies} == {0, 1}
    local = [RoadRunnerAdapter(decay, label, lazy=lazy) for label in labels]
    flux = decay.flux_parameter("S")
    remote_values = _drive(list(proxies), flux)
    local_values = _drive(list(local), flux)
    for remote, ref in zip(remote_values, local_values, strict=True):
        np.testing.assert_array_equal(remote, ref)
    assert [p.t_ms for p in proxies] == [a.t_ms for a in local]
    assert [p.stats.n_advance for p in proxies] == [a.stats.n_advance for a in local]


def test_one_state_restored_into_many_proxies_and_many_states(
    pool: RoadRunnerPool, decay: SBMLModel
) -> None:
    """A template's state goes to every spine (sent once per worker); more distinct states
    than a worker keeps still restore correctly."""
    template = RoadRunnerAdapter(decay, "template")
    template.initialize(0.0)
    template.set("S", 0.4)
    template.advance(10.0)
    state = template.save_state()
    proxies = pool.adapters([f"r{i}" for i in range(6)])
    for p in proxies:
        p.initialize(0.0)
        p.restore_state(state)
        p.advance(20.0)
    template.advance(20.0)
    assert [p.get("S") for p in proxies] == [template.get("S")] * 6
    proxy = proxies[0]
    saved = []
    for i in range(24):
        proxy.set("S", 1.0 + i)
        saved.append(proxy.save_state())
    for i in (23, 0, 5, 23):
        proxy.restore_state(saved[i])
        assert proxy.get("S") == 1.0 + i


def test_get_all_reads_every_proxy_after_its_queued_work(
    pool: RoadRunnerPool, decay: SBMLModel
) -> None:
    proxies = pool.adapters([f"g{i}" for i in range(4)])
    for i, p in enumerate(proxies):
        p.initialize(0.0)
        p.set("S", 1.0 + i)
        p.post_advance(20.0)
    values = pool.get_all(proxies, ["S", "k"])
    assert values.shape == (4, 2)
    expected = [(1.0 + i) * np.exp(-3 * 0.02) for i in range(4)]
    np.testing.assert_allclose(values[:, 0], expected, rtol=1e-5)
    np.testing.assert_array_equal(values, [p.get_many(["S", "k"]) for p in proxies])
    assert [p.stats.n_get for p in proxies] == [2, 2, 2, 2]
    proxies[3].set_series("k", Series(20.0, 1.0, np.ones(2)))
    with pytest.raises(AdapterError, match="only flux inputs"):
        pool.get_all(proxies, ["S"])
    assert pool.get_all(proxies, ["S"]).shape == (4, 1)


def test_local_state_restores_into_a_proxy(pool: RoadRunnerPool, decay: SBMLModel) -> None:
    local = RoadRunnerAdapter(decay, "template")
    local.initialize(0.0)
    local.set("S", 0.7)
    local.advance(30.0)
    proxy = pool.adapters(["copy"])[0]
    proxy.initialize(0.0)
    proxy.restore_state(local.save_state())
    assert proxy.t_ms == 30.0
    local.advance(40.0)
    proxy.advance(40.0)
    assert proxy.get("S") == local.get("S")


# --------------------------------------------------------------------- asynchrony
def test_post_advance_returns_before_the_work_is_done(
    slow_pool: RoadRunnerPool, oscillator: SBMLModel
) -> None:
    model, pool = oscillator, slow_pool
    proxy = pool.adapters(["slow"], lazy=False)[0]
    proxy.initialize(0.0)
    proxy.set_series(model.flux_parameter("x"), Series(0.0, 1.0, np.zeros(10_000)))
    pool.sync()
    busy_before = pool.busy_s()
    proxy.post_advance(10_000.0)
    busy_after_advance = pool.busy_s()
    value = proxy.get("x")
    busy_after_get = pool.busy_s()
    assert proxy.t_ms == 10_000.0
    assert busy_after_advance == busy_before, "post_advance waited for the worker"
    assert busy_after_get > busy_before, "get returned before the advance was done"
    local = RoadRunnerAdapter(model, "ref", lazy=False)
    local.initialize(0.0)
    local.set_series(model.flux_parameter("x"), Series(0.0, 1.0, np.zeros(10_000)))
    local.advance(10_000.0)
    assert value == local.get("x")


def test_wait_returns_once_the_posted_work_is_done_and_raises_its_error(
    slow_pool: RoadRunnerPool, oscillator: SBMLModel
) -> None:
    model, pool = oscillator, slow_pool
    flux = model.flux_parameter("x")
    proxy = pool.adapters(["waited"], lazy=False)[0]
    proxy.initialize(0.0)
    proxy.set_series(flux, Series(0.0, 1.0, np.zeros(10_000)))
    pool.sync()
    busy_before = pool.busy_s()
    proxy.post_advance(10_000.0)
    proxy.wait()
    assert pool.busy_s() > busy_before, "wait returned before the advance was done"
    assert proxy.stats.n_get == 0
    local = RoadRunnerAdapter(model, "ref", lazy=False)
    local.initialize(0.0)
    local.set_series(flux, Series(0.0, 1.0, np.zeros(10_000)))
    local.advance(10_000.0)
    assert proxy.get("x") == local.get("x")
    proxy.set_series("w", Series(proxy.t_ms, 1.0, np.ones(3)))
    proxy.post_advance(proxy.t_ms + 3.0)
    with pytest.raises(AdapterError, match="only flux inputs take a series"):
        proxy.wait()


def test_stats_report_worker_compute_time(pool: RoadRunnerPool) -> None:
    proxy = pool.adapters(["timed"])[0]
    proxy.initialize(0.0)
    proxy.set("S", 0.5)
    for _ in range(3):
        proxy.advance(proxy.t_ms + 10.0)
    pool.sync()
    assert proxy.stats.n_advance == 3
    assert proxy.stats.n_set == 1
    assert 0.0 < proxy.stats.wall_s <= pool.busy_s()


def test_workers_run_below_the_parents_priority(pool: RoadRunnerPool, decay: SBMLModel) -> None:
    parent = os.getpriority(os.PRIO_PROCESS, 0)
    expected = min(19, parent + WORKER_NICE)
    assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pool.worker_pids] == [expected] * 2
    with RoadRunnerPool(decay, workers=1, nice=0) as same:
        assert os.getpriority(os.PRIO_PROCESS, same.worker_pids[0]) == parent
    with pytest.raises(AdapterError, match=r"nice must be within 0\.\.19, got 20"):
        RoadRunnerPool(decay, nice=20)


# --------------------------------------------------------------------- errors
def test_worker_error_surfaces_at_next_blocking_call(pool: RoadRunnerPool) -> None:
    proxy = pool.adapters(["bad"])[0]
    proxy.initialize(0.0)
    proxy.set_series("k", Series(0.0, 1.0, np.ones(3)))
    proxy.post_advance(20.0)
    with pytest.raises(AdapterError, match="only flux inputs take a series") as err:
        proxy.get("S")
    notes = "\n".join(err.value.__notes__)
    assert "Traceback" in notes
    assert "roadrunner pool worker" in notes
    assert "1 later queued operation" in notes
    assert proxy.t_ms == 0.0
    proxy.advance(10.0)
    assert proxy.get("S") == pytest.approx(np.exp(-3 * 0.01), rel=1e-5)


def test_an_unknown_operation_reaches_the_parent_by_name(pool: RoadRunnerPool) -> None:
    proxy = pool.adapters(["odd"])[0]
    proxy.initialize(0.0)
    proxy._link.post(proxy._id, "bogus", (), proxy.label)
    with pytest.raises(AdapterError, match="the worker has no operation 'bogus'"):
        proxy.get("S")
    assert proxy.get("S") == pytest.approx(1.0)


def test_solver_error_keeps_its_class_and_message(slow_pool: RoadRunnerPool) -> None:
    """A fast oscillation over a long advance needs more CVODE steps than it may take."""
    proxy = slow_pool.adapters(["too_long"])[0]
    proxy.initialize(0.0)
    proxy.set("w", 1000.0)
    proxy.post_advance(10_000.0)
    with pytest.raises(SolverError, match="CV_TOO_MUCH_WORK") as err:
        proxy.save_state()
    assert (err.value.instance, err.value.model) == ("too_long", "<string>")
    assert 0.0 < err.value.t_ms < 10_000.0


def test_an_integrator_failure_in_a_worker_names_the_instance_its_time_and_the_model() -> None:
    """A' = A^2 from A = 1 at t0: A = 1 / (1 - (t - t0)), which blows up 1 s after t0."""
    model = SBMLModel.load(BLOWS_UP)
    with RoadRunnerPool(model, workers=1) as pool:
        [proxy] = pool.adapters(["spine5"])
        proxy.initialize(250.0)
        proxy.post_advance(5000.0)
        with pytest.raises(SolverError) as err:
            proxy.get("A")
    failure = err.value
    assert (failure.instance, failure.model) == ("spine5", "<string>")
    assert 1240.0 < failure.t_ms <= 1250.0
    assert failure.message.startswith("CVODE Error: CV_")
    assert str(failure).startswith("<string>: instance 'spine5': the integrator failed at t = ")


def test_unreported_error_is_raised_at_close(decay: SBMLModel) -> None:
    pool = RoadRunnerPool(decay, workers=2)
    pids = pool.worker_pids
    proxy = pool.adapters(["a", "b"])[1]
    proxy.initialize(0.0)
    proxy.set_series("k", Series(0.0, 1.0, np.ones(2)))
    with pytest.raises(AdapterError, match="only flux inputs"):
        pool.close()
    pool.close()
    assert _pool_pids_alive(pids) == []


def test_dead_worker_is_named_and_close_reaps_everything(decay: SBMLModel) -> None:
    pool = RoadRunnerPool(decay, workers=2)
    pids = pool.worker_pids
    proxies = pool.adapters(["a", "b"])
    for p in proxies:
        p.initialize(0.0)
    proxies[0].advance(5.0)
    proxies[0].get("S")
    os.kill(pids[0], signal.SIGKILL)
    with pytest.raises(AdapterError, match=r"worker 0 .*killed by SIGKILL.*get a 'S'"):
        proxies[0].get("S")
    with pytest.raises(AdapterError, match="worker 0"):
        proxies[0].advance(10.0)
    proxies[1].advance(5.0)
    assert proxies[1].get("S") == pytest.approx(np.exp(-3 * 0.005), rel=1e-5)
    pool.close()
    pool.close()
    assert _pool_pids_alive(pids) == []
    assert not [c for c in _children() if c.pid in pids]


def test_leaving_the_block_on_an_exception_keeps_it_and_stops_the_workers(
    decay: SBMLModel,
) -> None:
    def fail_inside(pool: RoadRunnerPool) -> None:
        with pool:
            proxy = pool.adapters(["a"])[0]
            proxy.initialize(0.0)
            proxy.set_series("k", Series(0.0, 1.0, np.ones(2)))
            raise KeyError("user error")

    pool = RoadRunnerPool(decay, workers=1)
    pids = pool.worker_pids
    with pytest.raises(KeyError) as err:
        fail_inside(pool)
    assert err.value.args == ("user error",)
    assert _pool_pids_alive(pids) == []
