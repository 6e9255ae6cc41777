"""On the demo experiment, event-driven coupling agrees with lockstep at far fewer exchanges."""

from __future__ import annotations

import pytest

from conftest import ROOT
from timescales import Experiment

pytestmark = [pytest.mark.neuron, pytest.mark.roadrunner]

#: 200 ms of coupled run after equilibration: the first inputs of the train (250, 300 ms).
DURATION_MS = 200.0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("strategies")
    experiment = Experiment.from_file(ROOT / "examples" / "demo.toml")
    return {
        mode: experiment.run(duration_ms=DURATION_MS, mode=mode, output=out / f"{mode}.h5")
        for mode in ("lockstep", "event")
    }


def test_event_final_weight_within_one_percent_of_lockstep(runs) -> None:
    ref, ev = runs["lockstep"].weight[-1, 0], runs["event"].weight[-1, 0]
    assert ref > 1.0  # the input moved the weight
    assert abs(ev - ref) / ref < 0.01


def test_event_uses_far_fewer_exchanges(runs) -> None:
    ref, ev = runs["lockstep"].stats, runs["event"].stats
    # lockstep exchanges calcium at every 0.025 ms step of the open window
    window = ref.windows[0]
    assert ref.exchanges["ca1"] == pytest.approx((300.0 - window.open_ms) / 0.025, abs=2)
    assert ev.exchanges["ca1"] * 100 < ref.exchanges["ca1"]


def test_both_deliver_the_same_calcium(runs) -> None:
    ref, ev = runs["lockstep"].stats.windows[0], runs["event"].stats.windows[0]
    assert ev.open_ms == pytest.approx(ref.open_ms, abs=0.025)
    assert ev.influx == pytest.approx(ref.influx, rel=0.01)
