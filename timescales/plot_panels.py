"""The panels the figures of `timescales.plots` are made of, each drawn on a given Axes from
a `Results`, and what they read of it (inputs, windows and exchanges per spine)."""

from __future__ import annotations

import numpy as np
from matplotlib import ticker
from matplotlib.axes import Axes

from .results import Results

WINDOW_COLOR = "tab:orange"
TICK_HEIGHT = 0.08
#: Room left above (or below) a trace for the ticks, as a fraction of its range.
TICK_ROOM = 0.15
#: More exchanges than this in one row (lockstep, fixed intervals) are drawn as a band from
#: the first to the last: ticks that close merge anyway, and a vector file stays small.
MAX_TICKS = 20_000


def stimulated(r: Results) -> list[int]:
    """The spines that receive inputs, in number order."""
    return sorted(r.stimulus_times_ms())


def inputs_of(r: Results, spine: int) -> list[float]:
    """The input times of a spine (ms), all its synapses merged."""
    by_synapse = r.stimulus_times_ms().get(spine, {})
    return sorted({t for times in by_synapse.values() for t in times})


def windows_of(r: Results, spine: int) -> list[tuple[float, float]]:
    """(open, close) of the spine's windows in ms, a window open at the end closed there."""
    w, end = r.windows, r.reached_ms()
    return [
        (float(t0), float(t1) if np.isfinite(t1) else end)
        for s, t0, t1 in zip(w["spine"], w["open_ms"], w["close_ms"], strict=True)
        if s in (spine, -1)
    ]


def couplings_of(r: Results, spine: int) -> list[str]:
    """The windowed couplings of a spine (its calcium), by the windows' spine column."""
    w = r.windows
    return sorted({str(c) for s, c in zip(w["spine"], w["coupling"], strict=True) if s == spine})


def exchange_times(r: Results, coupling: str) -> np.ndarray:
    """Times (ms) of every exchange of a coupling; empty if the file has no /exchanges."""
    ex = r.exchanges
    if "time_ms" not in ex:
        return np.zeros(0)
    return ex["time_ms"][ex["coupling"] == coupling]


def has_exchanges(r: Results) -> bool:
    return "time_ms" in r.exchanges and r.exchanges["time_ms"].size > 0


def shade_windows(ax: Axes, spans: list[tuple[float, float]], color: str = WINDOW_COLOR) -> None:
    for t0, t1 in spans:
        ax.axvspan(t0, t1, color=color, alpha=0.2, lw=0)


def ticks(ax: Axes, times: np.ndarray | list[float], top: bool, color: str, label: str) -> None:
    """Short vertical ticks at `times` along the top or the bottom of the axes."""
    low = 1.0 - TICK_HEIGHT if top else 0.0
    transform = ax.get_xaxis_transform()
    if len(times) > MAX_TICKS:
        ax.fill_between(
            [times[0], times[-1]],
            low,
            low + TICK_HEIGHT,
            transform=transform,
            color=color,
            lw=0,
            label=label,
        )
        return
    ax.vlines(times, low, low + TICK_HEIGHT, transform=transform, color=color, lw=0.6, label=label)


def room_for_ticks(ax: Axes, top: bool) -> None:
    """Widen the y range so that ticks along the top (or bottom) do not cover the traces."""
    low, high = ax.get_ylim()
    extra = TICK_ROOM * (high - low)
    ax.set_ylim(low, high + extra) if top else ax.set_ylim(low - extra, high)


def soma_panel(ax: Axes, r: Results) -> str:
    """Soma voltage (mV) with the inputs of each stimulated spine as ticks along the top;
    returns what the marks mean."""
    ax.plot(r.time_ms, r.soma_v_mV, color="k", lw=0.7)
    for k, spine in enumerate(stimulated(r)[:10]):
        ticks(ax, inputs_of(r, spine), True, f"C{k}", f"inputs, spine {spine}")
    ax.set_ylabel("soma V (mV)")
    room_for_ticks(ax, top=True)
    return "ticks: inputs"


