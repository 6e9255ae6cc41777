"""The figure of a parameter sweep: the final and peak weights against the swept value."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from matplotlib.figure import Figure

from .errors import ConfigError
from .experiment.sweep import RESULT_COLUMNS
from .plots import COLUMN_IN, FORMATS, PNG_DPI, paper_style

#: Columns of sweep.csv that are not varied keys.
_FIXED = {"point", *RESULT_COLUMNS}


def plot_sweep(folder: str | Path, out_dir: str | Path, fmt: str = "png") -> list[Path]:
    """`sweep_weights.<fmt>`: mean final weight (min to max as a band) and, dashed, the peak
    weight against the first varied key, one line per value of the second; points that did
    not complete are left out."""
    if fmt not in FORMATS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    path = Path(folder) / "sweep.csv"
    with path.open(newline="") as stream:
        reader = csv.DictReader(stream)
        keys = [c for c in reader.fieldnames or () if c not in _FIXED]
        rows = [r for r in reader if r["status"] == "complete"]
    if not keys or not rows:
        raise ConfigError("sweep", "a sweep.csv with a varied key and a complete point", str(path))
    x_key, group_key = keys[0], (keys[1] if len(keys) > 1 else None)
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row[group_key] if group_key else "", []).append(row)
    with paper_style():
        fig = Figure(figsize=(COLUMN_IN, 2.6), layout="constrained")
        ax = fig.add_subplot()
        for label, members in groups.items():
            members.sort(key=lambda r: _number(r[x_key]))
            x = [_number(r[x_key]) for r in members]
            mean = [float(r["mean_weight"]) for r in members]
            lo = [float(r["min_weight"]) for r in members]
            hi = [float(r["max_weight"]) for r in members]
            name = f"{group_key.split('.')[-1]} = {label}" if group_key else None
            line = ax.plot(x, mean, marker="o", label=name)[0]
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
            if all(r.get("peak_weight") for r in members):
                peak = [float(r["peak_weight"]) for r in members]
                ax.plot(x, peak, linestyle="--", marker=".", color=line.get_color())
        ax.set_xlabel(x_key)
        ax.set_ylabel("weight")
        title = f"{len(rows)} points; final: mean, band min to max over spines; dashed: peak"
        ax.set_title(title, fontsize="small")
        if group_key:
            ax.legend(fontsize="small")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"sweep_weights.{fmt}"
        fig.savefig(target, format=fmt, dpi=PNG_DPI)
    return [target]


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan
