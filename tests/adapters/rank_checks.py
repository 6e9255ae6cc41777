"""Checks of RoadRunner instances on MPI ranks, run by pytest on rank 0 of `mpirun -n 3`
(test_roadrunner_ranks.py starts it; ranks 1 and 2 hold the instances): the proxies keep
the adapter contract, follow local instances exactly, read many instances in one round,
and name the rank in their errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from timescales import mpi
from timescales.adapter import Adapter, Series
from timescales.errors import RankError, SolverError
from timescales.testing.conformance import AdapterContract

LEADER = mpi.leader()
if LEADER is None:
    pytest.skip("rank 0's checks: run by test_roadrunner_ranks.py", allow_module_level=True)

from timescales.adapters.roadrunner import RoadRunnerAdapter, SBMLModel  # noqa: E402
from timescales.adapters.roadrunner_ranks import RoadRunnerRanks  # noqa: E402

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


@pytest.fixture(scope="module")
def decay() -> SBMLModel:
    return SBMLModel.load(DECAY, flux_inputs={"S": ""})


@pytest.fixture
def ranks(decay: SBMLModel) -> Iterator[RoadRunnerRanks]:
    with RoadRunnerRanks(decay, LEADER) as ranks:
        yield ranks


class TestContract(AdapterContract):
    @pytest.fixture
    def adapter(self, ranks: RoadRunnerRanks) -> Adapter:
        proxy = ranks.adapters(["spine"])[0]
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


def test_instances_go_to_the_ranks_round_robin_in_the_order_given(ranks: RoadRunnerRanks) -> None:
    proxies = ranks.adapters([f"p{i}" for i in range(5)])
    assert [p.rank for p in proxies] == [1, 2, 1, 2, 1]


def test_a_rank_instance_follows_a_local_one_exactly(
    ranks: RoadRunnerRanks, decay: SBMLModel
) -> None:
    keeper = RoadRunnerAdapter(decay, "keeper")  # instances here integrate as the ranks' do
    local = RoadRunnerAdapter(decay, "local", lazy=True)
    remote = ranks.adapters(["remote"])[0]
    seen: list[tuple[float, float]] = []
    for a in (local, remote):
        a.initialize(0.0)
        a.set_series("ts_flux_S", Series(0.0, 0.5, np.array([1.0, 4.0, 2.0, 0.5])))
        a.post_advance(2.5)
        first = a.get("S")
        a.set("S", 0.75)
        a.advance(7.0)
        seen.append((first, a.get("S")))
    assert seen[0] == seen[1]
    del keeper


def test_reads_after_a_dispatch_need_no_round_more_however_many_instances(
    ranks: RoadRunnerRanks,
) -> None:
    proxies = ranks.adapters([f"s{i}" for i in range(12)])
    for i, p in enumerate(proxies):
        p.initialize(0.0)
        p.set("ts_flux_S", float(i))
    proxies[0].get("S")  # the first read of S fetches it from every instance
    for p in proxies:
        p.post_advance(1.0)
    rounds = LEADER.rounds
    ranks.dispatch()
    values = [p.get("S") for p in proxies]
    assert LEADER.rounds == rounds + 1  # one scatter (and its gather) for all twelve
    assert values == sorted(values)  # more influx, more S


def test_a_solver_failure_names_the_rank_the_instance_and_the_time() -> None:
    with RoadRunnerRanks(SBMLModel.load(BLOWS_UP), LEADER) as ranks:
        proxy = ranks.adapters(["blows"])[0]
        proxy.initialize(0.0)
        with pytest.raises(SolverError) as err:
            proxy.advance(2000.0)
    failure = err.value
    assert (failure.rank, failure.instance) == (proxy.rank, "blows")
    assert 990.0 < failure.t_ms <= 1000.0  # A = 1 / (1 - t) blows up at 1 s
    assert f"instance 'blows' on rank {proxy.rank}: the integrator failed" in str(failure)


def test_any_error_on_a_rank_names_it_and_the_next_dispatch_raises_it(
    ranks: RoadRunnerRanks,
) -> None:
    quiet, failing = ranks.adapters(["quiet", "failing"])
    for p in (quiet, failing):
        p.initialize(0.0)
        p.post_advance(3.0)
    failing.set_series("ts_flux_S", Series(3.0, 1.0, np.array([np.nan])))
    ranks.dispatch()
    quiet.get("S")  # collects the round, whose reply carries failing's error
    with pytest.raises(RankError) as err:
        ranks.dispatch()
    assert str(err.value).startswith(f"rank {failing.rank}: instance 'failing' at t = 3 ms: ")
    assert "non-finite" in str(err.value)


def test_closing_raises_what_was_not_raised_and_the_ranks_serve_again(decay: SBMLModel) -> None:
    ranks = RoadRunnerRanks(decay, LEADER)
    proxy = ranks.adapters(["x"])[0]
    proxy.initialize(0.0)
    proxy.set_series("ts_flux_S", Series(0.0, 1.0, np.array([np.inf])))
    with pytest.raises(RankError, match="the ranks already run a server"):
        RoadRunnerRanks(decay, LEADER)
    with pytest.raises(RankError, match="rank 1: instance 'x'"):
        ranks.close()
    with RoadRunnerRanks(decay, LEADER) as again:
        fresh = again.adapters(["y"])[0]
        fresh.initialize(0.0)
        assert fresh.get("S") == 1.0


def test_a_state_saved_on_a_rank_restores_here(ranks: RoadRunnerRanks, decay: SBMLModel) -> None:
    keeper = RoadRunnerAdapter(decay, "keeper")
    remote = ranks.adapters(["remote"])[0]
    local = RoadRunnerAdapter(decay, "local")
    remote.initialize(0.0)
    local.initialize(0.0)
    remote.set_series("ts_flux_S", Series(0.0, 1.0, np.array([3.0, 1.0])))
    remote.advance(1.5)
    local.restore_state(remote.save_state())
    remote.advance(4.0)
    local.advance(4.0)
    assert local.t_ms == remote.t_ms == 4.0
    assert local.get("S") == remote.get("S")
    del keeper
