"""Plots: a synthetic results file gives the four non-empty PNG figures."""

from __future__ import annotations

from pathlib import Path

from synthetic_results import synthetic
from timescales.plots import plot_results
from timescales.results import Results, ResultsWriter

PNG = b"\x89PNG\r\n\x1a\n"


def test_plots_are_written_as_non_empty_pngs(tmp_path: Path) -> None:
    paths = plot_results(synthetic(tmp_path / "r.h5"), tmp_path / "figs")
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
    partial = Results.open(synthetic(tmp_path / "p.h5", complete=False))
    assert len(plot_results(partial, tmp_path / "p")) == 4
