"""Standard figures of a results file, written as PNGs without a display.

Figures are built on matplotlib's object API with the Agg canvas, so no pyplot state or
global backend is touched. Figures whose data the file does not hold are skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .results import Results

MAX_CALCIUM_PANELS = 6


def plot_results(results: str | Path | Results, out_dir: str | Path) -> list[Path]:
    """Write weight, calcium, soma-voltage and exchange-timeline PNGs; return their paths."""
    r = results if isinstance(results, Results) else Results.open(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = r.experiment.get("experiment", {}).get("name") or r.path.stem
    written = []
    for stem, draw in (
        ("weights", _weights),
        ("calcium", _calcium),
        ("soma_v", _soma_v),
        ("exchanges", _exchanges),
    ):
        fig = draw(r)
        if fig is None:
            continue
        fig.suptitle(f"{name}: {stem.replace('_', ' ')}" + _status_note(r))
        path = out / f"{name}_{stem}.png"
        FigureCanvasAgg(fig).print_png(str(path))
        written.append(path)
    return written


def _status_note(r: Results) -> str:
    return "" if r.status == "complete" else f" (run {r.status})"


def _stimulated(r: Results) -> list[int]:
    return sorted(r.stimulus_times_ms())


def _weights(r: Results) -> Figure | None:
    if r.biochem_time_ms.size == 0:
        return None
    stimulated = set(_stimulated(r))
    columns = [i for i, s in enumerate(r.biochem_spines) if s in stimulated]
    columns = columns or list(range(len(r.biochem_spines)))
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.add_subplot()
    for i in columns:
        ax.plot(r.biochem_time_ms, r.weight[:, i], label=f"spine {r.biochem_spines[i]}")
    ax.set(xlabel="time (ms)", ylabel="synaptic weight")
    _legend(ax, len(columns))
    return fig


def _windows_of(r: Results, spine: int) -> list[tuple[float, float]]:
    w = r.windows
    end = float(r.time_ms[-1]) if r.time_ms.size else np.nan
    spans = []
    for s, t0, t1 in zip(w["spine"], w["open_ms"], w["close_ms"], strict=True):
        if s in (spine, -1):
            spans.append((float(t0), float(t1) if np.isfinite(t1) else end))
    return spans


def _calcium(r: Results) -> Figure | None:
    if r.time_ms.size == 0 or r.spines.size == 0:
        return None
    stimulated = _stimulated(r)
    order = sorted(range(len(r.spines)), key=lambda i: (r.spines[i] not in stimulated, i))
    shown = order[:MAX_CALCIUM_PANELS]
    fig = Figure(figsize=(8, 1.8 * len(shown) + 0.8), layout="constrained")
    axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
    for ax, i in zip(axes, shown, strict=True):
        spine = int(r.spines[i])
        for t0, t1 in _windows_of(r, spine):
            ax.axvspan(t0, t1, color="tab:orange", alpha=0.25, lw=0)
        ax.plot(r.time_ms, r.calcium_mM[:, i] * 1e3, color="tab:blue", lw=0.8)
        ax.set_ylabel(f"spine {spine}\nCa (µM)")
    axes[-1].set_xlabel("time (ms); shaded: coupled windows")
    if len(order) > len(shown):
        axes[0].set_title(f"{len(shown)} of {len(order)} recorded spines", fontsize="small")
    return fig


def _soma_v(r: Results) -> Figure | None:
    if r.time_ms.size == 0 or np.isnan(r.soma_v_mV).all():
        return None
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(r.time_ms, r.soma_v_mV, color="k", lw=0.8)
    times = r.stimulus_times_ms()
    for k, (spine, by_syn) in enumerate(times.items()):
        inputs = sorted({t for ts in by_syn.values() for t in ts})
        ax.vlines(
            inputs,
            0.97 - 0.03 * (k % 10),
            1.0 - 0.03 * (k % 10),
            transform=ax.get_xaxis_transform(),
            color=f"C{k % 10}",
            lw=0.8,
            label=f"inputs to spine {spine}",
        )
    ax.set(xlabel="time (ms)", ylabel="soma V (mV)")
    _legend(ax, len(times))
    return fig


def _exchanges(r: Results) -> Figure | None:
    w = r.windows
    if w["open_ms"].size == 0:
        return None
    spines = sorted(set(int(s) for s in w["spine"]))
    fig = Figure(figsize=(8, 0.35 * len(spines) + 1.5), layout="constrained")
    ax = fig.add_subplot()
    end = float(r.time_ms[-1]) if r.time_ms.size else float(np.nanmax(w["open_ms"])) + 1.0
    for row, spine in enumerate(spines):
        mask = w["spine"] == spine
        close = np.where(np.isfinite(w["close_ms"][mask]), w["close_ms"][mask], end)
        bars = list(zip(w["open_ms"][mask], close - w["open_ms"][mask], strict=True))
        ax.broken_barh(bars, (row - 0.4, 0.8), color="tab:green")
    ax.set_yticks(range(len(spines)), [f"spine {s}" if s >= 0 else "?" for s in spines])
    total = int(w["exchanges"].sum())
    ax.set(xlabel="time (ms)", title=f"{w['open_ms'].size} windows, {total} exchanges")
    return fig


def _legend(ax: Axes, n: int) -> None:
    if 0 < n <= 10:
        ax.legend(fontsize="small", loc="best")
