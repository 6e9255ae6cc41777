"""Plots: a synthetic results file gives the four non-empty PNG figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import ROOT
from timescales.experiment import load_experiment
from timescales.plots import plot_results
from timescales.results import Results, ResultsWriter
from timescales.scheduler import WindowRecord

PNG = b"\x89PNG\r\n\x1a\n"


def _synthetic(path: Path, *, complete: bool = True) -> Path:
    """The demo's spec with made-up traces: calcium bumps at each input, a rising weight."""
    spec = load_experiment(ROOT / "examples" / "demo.toml")
    times = spec.stimulus_times_ms()[1]["ampa"]
    t = np.arange(0.0, spec.t_end_ms, 1.0)
    bumps = sum(np.where(t >= s, np.exp(-(t - s) / 20.0), 0.0) for s in times)
    calcium = np.column_stack([1e-4 + 1e-3 * bumps, np.full_like(t, 1e-4)])
    w = ResultsWriter(path, spec.to_dict(), {}, spines=[1, 2], biochem_spines=[1])
    for block in np.array_split(np.arange(t.size), 4):
        w.append_samples(t[block], -85.0 + 10.0 * bumps[block], calcium[block])
    for k, s in enumerate(times):
        w.append_biochem(s + 30.0, np.array([100.0 + k]), np.array([1.0 + 0.01 * k]))
    w.write_windows([WindowRecord("ca1", s, s + 30.0, 5) for s in times], {"ca1": 1})
    w.write_windows([WindowRecord("ca1", times[-1] + 100.0)], {"ca1": 1})
    w.close("complete" if complete else "interrupted")
    return path


def test_plots_are_written_as_non_empty_pngs(tmp_path: Path) -> None:
    paths = plot_results(_synthetic(tmp_path / "r.h5"), tmp_path / "figs")
    assert [p.name for p in paths] == [
        "demo_weights.png",
        "demo_calcium.png",
        "demo_soma_v.png",
        "demo_exchanges.png",
    ]
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(PNG)
        assert len(data) > 5000


def test_plots_accept_results_and_skip_missing_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.h5"
    ResultsWriter(path, {"experiment": {"name": "empty"}}, {}).close("interrupted")
    assert plot_results(Results.open(path), tmp_path) == []
    partial = Results.open(_synthetic(tmp_path / "p.h5", complete=False))
    assert len(plot_results(partial, tmp_path / "p")) == 4
