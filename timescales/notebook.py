"""A results file for notebook analysis: an xarray Dataset, a pandas table of the windows,
and the short HTML summary Jupyter shows for a `Results`.

xarray and pandas are optional (the `notebook` extra); they are imported when asked for.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from .optional import require
from .results import LAYOUT

if TYPE_CHECKING:
    import pandas
    import xarray

    from .results import Results


def to_xarray(r: Results) -> xarray.Dataset:
    """One Dataset: soma voltage and spine calcium along `time`, weights and the biochemical
    output along `sync_time`, each spine a value of `spine` (the union of the calcium and the
    biochemical spines; NaN where a spine has no such column); `units` and `description`
    attributes as in the results file, the experiment and provenance as JSON attributes."""
    xr = require("xarray", "xarray", "notebook", "Results.to_xarray")
    spines = np.union1d(r.spines, r.biochem_spines).astype("i8")
    sampled, synced = ("time", "spine"), ("sync_time", "spine")
    data = {
        "soma_v": (("time",), r.soma_v_mV, _attrs("soma_v_mV")),
        "calcium": (sampled, _on(spines, r.spines, r.calcium_mM), _attrs("spines/calcium_mM")),
        "weight": (synced, _on(spines, r.biochem_spines, r.weight), _attrs("biochem/weight")),
        "output": (
            synced,
            _on(spines, r.biochem_spines, r.output),
            _attrs("biochem/output", r.output_unit),
        ),
    }
    coords = {
        "time": ("time", r.time_ms, _attrs("time_ms")),
        "sync_time": ("sync_time", r.biochem_time_ms, _attrs("biochem/time_ms")),
        "spine": ("spine", spines, {"units": "dimensionless", "description": "spine number"}),
    }
    attrs = {
        "name": _name(r),
        "status": r.status,
        "experiment": json.dumps(r.experiment),
        "provenance": json.dumps(r.provenance),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def windows_frame(r: Results) -> pandas.DataFrame:
    """The coupled windows, one row each: spine, coupling, open_ms, close_ms (NaN: open at
    the end), duration_ms, exchanges, delivered_mM."""
    pd = require("pandas", "pandas", "notebook", "Results.windows_frame")
    w = r.windows
    columns = {
        "spine": w.get("spine", np.zeros(0, dtype="i8")),
        "coupling": w.get("coupling", np.zeros(0, dtype=object)),
        "open_ms": w.get("open_ms", np.zeros(0)),
        "close_ms": w.get("close_ms", np.zeros(0)),
        "exchanges": w.get("exchanges", np.zeros(0, dtype="i8")),
        "delivered_mM": w.get("delivered", np.zeros(0)),
    }
    frame = pd.DataFrame(columns)
    frame.insert(4, "duration_ms", frame["close_ms"] - frame["open_ms"])
    frame.index.name = "window"
    return frame


def html_summary(r: Results) -> str:
    """A short HTML table: experiment, status, spines, windows and exchanges, final weights."""
    weights = r.final_weights()
    shown = ", ".join(f"{spine}: {w:.4g}" for spine, w in list(weights.items())[:12])
    more = f" … ({len(weights)} spines)" if len(weights) > 12 else ""
    span = f"{r.time_ms[0]:g}–{r.time_ms[-1]:g} ms" if r.time_ms.size else "no samples"
    rows = [
        ("experiment", _name(r)),
        ("status", r.status),
        ("simulated", span),
        ("spines", f"{r.spines.size} recorded, {r.biochem_spines.size} with a model"),
        ("windows", f"{r.windows.get('open_ms', np.zeros(0)).size}"),
        ("exchanges", f"{r.exchanges.get('time_ms', np.zeros(0)).size}"),
        ("final weights", (shown + more) or "none"),
    ]
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
        f"{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table><caption>{html.escape(str(r.path))}</caption>{body}</table>"


def _name(r: Results) -> str:
    return str(r.experiment.get("experiment", {}).get("name") or r.path.stem)


def _attrs(path: str, units: str | None = None) -> dict[str, Any]:
    unit, description = LAYOUT[path]
    return {"units": units or unit, "description": description}


def _on(spines: np.ndarray, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` (rows x len(columns)) spread onto the `spines` axis, NaN elsewhere."""
    out = np.full((values.shape[0], spines.size), np.nan)
    out[:, np.searchsorted(spines, columns)] = values
    return out