def calcium_panel(ax: Axes, r: Results, spines: list[int]) -> str:
    """Head calcium (µM) of `spines`, their windows shaded, a tick at each of their exchanges;
    returns what the marks mean."""
    for k, spine in enumerate(spines):
        column = int(np.flatnonzero(r.spines == spine)[0])
        shade_windows(ax, windows_of(r, spine))
        ax.plot(
            r.time_ms, r.calcium_mM[:, column] * 1e3, color=f"C{k}", lw=0.7, label=f"spine {spine}"
        )
        for coupling in couplings_of(r, spine):
            ticks(ax, exchange_times(r, coupling), True, f"C{k}", f"exchanges {coupling}")
    ax.set_ylabel("head Ca (µM)" if len(spines) > 1 else f"spine {spines[0]}\nhead Ca (µM)")
    room_for_ticks(ax, top=True)
    return "shaded: windows; ticks: exchanges" if has_exchanges(r) else "shaded: windows"


def weights_panel(ax: Axes, r: Results, spines: list[int]) -> str:
    """Each spine's weight as held between syncs, a mark at every sample, inputs as ticks
    along the bottom; returns what the marks mean."""
    for k, spine in enumerate(spines):
        column = int(np.flatnonzero(r.biochem_spines == spine)[0])
        ax.plot(
            r.biochem_time_ms,
            r.weight[:, column],
            drawstyle="steps-post",
            color=f"C{k}",
            lw=0.7,
            marker=".",
            ms=2.5,
            label=f"spine {spine}",
        )
        ticks(ax, inputs_of(r, spine), False, f"C{k}", f"inputs, spine {spine}")
    ax.set_ylabel("weight")
    room_for_ticks(ax, top=False)
    return "dots: samples; ticks: inputs"


def weight_spines(r: Results) -> list[int]:
    """The spines whose weights are drawn: the stimulated ones with a model, else all."""
    chosen = [int(s) for s in r.biochem_spines if s in set(stimulated(r))]
    return chosen or [int(s) for s in r.biochem_spines]


def exchange_raster(ax: Axes, r: Results, couplings: list[str]) -> None:
    """A row per coupling, a tick at each of its exchanges, its windows shaded behind."""
    w = r.windows
    end = r.reached_ms()
    for row, coupling in enumerate(couplings):
        for t0, t1 in zip(
            w["open_ms"][w["coupling"] == coupling],
            w["close_ms"][w["coupling"] == coupling],
            strict=True,
        ):
            ax.axvspan(
                t0,
                t1 if np.isfinite(t1) else end,
                (row + 0.1) / len(couplings),
                (row + 0.9) / len(couplings),
                color=WINDOW_COLOR,
                alpha=0.3,
                lw=0,
            )
        times = exchange_times(r, coupling)
        if times.size > MAX_TICKS:
            ax.fill_between([times[0], times[-1]], row - 0.35, row + 0.35, color="k", lw=0)
        else:
            ax.vlines(times, row - 0.35, row + 0.35, color="k", lw=0.5)
    ax.set_ylim(-0.5, len(couplings) - 0.5)
    ax.set_yticks(range(len(couplings)), couplings)


def interval_panel(ax: Axes, r: Results, couplings: list[str]) -> None:
    """The interval (ms) from each exchange to the previous one of the same window, log scale:
    the adaptive interval of each windowed coupling; dotted, the event strategy's shortest
    and longest interval."""
    w = r.windows
    end = r.reached_ms()
    for k, coupling in enumerate(couplings):
        times = exchange_times(r, coupling)
        mine = w["coupling"] == coupling
        for t0, t1 in zip(w["open_ms"][mine], w["close_ms"][mine], strict=True):
            inside = times[(times >= t0) & (times <= (t1 if np.isfinite(t1) else end))]
            if inside.size > 1:
                ax.plot(
                    inside[1:],
                    np.diff(inside),
                    color=f"C{k}",
                    lw=0.7,
                    marker=".",
                    ms=3,
                    label=coupling if t0 == w["open_ms"][mine][0] else None,
                )
    bounds = r.experiment.get("coupling", {})
    if bounds.get("mode") == "event":
        for key in ("min_interval_ms", "max_interval_ms"):
            ax.axhline(bounds[key], color="0.5", lw=0.5, ls=":")
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_ylabel("interval (ms)")
