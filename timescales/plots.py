"""The standard figures of a results file, sized for a paper's column (3.5 in wide).

`summary`: soma voltage, spine calcium with the windows shaded and a tick at every exchange,
weights with a mark at every sample and the inputs marked, on one time axis. Besides it,
one figure each for the weights, the calcium, the soma voltage and the exchanges (a tick at
every exchange of every coupling, and the interval between a window's exchanges, which
shows the adaptive interval). Figures are built on matplotlib's object API (no pyplot state
or global backend is touched) and written as PNG, SVG or PDF; figures whose data the file
does not hold are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import plot_panels as panels
from .results import Results

FORMATS = ("png", "svg", "pdf")
#: A paper's column, in inches, and the resolution of the PNGs.
COLUMN_IN = 3.5
PNG_DPI = 300
MAX_CALCIUM_PANELS = 6
MAX_SUMMARY_SPINES = 3
MAX_RASTER_ROWS = 12
STYLE = {
    "font.size": 7,
    "axes.titlesize": 7,
    "axes.labelsize": 7,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "legend.fontsize": 6,
    "figure.titlesize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def figures(r: Results) -> dict[str, Figure]:
    """The figures the file's data allow, by name (summary, weights, calcium, soma_v,
    exchanges)."""
    drawn: dict[str, Figure] = {}
    name = r.experiment.get("experiment", {}).get("name") or r.path.stem
    draw: dict[str, tuple[str, Callable[[Results], Figure | None]]] = {
        "summary": ("summary", _summary),
        "weights": ("synaptic weights", _weights),
        "calcium": ("spine-head calcium", _calcium),
        "soma_v": ("soma voltage", _soma_v),
        "exchanges": ("exchanges", _exchanges),
    }
    with paper_style():
        for stem, (title, make) in draw.items():
            fig = make(r)
            if fig is not None:
                fig.suptitle(f"{name}: {title}{_status_note(r)}")
                drawn[stem] = fig
    return drawn


def plot_results(
    results: str | Path | Results, out_dir: str | Path, fmt: str = "png"
) -> list[Path]:
    """Write the figures as `<name>_<figure>.<fmt>` into `out_dir`; return their paths."""
    if fmt not in FORMATS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    r = results if isinstance(results, Results) else Results.open(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = r.experiment.get("experiment", {}).get("name") or r.path.stem
    written = []
    with paper_style():
        for stem, fig in figures(r).items():
            path = out / f"{name}_{stem}.{fmt}"
            fig.savefig(path, format=fmt, dpi=PNG_DPI)
            written.append(path)
    return written


@contextmanager
def paper_style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):
        yield


def _status_note(r: Results) -> str:
    return "" if r.status == "complete" else f" (run {r.status})"


def _figure(height_in: float) -> Figure:
    return Figure(figsize=(COLUMN_IN, height_in), layout="constrained")


def _summary(r: Results) -> Figure | None:
    if r.time_ms.size == 0:
        return None
    shown = [s for s in panels.stimulated(r) if s in set(r.spines.tolist())]
    shown = shown[:MAX_SUMMARY_SPINES]
    weighted = panels.weight_spines(r)[:MAX_SUMMARY_SPINES] if r.biochem_time_ms.size else []
    rows = 1 + bool(shown) + bool(weighted)
    fig = _figure(1.3 * rows + 0.5)
    axes = list(fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0])
    _note(axes[0], "soma voltage", panels.soma_panel(axes[0], r))
    if shown:
        _note(axes[1], "spine-head calcium", panels.calcium_panel(axes[1], r, shown))
        if len(shown) > 1:
            _legend(axes[1], "center right")
    if weighted:
        _note(axes[-1], "synaptic weights", panels.weights_panel(axes[-1], r, weighted))
    axes[-1].set_xlabel("time (ms)")
    return fig


def _note(ax: Axes, what: str, marks: str) -> None:
    """A small title over a panel: what it shows and what its marks mean."""
    ax.set_title(f"{what}; {marks}" if what else marks, loc="left")


def _weights(r: Results) -> Figure | None:
    if r.biochem_time_ms.size == 0:
        return None
    fig = _figure(2.2)
    ax = fig.add_subplot()
    _note(ax, "", panels.weights_panel(ax, r, panels.weight_spines(r)))
    ax.set_xlabel("time (ms)")
    _legend(ax, "upper left")
    return fig


def _calcium(r: Results) -> Figure | None:
    if r.time_ms.size == 0 or r.spines.size == 0:
        return None
    stim = set(panels.stimulated(r))
    order = sorted(r.spines.tolist(), key=lambda s: (s not in stim, s))
    shown = order[:MAX_CALCIUM_PANELS]
    fig = _figure(1.1 * len(shown) + 0.6)
    axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    for ax, spine in zip(axes, shown, strict=True):
        marks = panels.calcium_panel(ax, r, [spine])
    more = f"{len(shown)} of {len(order)} recorded spines; " if len(order) > len(shown) else ""
    _note(axes[0], "", more + marks)
    axes[-1].set_xlabel("time (ms)")
    return fig


def _soma_v(r: Results) -> Figure | None:
    if r.time_ms.size == 0 or np.isnan(r.soma_v_mV).all():
        return None
    fig = _figure(2.2)
    ax = fig.add_subplot()
    _note(ax, "", panels.soma_panel(ax, r))
    ax.set_xlabel("time (ms)")
    return fig


def _exchanges(r: Results) -> Figure | None:
    if r.windows["open_ms"].size == 0 and not panels.has_exchanges(r):
        return None
    if not panels.has_exchanges(r):
        return _window_bars(r)
    labels = sorted(set(r.exchanges["coupling"].tolist()), key=_coupling_order(r))
    shown = labels[:MAX_RASTER_ROWS]
    windowed = [c for c in shown if c in set(r.windows["coupling"].tolist())]
    fig = _figure(0.25 * len(shown) + 1.2 + (1.4 if windowed else 0.0))
    rows = 2 if windowed else 1
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False, height_ratios=[1, 1][:rows])[:, 0]
    panels.exchange_raster(axes[0], r, shown)
    dense = any(panels.exchange_times(r, c).size > panels.MAX_TICKS for c in shown)
    marks = "shaded: windows; bars: too dense to tick" if dense else "shaded: windows"
    _note(axes[0], _exchange_title(r, len(shown), len(labels)), marks)
    axes[0].set_ylabel("coupling")
    if windowed:
        panels.interval_panel(axes[1], r, windowed)
        _note(axes[1], "interval to the window's previous exchange", "dotted: bounds")
        _legend(axes[1], "lower right")
    axes[-1].set_xlabel("time (ms)")
    return fig


def _coupling_order(r: Results) -> Callable[[str], tuple[bool, int, str]]:
    """Couplings of stimulated spines first, by spine, then the rest by label."""
    stim = set(panels.stimulated(r))
    spine_of = {
        str(c): int(s) for s, c in zip(r.windows["spine"], r.windows["coupling"], strict=True)
    }

    def key(label: str) -> tuple[bool, int, str]:
        spine = spine_of.get(label, -1)
        return (spine not in stim, spine, label)

    return key


def _exchange_title(r: Results, shown: int, total: int) -> str:
    n, windows = r.exchanges["time_ms"].size, r.windows["open_ms"].size
    rows = f"; {shown} of {total} couplings" if shown < total else ""
    return f"{_count(n, 'exchange')}, {_count(windows, 'window')}{rows}"


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _window_bars(r: Results) -> Figure:
    """The windows as bars per spine, for a file without exchange times."""
    w = r.windows
    spines = sorted({int(s) for s in w["spine"]})
    fig = _figure(0.3 * len(spines) + 1.2)
    ax = fig.add_subplot()
    end = r.reached_ms()
    for row, spine in enumerate(spines):
        mask = w["spine"] == spine
        close = np.where(np.isfinite(w["close_ms"][mask]), w["close_ms"][mask], end)
        bars = list(zip(w["open_ms"][mask], close - w["open_ms"][mask], strict=True))
        ax.broken_barh(bars, (row - 0.4, 0.8), color="tab:green")
    ax.set_yticks(range(len(spines)), [f"spine {s}" if s >= 0 else "?" for s in spines])
    total = int(w["exchanges"].sum())
    counts = f"{_count(w['open_ms'].size, 'window')}, {_count(total, 'exchange')}"
    _note(ax, counts, "no exchange times in the file")
    ax.set_xlabel("time (ms)")
    return fig


def _legend(ax: Axes, where: str) -> None:
    handles, labels = ax.get_legend_handles_labels()
    keep = [(h, lab) for h, lab in zip(handles, labels, strict=True) if lab.startswith("spine")]
    keep = keep or list(zip(handles, labels, strict=True))
    if 0 < len(keep) <= 10:
        ax.legend(*zip(*keep, strict=True), loc=where, frameon=False)
