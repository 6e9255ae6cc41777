"""Poisson background input: each spine's own seeded train at the asked rate, the same
whatever else is computed, and stimulus tables that say when inputs come or one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from timescales.experiment.load import load_experiment
from timescales.experiment.problems import ExperimentError
from timescales.stimuli import merged_times, poisson_times

stats = pytest.importorskip("scipy.stats")

BACKGROUND = {
    "spines": list(range(1, 301)),
    "synapses": ["ampa"],
    "process": "poisson",
    "start_ms": 100.0,
    "stop_ms": 20100.0,
    "rate_hz": 5.0,
    "seed": 7,
}


def test_counts_and_intervals_are_those_of_a_poisson_process() -> None:
    trains = [poisson_times(BACKGROUND, j) for j in BACKGROUND["spines"]]
    counts = np.array([len(t) for t in trains])
    expected = 5.0 * 20.0  # per spine: rate (Hz) times span (s)
    total = counts.sum()
    assert abs(total - expected * len(trains)) < 4 * np.sqrt(expected * len(trains))
    assert counts.var() == pytest.approx(expected, rel=0.25)  # Poisson: variance = mean
    intervals = np.concatenate([np.diff([100.0, *t]) for t in trains])
    assert stats.kstest(intervals, "expon", args=(0.0, 200.0)).pvalue > 1e-3
    assert all(t[0] > 100.0 and t[-1] <= 20100.0 for t in trains)


def test_each_spine_has_its_own_stream_fixed_by_the_seed() -> None:
    first = poisson_times(BACKGROUND, 1)
    assert first == poisson_times(BACKGROUND, 1)
    assert first != poisson_times(BACKGROUND, 2)
    assert first != poisson_times({**BACKGROUND, "seed": 8}, 1)
    few = merged_times([{**BACKGROUND, "spines": [1, 2]}])
    many = merged_times([BACKGROUND])
    assert few[1] == many[1]
    assert few[2] == many[2]


def _write(tmp_path: Path, stimulus: str) -> Path:
    path = tmp_path / "bg.toml"
    path.write_text(
        '[experiment]\nduration_ms = 400.0\nseed = 3\n\n[cell]\nmodel = "msn"\n'
        f'spines = "two"\n\n[[stimulus]]\n{stimulus}\n'
    )
    return path


def test_all_spines_and_the_experiment_seed_fill_in(tmp_path: Path) -> None:
    spec = load_experiment(
        _write(
            tmp_path,
            'spines = "all"\nprocess = "poisson"\nstart_ms = 100.0\nstop_ms = 500.0\n'
            "rate_hz = 40.0",
        )
    )
    stim = spec.stimulus[0]
    assert stim.spines == [1, 2]
    assert stim.seed == 3
    times = spec.stimulus_times_ms()
    assert times[1]["ampa"] == poisson_times(stim.model_dump(), 1)
    assert times[1]["ampa"] != times[2]["ampa"]
    assert times[1]["ampa"] == times[1]["nmda"]  # one train per spine, to all its synapses


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'spines = [1]\nprocess = "poisson"\nstart_ms = 100.0\nrate_hz = 5.0',
            "stimulus[0]: a Poisson train: start_ms, rate_hz and stop_ms (and a seed)",
        ),
        (
            'spines = [1]\nprocess = "poisson"\nstart_ms = 100.0\nstop_ms = 900.0\nrate_hz = 5.0',
            "start_ms < stop_ms, after the equilibration and within the run",
        ),
        (
            "spines = [1]\nstart_ms = 100.0\nrate_hz = 5.0\ncount = 2\nstop_ms = 300.0",
            "either a train (start_ms, rate_hz and count) or times_ms",
        ),
        (
            'spines = "some"\ntimes_ms = [200.0]',
            "stimulus[0].spines",
        ),
    ],
)
def test_a_stimulus_that_does_not_say_when_is_refused(
    tmp_path: Path, table: str, message: str
) -> None:
    with pytest.raises(ExperimentError) as err:
        load_experiment(_write(tmp_path, table))
    assert message in str(err.value)
