"""Figures of a synthetic results file: written in each format and not empty; the summary
and exchange figures draw a tick at every exchange of the file (read here with h5py), a mark
at every weight sample, and the adaptive interval between a window's exchanges."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection

from synthetic_results import EXCHANGE_OFFSETS_MS, synthetic
from timescales import plot_panels
from timescales.cli import main
from timescales.plots import figures, plot_results
from timescales.results import Results, ResultsWriter

MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}
STEMS = ["summary", "weights", "calcium", "soma_v", "exchanges"]


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic(tmp_path_factory.mktemp("plots") / "r.h5")


@pytest.fixture(scope="module")
def stored(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        return {
            "exchange_t": f["exchanges/time_ms"][()],
            "exchange_c": f["exchanges/coupling"].asstr()[()],
            "bio_t": f["biochem/time_ms"][()],
            "weight": f["biochem/weight"][:, 0],
            "open": f["windows/open_ms"][()],
        }


def _segments_x(ax, row_or_top) -> list[float]:
    """x of the vertical ticks of an axes that sit on `row_or_top` (a raster row, or the top)."""
    xs = []
    for collection in ax.collections:
        if isinstance(collection, LineCollection):
            for seg in collection.get_segments():
                if row_or_top(seg[:, 1].mean()):
                    xs.append(float(seg[0, 0]))
    return sorted(xs)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_figures_are_written_in_each_format(tmp_path: Path, path: Path, fmt: str) -> None:
    paths = plot_results(path, tmp_path, fmt)
    assert [p.name for p in paths] == [f"demo_{stem}.{fmt}" for stem in STEMS]
    for p in paths:
        data = p.read_bytes()
        assert data.startswith(MAGIC[fmt])
        assert len(data) > 5000


def test_figures_fit_a_papers_column(path: Path) -> None:
    for fig in figures(Results.open(path)).values():
        assert fig.get_figwidth() == pytest.approx(3.5)


def test_summary_ticks_every_exchange_and_marks_every_weight_sample(path: Path, stored) -> None:
    soma, calcium, weights = figures(Results.open(path))["summary"].axes
    assert soma.get_ylabel() == "soma V (mV)"
    ticks = _segments_x(calcium, lambda y: y > 0.5)  # along the top, in axes coordinates
    np.testing.assert_array_equal(
        ticks, np.sort(stored["exchange_t"][stored["exchange_c"] == "ca1"])
    )
    [line] = weights.get_lines()
    assert line.get_marker() == "."
    assert line.get_drawstyle() == "steps-post"
    np.testing.assert_array_equal(line.get_xdata(), stored["bio_t"])
    np.testing.assert_array_equal(line.get_ydata(), stored["weight"])
    inputs = _segments_x(weights, lambda y: y < 0.5)
    assert inputs == Results.open(path).stimulus_times_ms()[1]["ampa"]
    assert calcium.patches  # the windows, shaded


def test_exchange_figure_shows_each_exchange_and_the_interval(path: Path, stored) -> None:
    raster, intervals = figures(Results.open(path))["exchanges"].axes
    labels = [t.get_text() for t in raster.get_yticklabels()]
    assert labels == ["ca1", "w1"]
    for row, coupling in enumerate(labels):
        on_row = _segments_x(raster, lambda y, row=row: abs(y - row) < 0.5)
        np.testing.assert_array_equal(
            on_row, np.sort(stored["exchange_t"][stored["exchange_c"] == coupling])
        )
    expected = np.diff(EXCHANGE_OFFSETS_MS)
    drawn = [line.get_ydata() for line in intervals.get_lines() if line.get_marker() == "."]
    assert len(drawn) == stored["open"].size - 1  # the last window holds no exchanges
    for y in drawn:
        np.testing.assert_array_equal(y, expected)
    assert intervals.get_yscale() == "log"


def test_dense_exchanges_are_a_band(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plot_panels, "MAX_TICKS", 3)
    raster, _ = figures(Results.open(path))["exchanges"].axes
    assert not any(isinstance(c, LineCollection) for c in raster.collections)
    assert sum(isinstance(c, PolyCollection) for c in raster.collections) == 2
    assert raster.get_title(loc="left").endswith("bars: too dense to tick")


def test_a_file_without_exchange_times_gets_window_bars(tmp_path: Path, path: Path) -> None:
    r = Results.open(path)
    r.exchanges = {}
    [ax] = figures(r)["exchanges"].axes
    assert "no exchange times in the file" in ax.get_title(loc="left")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["spine 1"]


def test_plots_accept_results_and_skip_missing_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.h5"
    ResultsWriter(path, {"experiment": {"name": "empty"}}, {}).close("interrupted")
    assert plot_results(Results.open(path), tmp_path) == []
    partial = Results.open(synthetic(tmp_path / "p.h5", complete=False))
    written = plot_results(partial, tmp_path / "p")
    assert len(written) == len(STEMS)
    assert figures(partial)["summary"].get_suptitle() == "demo: summary (run interrupted)"


def test_plot_command_takes_a_format(tmp_path: Path, path: Path, capsys) -> None:
    assert main(["plot", str(path), "-o", str(tmp_path / "f"), "--format", "svg"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "f" / f"demo_{stem}.svg") for stem in STEMS]
